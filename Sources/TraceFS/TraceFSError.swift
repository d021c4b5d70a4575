import Platform

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure at the tracefs door, with the path and the errno behind it.
public struct TraceFSError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// No tracefs mount was found in any of the places searched.
        case notMounted(searched: [String])
        /// The path is a directory but not a tracefs root (no `events/` directory); the
        /// filesystem it is on, named.
        case notTraceFS(filesystem: String)
        /// The path is a file, not the directory tracefs is mounted on.
        case notADirectory
        /// A write to a tree that is not a tracefs mount: captured files are read, never written.
        case notAMount(filesystem: String)
        /// A write to a tracefs the exporter only reads, for the reason given.
        case readOnly(reason: String)
        /// A system call failed.
        case system(errno: Int32)
        /// The file holds more than the reader accepts.
        case tooLarge(limit: Int)
    }

    public var kind: Kind
    public var path: String

    public init(_ kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    public static func system(_ errno: Int32, _ path: String) -> TraceFSError {
        TraceFSError(.system(errno: errno), path: path)
    }

    /// ENOENT: the file is not there (a kernel option missing, an event gone).
    public var isNotFound: Bool { kind == .system(errno: ENOENT) }

    /// EEXIST: what the write makes is there already.
    public var isAlreadyThere: Bool { kind == .system(errno: EEXIST) }

    /// EBUSY: in use; the kernel may let go of it shortly.
    public var isBusy: Bool { kind == .system(errno: EBUSY) }

    public var description: String {
        switch kind {
        case .notMounted(let searched):
            return "tracefs not found (searched \(searched.joined(separator: ", ")) and /proc/mounts); mount it with 'mount -t tracefs nodev /sys/kernel/tracing' or pass --path.tracefs"
        case .notTraceFS(let filesystem) where filesystem == "sysfs":
            return "\(path): tracefs is not mounted there (it is an empty sysfs directory); mount it with 'mount -t tracefs nodev \(path)'"
        case .notTraceFS(let filesystem):
            return "\(path): not tracefs (a directory on \(filesystem) without an events/ directory); tracefs is usually mounted at /sys/kernel/tracing"
        case .notADirectory:
            return "\(path): not a directory; --path.tracefs and tracefs.path name the directory tracefs is mounted on, e.g. /sys/kernel/tracing"
        case .readOnly(let reason):
            return reason
        case .notAMount(let filesystem):
            return "\(path): not a tracefs mount (it is on \(filesystem)): the exporter reads such a tree of captured files but never writes to it"
        case .tooLarge(let limit):
            return "\(path): larger than \(FileReadError.describe(bytes: limit)), the most the exporter reads of such a file"
        case .system(let errno) where errno == EACCES || errno == EPERM:
            return "\(path): \(errnoName(errno)) (\(String(cString: strerror(errno)))): tracefs is root-only; run as root or with CAP_DAC_OVERRIDE (see deploy/README.md), and check that the kernel is not locked down"
        case .system(let errno):
            return "\(path): \(errnoName(errno)) (\(String(cString: strerror(errno))))"
        }
    }
}

/// The C name of an errno, as the kernel documentation and error_log discussions use it.
public func errnoName(_ errno: Int32) -> String {
    switch errno {
    case EPERM: return "EPERM"
    case ENOENT: return "ENOENT"
    case EINTR: return "EINTR"
    case EIO: return "EIO"
    case EBADF: return "EBADF"
    case ENOMEM: return "ENOMEM"
    case EACCES: return "EACCES"
    case EBUSY: return "EBUSY"
    case EEXIST: return "EEXIST"
    case ENOTDIR: return "ENOTDIR"
    case EISDIR: return "EISDIR"
    case EINVAL: return "EINVAL"
    case ENOSPC: return "ENOSPC"
    case EROFS: return "EROFS"
    case ENODEV: return "ENODEV"
    case E2BIG: return "E2BIG"
    case ENOTEMPTY: return "ENOTEMPTY"
    default: return "errno \(errno)"
    }
}
