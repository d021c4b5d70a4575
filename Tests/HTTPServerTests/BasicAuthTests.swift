import Foundation
import Testing

@testable import HTTPServer

/// bcrypt checks through libxcrypt, against hashes made by other implementations: Apache's
/// htpasswd ($2y$) and Go's x/crypto/bcrypt ($2a$, from its test vectors and the
/// exporter-toolkit's decoy hash).
@Suite struct BasicAuthTests {
    /// `htpasswd -nbBC COST user password`'s hash; nil when htpasswd (apache2-utils) is missing.
    static func htpasswd(_ password: String, cost: Int = 4) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/htpasswd") else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "htpasswd (apache2-utils) is required in CI")
            return nil
        }
        let result = try run("/usr/bin/htpasswd", ["-nbBC", "\(cost)", "user", password])
        let line = String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return String(line.split(separator: ":", maxSplits: 1)[1])
    }

    static func header(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    @Test("hashes from htpasswd and Go check with the right password only")
    func foreignHashes() throws {
        let goVector = "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"  // "allmine"
        let toolkitDecoy = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"  // "fakepassword"
        var users = ["go": goVector, "toolkit": toolkitDecoy]
        if let hash = try Self.htpasswd("pa:ss wörd") {
            #expect(hash.hasPrefix("$2y$04$"))
            users["apache"] = hash
            // The same hash under the $2b$ prefix: libxcrypt computes $2b$ and $2y$ alike.
            users["apache2b"] = "$2b$" + hash.dropFirst(4)
        }
        let auth = try BasicAuthenticator(users: users)
        #expect(auth.authenticate(authorization: Self.header("go", "allmine")) == "go")
        #expect(auth.authenticate(authorization: Self.header("toolkit", "fakepassword")) == "toolkit")
        #expect(auth.authenticate(authorization: Self.header("go", "allmine2")) == nil)
        #expect(auth.authenticate(authorization: Self.header("go", "fakepassword")) == nil)
        #expect(auth.authenticate(authorization: Self.header("toolkit", "allmine")) == nil)
        #expect(auth.authenticate(authorization: Self.header("nobody", "allmine")) == nil)
        if users["apache"] != nil {
            #expect(auth.authenticate(authorization: Self.header("apache", "pa:ss wörd")) == "apache", "the password may hold ':' and UTF-8")
            #expect(auth.authenticate(authorization: Self.header("apache2b", "pa:ss wörd")) == "apache2b")
            #expect(auth.authenticate(authorization: Self.header("apache", "pa:ss word")) == nil)
        }
    }

    @Test("malformed Authorization headers are refused", arguments: [
        nil, "", "Basic", "Basic ", "Bearer Z286YWxsbWluZQ==", "Basic Z286YWxsbWluZQ", "Basic Z286YWxsbWluZQ=",
        "Basic !!!!", "Basic Z29hbGxtaW5l",  // no ':'
        "Basic Z286YWxsbWluZQ==extra", "BasicZ286YWxsbWluZQ==",
    ] as [String?])
    func malformed(header: String?) throws {
        let auth = try BasicAuthenticator(users: ["go": "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"])
        #expect(auth.authenticate(authorization: header) == nil)
    }

    @Test("the scheme is case-insensitive and extra spaces are allowed")
    func schemeCase() throws {
        let auth = try BasicAuthenticator(users: ["go": "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"])
        #expect(auth.authenticate(authorization: "basic Z286YWxsbWluZQ==") == "go")
        #expect(auth.authenticate(authorization: "BASIC   Z286YWxsbWluZQ==") == "go")
    }

    @Test("successful checks are cached; failures, unknown users and other passwords are not")
    func cache() throws {
        let auth = try BasicAuthenticator(users: ["go": "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"])
        #expect(auth.check(user: "go", password: Array("allmine".utf8)))
        #expect(auth.bcryptComputations == 1)
        for _ in 0..<5 { #expect(auth.check(user: "go", password: Array("allmine".utf8))) }
        #expect(auth.bcryptComputations == 1, "cached")
        #expect(!auth.check(user: "go", password: Array("wrong".utf8)))
        #expect(!auth.check(user: "go", password: Array("wrong".utf8)))
        #expect(auth.bcryptComputations == 3, "failures are computed every time")
        #expect(!auth.check(user: "nobody", password: Array("allmine".utf8)))
        #expect(auth.bcryptComputations == 4, "an unknown user costs a bcrypt too (timing)")

        let shortLived = try BasicAuthenticator(users: ["go": "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"], cacheLifetime: 0.2)
        #expect(shortLived.check(user: "go", password: Array("allmine".utf8)))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(shortLived.check(user: "go", password: Array("allmine".utf8)))
        #expect(shortLived.bcryptComputations == 2, "an expired entry is checked again")
    }

    @Test("the cache holds no password: keys are HMACs, not the credentials")
    func cacheHoldsNoPassword() throws {
        let auth = try BasicAuthenticator(users: ["go": "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"])
        #expect(auth.check(user: "go", password: Array("allmine".utf8)))
        let mirror = Mirror(reflecting: auth)
        let cache = try #require(mirror.children.first { $0.label == "cache" }?.value as? [[UInt8]: Double])
        #expect(cache.count == 1)
        let key = try #require(cache.keys.first)
        #expect(key.count == 32)
        let password = Array("allmine".utf8)
        #expect(!(0...(key.count - password.count)).contains { Array(key[$0..<($0 + password.count)]) == password })
    }

    /// htpasswd (apache2-utils) makes the hashes; CI installs it, elsewhere the test is skipped.
    static let canMakeHashes = FileManager.default.isExecutableFile(atPath: "/usr/bin/htpasswd")
        || ProcessInfo.processInfo.environment["CI"] != nil

    @Test("passwords over 72 bytes or with NUL are refused, even when bcrypt would accept their first 72 bytes",
          .enabled(if: canMakeHashes, "htpasswd (apache2-utils) is not installed"))
    func longPasswords() throws {
        let hash = try #require(try Self.htpasswd(String(repeating: "a", count: 72)))
        let auth = try BasicAuthenticator(users: ["u": hash])
        #expect(auth.check(user: "u", password: Array(String(repeating: "a", count: 72).utf8)))
        #expect(!auth.check(user: "u", password: Array(String(repeating: "a", count: 73).utf8)))
        #expect(!auth.check(user: "u", password: Array(String(repeating: "a", count: 72).utf8) + [0]))
    }

    @Test("bad hashes and user names are refused with the user named", arguments: [
        ("plain", "secret", "not a bcrypt hash"),
        ("md5", "$apr1$abc$0123456789012345678901", "not a bcrypt hash"),
        ("sha512", "$6$salt$" + String(repeating: "x", count: 86), "not a bcrypt hash"),
        ("2x", "$2x$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", "not a bcrypt hash"),
        ("short", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcg", "not a bcrypt hash"),
        ("cost", "$2a$03$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", "cost 3"),
        ("a:b", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", "':'"),
    ])
    func badHashes(user: String, hash: String, message: String) {
        do {
            _ = try BasicAuthenticator(users: [user: hash])
            Issue.record("accepted \(hash)")
        } catch {
            #expect(error.user == user)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("constant-time comparison")
    func constantTime() {
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3, 4], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 4], [1, 2, 3]))
        #expect(!constantTimeEqual([], [1]))
        #expect(constantTimeEqual([], []))
    }
}
