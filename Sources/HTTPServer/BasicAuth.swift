import CCrypt
import CMicroHTTPD
import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a user table cannot be used.
public struct BasicAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The user whose hash is at fault.
    public var user: String
    public var message: String

    public init(user: String, message: String) {
        self.user = user
        self.message = message
    }

    public var description: String { "user \(user): \(message)" }
}

/// HTTP basic authentication (RFC 7617) against bcrypt password hashes, as in Prometheus'
/// `basic_auth_users`.
///
/// - Hashes are checked with the system's libcrypt (libxcrypt `crypt_rn`, the stored hash as
///   setting) and the result compared in constant time. `$2y$`, `$2b$` and `$2a$` hashes are
///   accepted (htpasswd -B writes `$2y$`, Python's bcrypt `$2b$`).
/// - An unknown user costs the same bcrypt computation as a known one (against a hash made at
///   start with the highest cost in the table), so timing does not tell which users exist.
/// - bcrypt is slow on purpose: successful checks are remembered for `cacheLifetime` seconds,
///   keyed by an HMAC-SHA256 (with a random key of this process) of user, stored hash and
///   password, so the cache holds no password, nor anything that would check one faster than
///   bcrypt without the process key. Failed checks are not cached. bcrypt runs one at a time,
///   as in the exporter-toolkit, so a flood of guesses cannot take every core.
/// - Passwords longer than 72 bytes (bcrypt would ignore the rest) or holding a NUL byte are
///   refused.
public final class BasicAuthenticator: @unchecked Sendable {
    /// The longest password bcrypt takes into account.
    public static let maximumPasswordBytes = 72

    private let users: [String: [UInt8]]
    private let decoy: [UInt8]
    private let cacheLifetime: Double
    private let cacheCapacity: Int
    private let macKey: [UInt8]
    private let bcryptLock = Lock()
    private let cacheLock = Lock()
    private var cache: [[UInt8]: Double] = [:]
    private var computations = 0

    /// `users` maps user names to bcrypt hashes; every hash is checked here.
    public init(users: [String: String], cacheLifetime: Double = 300, cacheCapacity: Int = 256) throws(BasicAuthError) {
        var table: [String: [UInt8]] = [:]
        var highestCost = 4
        for (user, hash) in users {
            if let problem = BasicAuthenticator.problem(withHash: hash) { throw BasicAuthError(user: user, message: problem) }
            if user.utf8.contains(UInt8(ascii: ":")) {
                throw BasicAuthError(user: user, message: "a user name cannot contain ':' (basic auth splits user and password at the first ':')")
            }
            if user.isEmpty { throw BasicAuthError(user: user, message: "the user name is empty") }
            table[user] = Array(hash.utf8)
            highestCost = max(highestCost, Int(hash.dropFirst(4).prefix(2))!)
        }
        self.users = table
        self.cacheLifetime = cacheLifetime
        self.cacheCapacity = cacheCapacity
        var key = [UInt8](repeating: 0, count: 32)
        let random = gnutls_rnd(GNUTLS_RND_KEY, &key, key.count)
        precondition(random == 0, "GnuTLS cannot produce random bytes: \(gnutlsError(random))")
        macKey = key
        decoy = BasicAuthenticator.makeDecoy(cost: highestCost)
    }

