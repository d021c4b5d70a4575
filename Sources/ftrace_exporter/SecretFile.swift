import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Reads a secret (the admin token) and refuses files others can read or another user owns,
/// as sshd does. The checks look at the open descriptor, so the file checked is the file read.
enum SecretFile {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Problem(description: "\(path): \(errnoName(errno))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Problem(description: "\(path): \(errnoName(errno))") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw Problem(description: "\(path) is not a regular file") }
        if st.st_mode & 0o077 != 0 {
            throw Problem(description: "\(path) is readable or writable by group or others (mode \(String(st.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        if st.st_uid != 0 && st.st_uid != geteuid() {
            throw Problem(description: "\(path) is owned by uid \(st.st_uid), neither root nor the exporter's user (uid \(geteuid())); chown it")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes += chunk[..<n]
            } else if n == 0 {
                break
            } else if errno != EINTR {
                throw Problem(description: "\(path): \(errnoName(errno))")
            }
            if bytes.count > 64 * 1024 { throw Problem(description: "\(path) is larger than 64 KiB; a token is a short line") }
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { bytes.removeLast() }
        guard !bytes.isEmpty else { throw Problem(description: "\(path) is empty") }
        return bytes
    }
}
