#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A whole regular file as read, with the owner and mode of the descriptor it came from, so a
/// check on them is about the bytes read, not about whatever is at the path a moment later.
public struct FileContents: Sendable {
    public var bytes: [UInt8]
    public var mode: UInt32
    public var owner: UInt32
}

/// Why a file the exporter reads at start could not be used, in words for the operator.
public struct FileProblem: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The one rule for every file that holds a secret (the admin token, a TLS private key, a web
/// configuration with `basic_auth_users`), the rule sshd has for private keys: a regular file,
/// owned by root or the exporter's user, that group and others can neither read nor write
/// (mode 0600 or 0400). Files that only name other files hold no secret and are not checked.
public enum SecretFile {
    /// A token shorter than this can be guessed online; `openssl rand -hex 32` gives 64.
    public static let minimumTokenLength = 16
    static let maximumTokenBytes = 64 * 1024

    /// What is wrong with the ownership or mode of a file that holds a secret, or nil.
    public static func problem(with file: FileContents, path: String, holding what: String) -> String? {
        if file.mode & 0o077 != 0 {
            return "\(path) holds \(what) and is readable or writable by group or others (mode \(String(file.mode & 0o777, radix: 8))); chmod 600 \(path)"
        }
        if file.owner != 0 && file.owner != geteuid() {
            return "\(path) holds \(what) and is owned by uid \(file.owner), neither root nor the exporter's user (uid \(geteuid())); chown it"
        }
        return nil
    }

    /// Reads the admin API's bearer token: the file's rule, then a token of at least
    /// `minimumTokenLength` bytes once trailing white space is dropped.
    public static func readToken(_ path: String) throws(FileProblem) -> [UInt8] {
        let file = try readRegularFile(path, limit: maximumTokenBytes, what: "a token file (a token is a short line)")
        if let problem = problem(with: file, path: path, holding: "the admin token") { throw FileProblem(problem) }
        var token = file.bytes
        while let last = token.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { token.removeLast() }
        guard !token.isEmpty else { throw FileProblem("\(path) is empty") }
        guard token.count >= minimumTokenLength else {
            throw FileProblem("\(path) holds a token of \(token.count) bytes; the admin token needs at least \(minimumTokenLength) (e.g. openssl rand -hex 32)")
        }
        return token
    }

    /// Reads a whole regular file of at most `limit` bytes, checked on the open descriptor.
    public static func readRegularFile(_ path: String, limit: Int, what: String) throws(FileProblem) -> FileContents {
        func failure(_ doing: String) -> FileProblem { FileProblem("cannot \(doing) \(path): \(String(cString: strerror(errno)))") }
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw failure("read") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure("stat") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw FileProblem("\(path) is not a regular file") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read")
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > limit { throw FileProblem("\(path) is larger than \(describe(bytes: limit)), too large for \(what)") }
        }
        return FileContents(bytes: bytes, mode: UInt32(st.st_mode), owner: UInt32(st.st_uid))
    }

    static func describe(bytes: Int) -> String {
        bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
    }
}
