import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// This host's tracefs for a test: where it is mounted already, that mount; else (or when a
/// mount of the test's own is asked for) tracefs mounted on a fresh directory, unmounted again
/// by `release()`. Nothing in it is changed.
public final class ScratchTraceFS {
    public let path: String
    private var scratch: URL?

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Whether tracefs can be mounted here (root, and a kernel with CONFIG_TRACING).
    public static let canMount: Bool = {
        guard let probe = try? ScratchTraceFS(ownMount: true) else { return false }
        probe.release()
        return true
    }()

    /// `ownMount`: a mount of its own even where tracefs is mounted already; `readOnly`: that
    /// mount read-only (the kernel's tracefs all the same).
    public init(ownMount: Bool = false, readOnly: Bool = false) throws {
        for candidate in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        where !ownMount && !readOnly && FileManager.default.fileExists(atPath: candidate + "/events") {
            path = candidate
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracefs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        guard mount("nodev", dir.path, "tracefs", readOnly ? UInt(MS_RDONLY) : 0, nil) == 0 else {
            let error = errno
            try? FileManager.default.removeItem(at: dir)
            throw Unavailable(description: "cannot mount tracefs at \(dir.path) (errno \(error)); these tests need root and CONFIG_TRACING")
        }
        scratch = dir
        path = dir.path
    }

    public func release() {
        guard let scratch else { return }
        umount(scratch.path)
        try? FileManager.default.removeItem(at: scratch)
        self.scratch = nil
    }
}
