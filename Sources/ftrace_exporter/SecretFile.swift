import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Reads a secret (the admin token) and refuses files others can read, as sshd does.
enum SecretFile {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) throws -> [UInt8] {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw Problem(description: "\(path): \(errnoName(errno))")
        }
        if st.st_mode & 0o077 != 0 {
            throw Problem(description: "\(path) is readable or writable by group or others (mode \(String(st.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        var bytes = try TraceFS(root: "/").readAbsolute(path)
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { bytes.removeLast() }
        guard !bytes.isEmpty else { throw Problem(description: "\(path) is empty") }
        return bytes
    }
}
