import Foundation
import HTTPServer
import Logging
import Testing
import TestKit

import Exporter
@testable import ExporterWeb

/// The web configuration file: exporter-toolkit's format, errors with file, line and field.
@Suite struct WebConfigTests {
    let pki = TestPKI.shared

    func writeConfig(_ yaml: String, mode: Int = 0o600) throws -> String {
        try writeWebConfig(yaml, mode: mode)
    }

    static let goHash = "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"  // "allmine", from Go's bcrypt tests

    @Test("a complete file in the toolkit's format loads; relative paths are taken from its directory")
    func completeFile() throws {
        let file = try writeConfig("""
            # The exporter-toolkit's format.
            tls_server_config:
              cert_file: server.crt
              key_file: server.key
              client_auth_type: RequireAndVerifyClientCert
              client_ca_file: ca.crt
              client_allowed_sans: [scraper.example]
              min_version: TLS12
              max_version: TLS13
              cipher_suites:
                - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
              prefer_server_cipher_suites: false
              curve_preferences: [X25519, CurveP256]
            http_server_config:
              http2: true
              headers:
                X-Frame-Options: deny
                X-Content-Type-Options: nosniff
                Strict-Transport-Security: max-age=31536000
                Content-Security-Policy: ""
            basic_auth_users:
              prometheus: \(Self.goHash)
            rate_limit:
              interval: 100ms
              burst: 20

            """)
        let config = try WebConfigLoader.load(path: file)
        let tls = try #require(config.tls)
        #expect(tls.certificatePEM == pki.bytes("server.crt"))
        #expect(tls.privateKeyPEM == pki.bytes("server.key"))
        #expect(tls.clientCAsPEM == pki.bytes("ca.crt"))
        #expect(tls.clientCertificates == .requireAndVerifyClientCert)
        #expect(tls.allowedClientSANs == ["scraper.example"])
        #expect(tls.minimumVersion == .tls12 && tls.maximumVersion == .tls13)
        #expect(tls.cipherSuites?.map(\.id) == [0xC02B, 0xC02C])
        #expect(tls.curvePreferences == [.x25519, .p256])
        #expect(tls.preferServerCipherSuites == false)
        #expect(config.headers.map(\.name) == ["X-Frame-Options", "X-Content-Type-Options", "Strict-Transport-Security"],
                "a blank value sets no header")
        #expect(config.users == ["prometheus"])
        #expect(config.basicAuth?.check(user: "prometheus", password: Array("allmine".utf8)) == true)
        #expect(config.rateLimit == .init(interval: 0.1, burst: 20))
        #expect(config.http2)
    }

    @Test("defaults: TLS 1.2 to 1.3, no client certificate, server cipher preference; no TLS section means plain HTTP")
    func defaults() throws {
        let tls = try #require(try WebConfigLoader.load(path: writeConfig("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")).tls)
        #expect(tls.minimumVersion == .tls12 && tls.maximumVersion == .tls13)
        #expect(tls.clientCertificates == .noClientCert)
        #expect(tls.preferServerCipherSuites)
        #expect(tls.cipherSuites == nil && tls.curvePreferences == nil)

        let plain = try WebConfigLoader.load(path: writeConfig("basic_auth_users:\n  a: \(Self.goHash)\n"))
        #expect(plain.tls == nil)
        #expect(plain.basicAuth != nil)
        let empty = try WebConfigLoader.load(path: writeConfig(""))
        #expect(empty.tls == nil && empty.basicAuth == nil && empty.headers.isEmpty && empty.rateLimit == nil)
        // The older name of RequireAnyClientCert, still accepted by the toolkit.
        let old = try WebConfigLoader.load(path: writeConfig(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireClientCert\n"))
        #expect(old.tls?.clientCertificates == .requireAnyClientCert)
    }

    @Test("inline cert and key (the toolkit's cert/key fields)")
    func inlinePEM() throws {
        let cert = String(decoding: pki.bytes("server.crt"), as: UTF8.self)
        let key = String(decoding: pki.bytes("server.key"), as: UTF8.self)
        func block(_ text: String) -> String { text.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") }
        let config = try WebConfigLoader.load(path: writeConfig("tls_server_config:\n  cert: |\n\(block(cert))\n  key: |\n\(block(key))\n"))
        #expect(config.tls?.certificatePEM == Array(cert.utf8))
    }

    static let invalid: [(yaml: String, line: Int?, field: String, message: String)] = [
        ("tls_config:\n  cert_file: server.crt\n", 1, "tls_config", "unknown field"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cert_path: x\n", 4, "tls_server_config.cert_path", "unknown field"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Sometimes\n", 4,
         "tls_server_config.client_auth_type", "RequireAndVerifyClientCert"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS14\n", 4,
         "tls_server_config.min_version", "unknown TLS version"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n  max_version: TLS12\n", 4,
         "tls_server_config.min_version", "above max_version"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites:\n    - TLS_RSA_WITH_RC4_128_SHA\n", 5,
         "tls_server_config.cipher_suites[0]", "unknown cipher suite"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n    - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n",
         5, "tls_server_config.cipher_suites", "would also enable"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  curve_preferences: [P256]\n", 4,
         "tls_server_config.curve_preferences[0]", "unknown curve"),
        ("tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n", 2, "tls_server_config.cert_file", "No such file"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: stray.key\n", 3, "tls_server_config.key_file", "does not belong"),
        ("tls_server_config:\n  cert_file: ca.crt\n  key_file: server.key\n", 3, "tls_server_config.key_file", "does not belong"),
        ("tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n", 2, "tls_server_config.cert_file", "not a PEM certificate"),
        ("tls_server_config:\n  cert_file: server.crt\n", 2, "tls_server_config", "missing one of key or key_file"),
        ("tls_server_config:\n  min_version: TLS13\n", 2, "tls_server_config.min_version", "TLS would be off"),
        ("tls_server_config:\n  cert_file: server.crt\n  cert: x\n  key_file: server.key\n", 3, "tls_server_config.cert", "not both"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n", 4,
         "tls_server_config.client_ca_file", "NoClientCert"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n", 4,
         "tls_server_config.client_auth_type", "needs client_ca_file"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n  client_allowed_sans: [a]\n",
         6, "tls_server_config.client_allowed_sans", "RequireAnyClientCert or RequireAndVerifyClientCert"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  prefer_server_cipher_suites: maybe\n", 4,
         "tls_server_config.prefer_server_cipher_suites", "true or false"),
        ("http_server_config:\n  headers:\n    Authorization: Basic x\n", 3, "http_server_config.headers.Authorization", "can not be configured"),
        ("http_server_config:\n  headers:\n    Content-Type: text/html\n", 3, "http_server_config.headers.Content-Type", "can not be configured"),
        ("http_server_config:\n  headers:\n    X-Frame-Options: allow\n", 3, "http_server_config.headers.X-Frame-Options", "deny, sameorigin"),
        ("http_server_config:\n  http3: true\n", 2, "http_server_config.http3", "unknown field"),
        ("basic_auth_users:\n  alice: secret\n", 2, "basic_auth_users.alice", "not a bcrypt hash"),
        ("basic_auth_users:\n  alice: \(goHash)\n  bob: $2a$10$short\n", 3, "basic_auth_users.bob", "not a bcrypt hash"),
        ("basic_auth_users:\n  \"a:b\": \(goHash)\n", 2, "basic_auth_users.a:b", "':'"),
        ("basic_auth_users: [alice]\n", 1, "basic_auth_users", "mapping of user names"),
        ("rate_limit:\n  interval: 1s\n  burst: 0\n", 3, "rate_limit.burst", "at least 1"),
        ("rate_limit:\n  interval: soon\n", 2, "rate_limit.interval", "not a duration"),
        ("tls_server_config: [\n", nil, "", "YAML syntax"),
    ]

    @Test("errors name the file, line and field", arguments: invalid.indices)
    func invalidFieldsAreNamed(_ index: Int) throws {
        let (yaml, line, field, message) = Self.invalid[index]
        let file = try writeConfig(yaml)
        do {
            _ = try WebConfigLoader.load(path: file)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.file == file)
            if let line { #expect(error.line == line, "\(error)") } else { #expect(error.line != nil) }
            #expect(error.field == field, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix(file + ":"))
        }
    }

    /// libyaml ends a last line without a newline for it; the mark is put on the file's last line.
    @Test func yamlSyntaxErrorsPointAtALineTheFileHas() {
        #expect(throws: ConfigError(file: "web.yml", line: 3, column: 6, field: "", message: "YAML syntax: could not find expected ':'")) {
            try WebConfigLoader.load(yaml: "rate_limit:\n  interval: 1s\n  bur", file: "web.yml")
        }
    }

    @Test("a hash in error messages is never echoed")
    func hashesStayOutOfMessages() throws {
        let file = try writeConfig("basic_auth_users:\n  alice: NotAHashButASecretPassword\n")
        #expect(throws: ConfigError.self) { try WebConfigLoader.load(path: file) }
        do { _ = try WebConfigLoader.load(path: file) } catch { #expect(!error.description.contains("NotAHashButASecretPassword")) }
    }

    /// One rule for every file that holds a secret, the admin token's: no access for group or
    /// others. A web configuration that only names files holds no secret; one with password
    /// hashes does, and the error points at `basic_auth_users`.
    @Test("secret files follow the token's rule; a web configuration without secrets may be readable")
    func secretFilesFollowOneRule() throws {
        let yaml = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        let file = try writeConfig(yaml, mode: 0o644)
        _ = try WebConfigLoader.load(path: file)

        let withUsers = try writeConfig("basic_auth_users:\n  alice: \(Self.goHash)\n", mode: 0o640)
        do {
            _ = try WebConfigLoader.load(path: withUsers)
            Issue.record("accepted password hashes readable by a group")
        } catch {
            #expect(error.field == "basic_auth_users")
            #expect(error.line == 2)
            #expect(error.message.contains("password hashes") && error.message.contains("chmod 600"), "\(error)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: withUsers)
        _ = try WebConfigLoader.load(path: withUsers)

        let key = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("server.key").path
        for mode in [0o604, 0o640, 0o620] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: key)
            do {
                _ = try WebConfigLoader.load(path: file)
                Issue.record("accepted a key file of mode \(String(mode, radix: 8))")
            } catch {
                #expect(error.field == "tls_server_config.key_file")
                #expect(error.line == 3)
                #expect(error.message.contains("private key") && error.message.contains("chmod 600"), "\(error)")
            }
        }
        // The certificate and CA are public: their mode does not matter.
        let cert = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("server.crt").path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: cert)
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: key)
        _ = try WebConfigLoader.load(path: file)
    }

    // MARK: The guard in front of the routers

    func guarded(_ yaml: String, admin: Bool = true) throws -> (WebGuard, Router) {
        let config = try WebConfigLoader.load(path: writeConfig(yaml))
        let router = Router()
        router.add("GET", "/metrics") { _, _ in .text(200, "metrics\n") }
        router.add("GET", "/-/healthy") { _, _ in .text(200, "Healthy\n") }
        router.add("GET", "/api/v1/status") { request, _ in
            request.header("authorization") == "Bearer t0ken" ? .text(200, "admin\n") : .text(401, "bearer\n")
        }
        return (WebGuard(config: config, adminBearerPassThrough: admin, logger: Logger(label: "test")), router)
    }

    func request(_ path: String, _ authorization: String? = nil) -> HTTPRequest {
        HTTPRequest(method: "GET", path: path, headers: authorization.map { [("Authorization", $0)] } ?? [])
    }

    static let goodBasic = "Basic " + Data("prometheus:allmine".utf8).base64EncodedString()

    @Test("basic auth guards every route; admin requests with a bearer token pass to the admin API's own check")
    func guardRoutes() throws {
        let (web, router) = try guarded("basic_auth_users:\n  prometheus: \(Self.goHash)\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n")
        func send(_ request: HTTPRequest) -> HTTPResponse { web.handle(request) { router.handle($0) } }
        for path in ["/metrics", "/-/healthy", "/nope"] {
            let refused = send(request(path))
            #expect(refused.status == 401, "\(path)")
            #expect(refused.header("WWW-Authenticate") == "Basic realm=\"ftrace_exporter\"")
            #expect(refused.header("X-Frame-Options") == "deny", "headers on refusals too")
            #expect(send(request(path, "Basic " + Data("prometheus:wrong".utf8).base64EncodedString())).status == 401)
            #expect(send(request(path, "Basic " + Data("nobody:allmine".utf8).base64EncodedString())).status == 401)
        }
        let ok = send(request("/metrics", Self.goodBasic))
        #expect(ok.status == 200)
        #expect(ok.header("X-Frame-Options") == "deny")
        #expect(send(request("/nope", Self.goodBasic)).status == 404)

        #expect(send(request("/api/v1/status", "Bearer t0ken")).status == 200, "the admin token authenticates admin requests")
        #expect(send(request("/api/v1/status", "Bearer wrong")).status == 401)
        #expect(send(request("/api/v1/status", "Bearer wrong")).header("WWW-Authenticate") == nil, "the admin API's own 401")
        #expect(send(request("/api/v1/status")).header("WWW-Authenticate") == "Basic realm=\"ftrace_exporter\"")
        #expect(send(request("/metrics", "Bearer t0ken")).status == 401, "a bearer token is no way past basic auth elsewhere")

        let (noAdmin, router2) = try guarded("basic_auth_users:\n  prometheus: \(Self.goHash)\n", admin: false)
        #expect(noAdmin.handle(request("/api/v1/status", "Bearer t0ken")) { router2.handle($0) }.status == 401,
                "with the admin API off, /api/ is behind basic auth like the rest")
    }

    @Test("without users, requests pass; reloads replace users and headers")
    func guardUpdates() throws {
        let (web, router) = try guarded("")
        #expect(web.handle(request("/metrics")) { router.handle($0) }.status == 200)
        web.update(try WebConfigLoader.load(path: writeConfig("basic_auth_users:\n  prometheus: \(Self.goHash)\n")))
        #expect(web.handle(request("/metrics")) { router.handle($0) }.status == 401)
        #expect(web.handle(request("/metrics", Self.goodBasic)) { router.handle($0) }.status == 200)
    }

    @Test("rate_limit answers 429 past the burst")
    func rateLimit() throws {
        let (web, router) = try guarded("rate_limit:\n  interval: 1h\n  burst: 3\n")
        let codes = (0..<5).map { _ in web.handle(request("/metrics")) { router.handle($0) }.status }
        #expect(codes == [200, 200, 200, 429, 429])
    }
}
