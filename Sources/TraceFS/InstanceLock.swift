#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One exporter per tracefs instance. Two exporters on one instance would each take the other's
/// trigger sets for their own, and whichever stopped first would remove them from under the
/// other. The lock is `flock` on the instance's own directory in tracefs (the tracefs root for
/// the top level): tracefs is one filesystem however often and in whichever namespaces it is
/// mounted, so a container and the host see the same lock, and the kernel drops it when its
/// holder dies, so a crash leaves nothing stale. A named instance is made to hold the lock and
/// kept while the exporter runs.
public final class InstanceLock: @unchecked Sendable {
    private let fd: Int32
    /// The directory locked, relative to the tracefs root.
    public let directory: String

    private init(fd: Int32, directory: String) {
        self.fd = fd
        self.directory = directory
    }

    deinit { close(fd) }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable {
            /// Another process holds the lock; who it is, when /proc/locks and /proc/PID say.
            case held(pid: Int32?, command: String?)
            case system(TraceFSError)
        }

        public var kind: Kind
        public var instance: TraceInstance
        public var root: String

        /// Another exporter holds the instance (as opposed to a tracefs this one cannot write).
        public var isHeld: Bool {
            if case .held = kind { return true }
            return false
        }

        public var description: String {
            switch kind {
            case .held(let pid, let command):
                let owner: String
                if let pid, pid > 0 {
                    owner = "process \(pid)" + (command.map { " (\($0))" } ?? "")
                } else {
                    owner = "a process this one cannot see (another pid namespace, e.g. a container)"
                }
                return "the \(instance) of \(root) is in use by another exporter, \(owner): one exporter manages an instance, or each would remove the other's trigger sets. Stop that one, or give this one its own instance (instance: in the configuration)"
            case .system(let error):
                return "cannot lock the \(instance) of \(root): \(error)"
            }
        }
    }

    /// Takes the lock of `instance`, making a named instance first; fails at once when another
    /// process holds it.
    public static func acquire(in tracefs: TraceFS, instance: TraceInstance) throws(Failure) -> InstanceLock {
        let directory: String
        switch instance {
        case .topLevel: directory = ""
        case .named(let name): directory = "instances/\(name)"
        }
        func failure(_ kind: Failure.Kind) -> Failure { Failure(kind: kind, instance: instance, root: tracefs.root) }
        let path = tracefs.path(directory)
        // An instance removed and made again between open and flock would leave the lock on a
        // directory no longer in tracefs: lock, then check that the path still names it.
        for _ in 0..<3 {
            if !directory.isEmpty && !tracefs.exists(directory) {
                do {
                    try tracefs.makeDirectory(directory)
                } catch where error.kind == .system(errno: EEXIST) {
                } catch {
                    throw failure(.system(error))
                }
            }
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT { continue }
                throw failure(.system(.system(errno, path)))
            }
            var locked: Int32
            repeat { locked = flock(fd, LOCK_EX | LOCK_NB) } while locked != 0 && errno == EINTR
            if locked != 0 {
                let lockErrno = errno
                var st = stat()
                let identity = fstat(fd, &st) == 0 ? FileIdentity(st) : nil
                close(fd)
                if lockErrno == EWOULDBLOCK, let identity {
                    let pid = FileLockTable.flockHolder(of: identity)
                    throw failure(.held(pid: pid, command: pid.flatMap(commandLine(of:))))
                }
                throw failure(.system(.system(lockErrno, path)))
            }
            var held = stat(), current = stat()
            if fstat(fd, &held) == 0, stat(path, &current) == 0, FileIdentity(held) == FileIdentity(current) {
                return InstanceLock(fd: fd, directory: directory)
            }
            close(fd)
        }
        throw failure(.system(.system(ESTALE, path)))
    }

    /// `/proc/PID/cmdline` with spaces for its NUL separators; nil when unreadable.
    static func commandLine(of pid: Int32) -> String? {
        guard let bytes = try? SystemCalls.readWholeFile("/proc/\(pid)/cmdline", limit: 64 * 1024), !bytes.isEmpty else { return nil }
        let text = String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).trimmingTrailingSpaces()
        return text.count > 200 ? String(text.prefix(200)) + "..." : text
    }
}

/// A file as the kernel's lock table names it: device major and minor, inode.
struct FileIdentity: Equatable {
    var major: UInt64
    var minor: UInt64
    var inode: UInt64

    init(major: UInt64, minor: UInt64, inode: UInt64) {
        self.major = major
        self.minor = minor
        self.inode = inode
    }

    /// glibc's `gnu_dev_major` and `gnu_dev_minor`, which Swift does not import.
    init(_ st: stat) {
        let dev = UInt64(st.st_dev)
        self.init(major: ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF), minor: (dev & 0xFF) | ((dev >> 12) & ~0xFF), inode: UInt64(st.st_ino))
    }
}

/// `/proc/locks`: one line per lock, `1: FLOCK  ADVISORY  WRITE 1879 00:0d:1240346 0 EOF`;
/// waiters are `1: -> FLOCK ...` and hold nothing.
enum FileLockTable {
    static func flockHolder(of file: FileIdentity, table: String? = nil) -> Int32? {
        let text = table ?? (try? SystemCalls.readWholeFile("/proc/locks", limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]) else { continue }
            let id = fields[5].split(separator: ":")
            guard id.count == 3, let major = UInt64(id[0], radix: 16), let minor = UInt64(id[1], radix: 16), let inode = UInt64(id[2]) else { continue }
            if FileIdentity(major: major, minor: minor, inode: inode) == file { return pid }
        }
        return nil
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