    /// Nil when `hash` is a bcrypt hash this authenticator can check, else what is wrong with it.
    public static func problem(withHash hash: String) -> String? {
        let bytes = Array(hash.utf8)
        let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
            [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
            bytes[6] == UInt8(ascii: "$"), let cost = Int(String(decoding: bytes[4..<6], as: UTF8.self)),
            bytes[7...].allSatisfy(alphabet.contains)
        else {
            return "not a bcrypt hash ($2y$, $2b$ or $2a$, cost, 53 characters of salt and hash: 60 in all), e.g. from htpasswd -nBC 10 USER"
        }
        guard (4...31).contains(cost) else { return "bcrypt cost \(cost) is outside 4...31" }
        guard crypt(phrase: [], setting: bytes) != nil else { return "libcrypt cannot use this bcrypt hash" }
        return nil
    }

    /// The user when `authorization` (the Authorization header's value) holds valid basic
    /// credentials, else nil.
    public func authenticate(authorization: String?) -> String? {
        guard let credentials = BasicAuthenticator.parse(authorization) else { return nil }
        return check(user: credentials.user, password: credentials.password) ? credentials.user : nil
    }

    /// Whether `password` is the password of `user`.
    public func check(user: String, password: [UInt8]) -> Bool {
        let stored = users[user]
        let hash = stored ?? decoy
        let key = cacheKey(user: user, hash: hash, password: password)
        let now = monotonicSeconds()
        if stored != nil {
            let hit = cacheLock.withLock { () -> Bool in
                guard let expiry = cache[key] else { return false }
                if expiry > now { return true }
                cache[key] = nil
                return false
            }
            if hit { return true }
        }
        let usable = password.count <= BasicAuthenticator.maximumPasswordBytes && !password.contains(0)
        // The decoy runs for unknown users and unusable passwords alike, so both take as long as
        // a wrong password of a known user.
        let result = bcryptLock.withLock { () -> [UInt8]? in
            computations += 1
            return BasicAuthenticator.crypt(phrase: usable ? password : [], setting: hash)
        }
        let matches = result.map { constantTimeEqual($0, hash) } ?? false
        guard stored != nil && usable && matches else { return false }
        cacheLock.withLock {
            if cache.count >= cacheCapacity {
                cache = cache.filter { $0.value > now }
                if cache.count >= cacheCapacity, let oldest = cache.min(by: { $0.value < $1.value }) { cache[oldest.key] = nil }
            }
            cache[key] = now + cacheLifetime
        }
        return true
    }

    /// How many bcrypt computations have run (for tests of the cache).
    public var bcryptComputations: Int { bcryptLock.withLock { computations } }

    /// User and password from `Basic <base64(user:password)>`; the scheme is case-insensitive.
    static func parse(_ authorization: String?) -> (user: String, password: [UInt8])? {
        guard let authorization else { return nil }
        let bytes = Array(authorization.utf8)
        guard bytes.count > 6, asciiCaseInsensitiveEquals(String(decoding: bytes[0..<5], as: UTF8.self), "Basic"),
            bytes[5] == UInt8(ascii: " ")
        else { return nil }
        var start = 6
        while start < bytes.count && bytes[start] == UInt8(ascii: " ") { start += 1 }
        guard let decoded = base64Decode(bytes[start...]), let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        guard let user = String(validating: decoded[..<colon], as: UTF8.self) else { return nil }
        return (user, Array(decoded[(colon + 1)...]))
    }

    private func cacheKey(user: String, hash: [UInt8], password: [UInt8]) -> [UInt8] {
        var message = Array(user.utf8)
        message.append(0)
        message += hash
        message.append(0)
        message += password
        var digest = [UInt8](repeating: 0, count: 32)
        _ = gnutls_hmac_fast(GNUTLS_MAC_SHA256, macKey, macKey.count, message, message.count, &digest)
        for i in message.indices { message[i] = 0 }
        return digest
    }

    private static func makeDecoy(cost: Int) -> [UInt8] {
        var setting = [CChar](repeating: 0, count: 64)
        if crypt_gensalt_rn("$2b$", UInt(cost), nil, 0, &setting, Int32(setting.count)) != nil,
            let hash = crypt(phrase: Array("decoy password".utf8), setting: Array(stringFromCBuffer(setting).utf8))
        {
            return hash
        }
        // Should salt generation fail: a fixed cost-10 hash (Go's bcrypt test vector).
        return Array("$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga".utf8)
    }

    /// crypt_rn with the stored hash as setting; nil when libcrypt refuses.
    static func crypt(phrase: [UInt8], setting: [UInt8]) -> [UInt8]? {
        let size = MemoryLayout<crypt_data>.size
        let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        memset(data, 0, size)
        defer {
            explicit_bzero(data, size)
            data.deallocate()
        }
        let phraseC = phrase.map { CChar(bitPattern: $0) } + [0]
        let settingC = setting.map { CChar(bitPattern: $0) } + [0]
        guard let result = crypt_rn(phraseC, settingC, data, Int32(size)) else { return nil }
        let output = Array(UnsafeBufferPointer(start: UnsafeRawPointer(result).assumingMemoryBound(to: UInt8.self), count: strlen(result)))
        // libxcrypt marks failure with a result starting with '*'.
        if output.first == UInt8(ascii: "*") { return nil }
        return output
    }
}

/// Equality in time that depends only on the expected value's length.
func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
    var difference: UInt8 = given.count == expected.count ? 0 : 1
    for i in 0..<expected.count {
        difference |= (i < given.count ? given[i] : 0) ^ expected[i]
    }
    return difference == 0
}

private func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Standard base64 with padding (RFC 4648 §4), as Go's `Request.BasicAuth` reads it.
func base64Decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
    guard text.count % 4 == 0 else { return nil }
    func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(text.count / 4 * 3)
    let chars = Array(text)
    var index = 0
    while index < chars.count {
        let quad = chars[index..<(index + 4)]
        let last = index + 4 == chars.count
        let padding = quad.reversed().prefix(while: { $0 == UInt8(ascii: "=") }).count
        guard padding <= 2, padding == 0 || last else { return nil }
        var values: [UInt8] = []
        for c in quad.dropLast(padding) {
            guard let v = value(c) else { return nil }
            values.append(v)
        }
        while values.count < 4 { values.append(0) }
        let n = UInt32(values[0]) << 18 | UInt32(values[1]) << 12 | UInt32(values[2]) << 6 | UInt32(values[3])
        out.append(UInt8(n >> 16 & 0xFF))
        if padding < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
        if padding < 1 { out.append(UInt8(n & 0xFF)) }
        index += 4
    }
    return out
}
