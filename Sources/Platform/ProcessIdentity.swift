#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The user this process acts as, for checks on the owner of the files it reads.
public func effectiveUserID() -> UInt32 { UInt32(geteuid()) }

/// The C library's text for an errno value (`strerror`).
public func systemErrorText(_ errno: Int32) -> String { String(cString: strerror(errno)) }

/// Writes `line` to standard error in as many `write()`s as it takes; a write that fails (a
/// closed descriptor, a full disk) drops the rest, as a log line must never stop the process.
public func writeToStandardError(_ line: String) {
    var bytes = Array(line.utf8)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
            if n <= 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}
