#if canImport(Glibc)
import Glibc
#endif
import Locking
import Platform
import TraceFS

/// When each time-boxed trigger set is to be removed, in seconds since the epoch (wall clock,
/// so that a deadline means the same after a restart). Every change is written to the state
/// file before it is taken, so a restart that adopts a set finds its deadline.
public final class SetDeadlines: Sendable {
    /// Why a deadline could not be kept.
    public struct SaveError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var error: FileReadError
        public var description: String {
            switch error {
            case .system(let errno): return "cannot write \(path): \(errnoName(errno))"
            case .tooLarge(let limit): return "cannot write \(path): more than \(FileReadError.describe(bytes: limit))"
            }
        }
    }

    /// nil: deadlines live in memory only (`--once`, tests).
    public let path: String?
    private let entries = Locked<[String: Double]>([:])
    private let observer = Locked<(@Sendable () -> Void)?>(nil)

    public init(path: String?) {
        self.path = path
    }

    /// The file for a tracefs instance in a state directory: one per instance, so exporters
    /// with instances of their own can share the directory.
    public static func path(in directory: String, instance: String) -> String {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        return "\(base)/\(instance.isEmpty ? "top-level" : instance).deadlines"
    }

    public var all: [String: Double] { entries.withLock { $0 } }

    public func deadline(of set: String) -> Double? { entries.withLock { $0[set] } }

    /// Sets (or with nil clears) a set's deadline, saved first: when the file cannot be
    /// written nothing changes.
    /// Deadlines are kept to the millisecond, as the file holds them: what a restart reads back
    /// is what this process showed.
    public func set(_ name: String, _ deadline: Double?) throws(SaveError) {
        try update { $0[name] = deadline.map { ($0 * 1000).rounded() / 1000 } }
    }

    /// Keeps only the deadlines `keep` returns true for.
    public func retain(_ keep: (String, Double) -> Bool) throws(SaveError) {
        try update { $0 = $0.filter { keep($0.key, $0.value) } }
    }

    /// `body` runs after every change taken (the expiry timer's wake-up).
    public func onChange(_ body: @escaping @Sendable () -> Void) {
        observer.withLock { $0 = body }
    }

    private func update(_ change: (inout [String: Double]) -> Void) throws(SaveError) {
        let changed = try entries.withLock { current throws(SaveError) -> Bool in
            var next = current
            change(&next)
            guard next != current else { return false }
            if let path {
                do throws(FileReadError) {
                    try FileReplacement.replace(path, with: DeadlinesFile.render(next))
                } catch {
                    throw SaveError(path: path, error: error)
                }
            }
            current = next
            return true
        }
        if changed, let body = observer.withLock({ $0 }) { body() }
    }

    /// Reads the state file into memory (at start). A missing file is no deadline; a file
    /// that cannot be read or parsed is an error, and nothing is taken from it.
    public func load() throws(DeadlinesFile.Problem) {
        guard let path else { return }
        let bytes: [UInt8]
        do throws(FileReadError) {
            bytes = try WholeFile.read(path, limit: DeadlinesFile.sizeLimit)
        } catch .system(let errno) where errno == ENOENT {
            return
        } catch .system(let errno) {
            throw DeadlinesFile.Problem(line: 0, message: "cannot read \(path): \(errnoName(errno))")
        } catch {
            throw DeadlinesFile.Problem(line: 0, message: "\(path) is larger than \(DeadlinesFile.sizeLimit / 1024) KiB")
        }
        do throws(DeadlinesFile.Problem) {
            let parsed = try DeadlinesFile.parse(bytes)
            entries.withLock { $0 = parsed }
        } catch {
            throw DeadlinesFile.Problem(line: error.line, message: "\(path): \(error.message)")
        }
    }
}
