import Platform

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
        if file.owner != 0 && file.owner != effectiveUserID() {
            return "\(path) holds \(what) and is owned by uid \(file.owner), neither root nor the exporter's user (uid \(effectiveUserID())); chown it"
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

    /// Reads a whole regular file of at most `limit` bytes, its type checked on the open descriptor.
    public static func readRegularFile(_ path: String, limit: Int, what: String) throws(FileProblem) -> FileContents {
        let file: FileContents
        do {
            file = try WholeFile.readWithOwnership(path, limit: limit)
        } catch {
            switch error {
            case .system(let errno): throw FileProblem("cannot read \(path): \(systemErrorText(errno))")
            case .tooLarge: throw FileProblem("\(path) is larger than \(FileReadError.describe(bytes: limit)), too large for \(what)")
            }
        }
        guard file.isRegular else { throw FileProblem("\(path) is not a regular file") }
        return file
    }
}
