import Foundation
import Testing
import TestKit

@testable import HTTPServer

/// TLS on the real server, with certificates made by openssl and curl as the client.
@Suite struct TLSTests {
    let pki = TestPKI.shared

    func tls(
        server: String = "server", clientCAs: String? = nil, policy: ClientCertificatePolicy = .noClientCert,
        sans: [String]? = nil, min: TLSProtocolVersion = .tls12, max: TLSProtocolVersion = .tls13,
        suites: [String]? = nil, curves: [TLSCurve]? = nil
    ) -> TLSConfiguration {
        TLSConfiguration(
            certificatePEM: pki.bytes("\(server).crt"), privateKeyPEM: pki.bytes("\(server).key"),
            clientCAsPEM: clientCAs.map { pki.bytes($0) }, clientCertificates: policy, allowedClientSANs: sans,
            minimumVersion: min, maximumVersion: max, cipherSuites: suites.map { $0.map { TLSCipherSuite.named($0)! } },
            curvePreferences: curves)
    }

    func withTLSServer<T>(_ tls: TLSConfiguration, log: LogSink? = nil, _ body: (HTTPServer) throws -> T) throws -> T {
        try withServer(
            {
                $0.tls = tls
                if let log { $0.errorLog = { log.append($0) } }
            }, handler: { _ in .text(200, "hello over TLS\n") }, body)
    }

    /// curl to the server with the test CA, plus `arguments`.
    func fetch(_ server: HTTPServer, _ arguments: [String] = [], ca: String = "ca.crt", scheme: String = "https") throws -> CurlResult {
        try curl(["--cacert", pki.path(ca)] + arguments + ["\(scheme)://127.0.0.1:\(server.port)/"])
    }

    func clientCert(_ name: String) -> [String] {
        ["--cert", pki.path("\(name).crt"), "--key", pki.path("\(name).key")]
    }

    @Test("HTTPS works with the right CA; plain HTTP and an unknown CA fail")
    func servesHTTPS() throws {
        try withTLSServer(tls()) { server throws in
            let good = try fetch(server)
            #expect(good.ok, "\(good)")
            #expect(good.body == "hello over TLS\n")

            let plain = try fetch(server, scheme: "http")
            #expect(!plain.ok, "plain HTTP to the TLS port must not be served: \(plain)")

            let wrongCA = try fetch(server, ca: "other-ca.crt")
            #expect(wrongCA.exitCode == 60, "curl must refuse a server certificate from another CA: \(wrongCA)")

            // The server keeps serving after the failures.
            #expect(try fetch(server).ok)
        }
    }

    @Test("a body kept in a memory file is sent intact over TLS")
    func fileBackedBodyOverTLS() throws {
        let text = (0..<20_000).map { "line \($0) of a body larger than the memory-file threshold\n" }.joined()
        let shared = SharedBody(Array(text.utf8))
        #expect(shared.isFileBacked)
        try withServer({ $0.tls = tls() }, handler: { _ in HTTPResponse(status: 200, body: .shared(shared)) }) { server throws in
            for _ in 0..<3 {
                let result = try fetch(server)
                #expect(result.ok, "\(result.exitCode) \(result.stderr)")
                #expect(result.body == text)
            }
        }
    }

    @Test("min_version TLS13 refuses TLS 1.2 clients; max_version TLS12 caps at 1.2")
    func versions() throws {
        try withTLSServer(tls(min: .tls13)) { server throws in
            let old = try fetch(server, ["--tls-max", "1.2"])
            #expect(!old.ok && old.exitCode != 0, "\(old)")
            let current = try fetch(server, ["-v"])
            #expect(current.ok)
            #expect(current.stderr.contains("TLSv1.3"), "\(current.stderr)")
        }
        try withTLSServer(tls(max: .tls12)) { server throws in
            let result = try fetch(server, ["-v"])
            #expect(result.ok)
            #expect(result.stderr.contains("SSL connection using TLSv1.2"), "\(result.stderr)")
            #expect(!(try fetch(server, ["--tlsv1.3"]).ok), "a TLS 1.3-only client finds no common version")
        }
        try withTLSServer(tls()) { server throws in
            #expect(try fetch(server, ["--tls-max", "1.2"]).ok, "TLS 1.2 is allowed by default")
            #expect(try fetch(server, ["--tlsv1.3"]).ok)
        }
    }

    /// Expected outcomes for (no certificate, a certificate from the client CA, one from another CA).
    static let policyMatrix: [(ClientCertificatePolicy, [Bool])] = [
        (.noClientCert, [true, true, true]),
        (.requestClientCert, [true, true, true]),
        (.requireAnyClientCert, [false, true, true]),
        (.verifyClientCertIfGiven, [true, true, false]),
        (.requireAndVerifyClientCert, [false, true, false]),
    ]

    @Test("client_auth_type, over TLS 1.3 and TLS 1.2", arguments: [0, 1, 2, 3, 4], ["1.3", "1.2"])
    func clientAuthentication(row: Int, version: String) throws {
        let (policy, expected) = Self.policyMatrix[row]
        let config = tls(clientCAs: policy == .noClientCert ? nil : "ca.crt", policy: policy)
        let log = LogSink()
        try withTLSServer(config, log: log) { server throws in
            let versionArguments = version == "1.2" ? ["--tls-max", "1.2"] : ["--tlsv1.3"]
            let outcomes = try [[], clientCert("client"), clientCert("other-client")].map { try fetch(server, versionArguments + $0) }
            for (index, outcome) in outcomes.enumerated() {
                #expect(outcome.ok == expected[index], "\(policy.rawValue) TLS \(version) client #\(index): \(outcome)")
            }
            // Accepted and refused clients do not disturb each other, and a keep-alive
            // connection with a good certificate serves several requests.
            if expected[1] {
                let url = "https://127.0.0.1:\(server.port)/"
                let twice = try curl(["--cacert", pki.path("ca.crt"), "-v"] + clientCert("client") + versionArguments + [url, url])
                #expect(twice.exitCode == 0)
                #expect(twice.body.components(separatedBy: "hello over TLS").count == 3)
            }
        }
        if policy.verifiesCertificate {
            #expect(log.text.contains("does not verify against the client CAs"), "\(log.text)")
        }
    }

    @Test("a client certificate without the TLS client key purpose is refused when verified")
    func keyPurpose() throws {
        try withTLSServer(tls(clientCAs: "ca.crt", policy: .requireAndVerifyClientCert)) { server throws in
            #expect(!(try fetch(server, clientCert("server-purpose-client")).ok))
            #expect(try fetch(server, clientCert("client")).ok)
        }
    }

    @Test("client_allowed_sans: one matching SAN (DNS, URI or IP) admits the client")
    func allowedSANs() throws {
        for sans in [["spiffe://test/scraper"], ["scraper.example"], ["10.0.0.7"], ["nobody.example", "scraper.example"]] {
            try withTLSServer(tls(clientCAs: "ca.crt", policy: .requireAndVerifyClientCert, sans: sans)) { server throws in
                #expect(try fetch(server, clientCert("client")).ok, "\(sans)")
            }
        }
        let log = LogSink()
        try withTLSServer(tls(clientCAs: "ca.crt", policy: .requireAndVerifyClientCert, sans: ["other.example"]), log: log) { server throws in
            #expect(!(try fetch(server, clientCert("client")).ok))
            #expect(!(try fetch(server, ["--tls-max", "1.2"] + clientCert("client")).ok))
        }
        #expect(log.text.contains("client_allowed_sans"))
        #expect(log.text.contains("spiffe://test/scraper"), "the log lists what the certificate has: \(log.text)")
        // With RequireAnyClientCert the SAN is checked on an unverified certificate, as in Go.
        try withTLSServer(tls(clientCAs: nil, policy: .requireAnyClientCert, sans: ["scraper.example"])) { server throws in
            #expect(try fetch(server, clientCert("other-client")).ok)
        }
    }

    @Test("cipher_suites and curve_preferences are applied")
    func algorithms() throws {
        let suites = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
        try withTLSServer(tls(suites: suites)) { server throws in
            #expect(try fetch(server, ["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"]).ok)
            #expect(!(try fetch(server, ["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"]).ok))
            // TLS 1.3 is limited to the list's AEAD cipher.
            #expect(try fetch(server, ["--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"]).ok)
            #expect(!(try fetch(server, ["--tlsv1.3", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384"]).ok))
        }
        try withTLSServer(tls(curves: [.x25519])) { server throws in
            #expect(try fetch(server, ["--curves", "X25519"]).ok)
            #expect(!(try fetch(server, ["--curves", "P-384"]).ok))
            #expect(!(try fetch(server, ["--tls-max", "1.2", "--curves", "P-384"]).ok))
        }
    }

    @Test("priority strings")
    func priorityStrings() throws {
        #expect(try tls().priorities() == "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE")
        var config = tls(min: .tls10, max: .tls12, curves: [.x25519, .p256])
        config.preferServerCipherSuites = false
        #expect(try config.priorities() == "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1")
        let full = tls(suites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"])
        #expect(try full.priorities()
            == "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE:-KX-ALL:+ECDHE-RSA:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:-MAC-ALL:+AEAD")
    }

    @Test("invalid TLS settings are refused with the setting at fault", arguments: [
        ("key mismatch", TLSConfigurationError.Setting.privateKey, "does not belong"),
        ("garbage certificate", .certificate, "not a PEM certificate"),
        ("garbage key", .privateKey, "not an unencrypted PEM private key"),
        ("garbage CA", .clientCAs, "no PEM certificate"),
        ("CA without policy", .clientCAs, "NoClientCert"),
        ("verify without CA", .clientCertificates, "needs client_ca_file"),
        ("SANs without required certificate", .allowedClientSANs, "requires client_auth_type"),
        ("min above max", .versions, "above max_version"),
        ("suites that combine to more", .cipherSuites, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        ("only TLS 1.3 suites", .cipherSuites, "no TLS 1.0-1.2 suite"),
        ("CBC only with TLS 1.3", .cipherSuites, "TLS 1.3 needs"),
    ])
    func invalid(name: String, setting: TLSConfigurationError.Setting, message: String) throws {
        var config = tls()
        switch name {
        case "key mismatch": config.privateKeyPEM = pki.bytes("stray.key")
        case "garbage certificate": config.certificatePEM = Array("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n".utf8)
        case "garbage key": config.privateKeyPEM = Array("hello".utf8)
        case "garbage CA": config.clientCAsPEM = Array("hello".utf8); config.clientCertificates = .requireAndVerifyClientCert
        case "CA without policy": config.clientCAsPEM = pki.bytes("ca.crt")
        case "verify without CA": config.clientCertificates = .verifyClientCertIfGiven
        case "SANs without required certificate":
            config.clientCAsPEM = pki.bytes("ca.crt")
            config.clientCertificates = .verifyClientCertIfGiven
            config.allowedClientSANs = ["x"]
        case "min above max": config.minimumVersion = .tls13; config.maximumVersion = .tls12
        case "suites that combine to more":
            config.cipherSuites = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"].map { TLSCipherSuite.named($0)! }
        case "only TLS 1.3 suites": config.cipherSuites = [TLSCipherSuite.named("TLS_AES_128_GCM_SHA256")!]
        case "CBC only with TLS 1.3": config.cipherSuites = [TLSCipherSuite.named("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")!]
        default: Issue.record("unknown case")
        }
        #expect(throws: TLSConfigurationError.self) { try config.validate() }
        do {
            try config.validate()
        } catch {
            #expect(error.setting == setting, "\(error)")
            #expect(error.message.contains(message), "\(error.message)")
        }
        // start() refuses it too, before binding.
        let server = HTTPServer(configuration: HTTPServerConfiguration(address: "127.0.0.1", port: 0, tls: config)) { _ in .text(200, "") }
        #expect(throws: HTTPServerError.self) { try server.start() }
    }

    @Test("updateTLS swaps certificates and policy on the same port; invalid settings change nothing")
    func updateTLS() throws {
        try withTLSServer(tls()) { server throws in
            let port = server.port
            #expect(try fetch(server).ok)
            try server.updateTLS(tls(server: "other-server"))
            #expect(server.port == port)
            #expect(try fetch(server, ca: "other-ca.crt").ok)
            #expect(try fetch(server).exitCode == 60, "the old certificate is gone")

            var broken = tls()
            broken.privateKeyPEM = pki.bytes("stray.key")
            #expect(throws: HTTPServerError.self) { try server.updateTLS(broken) }
            #expect(try fetch(server, ca: "other-ca.crt").ok, "still serving the previous settings")

            try server.updateTLS(tls(clientCAs: "ca.crt", policy: .requireAndVerifyClientCert))
            #expect(!(try fetch(server).ok))
            #expect(try fetch(server, clientCert("client")).ok)

            try server.updateTLS(nil)
            #expect(try fetch(server, scheme: "http").ok, "TLS turned off")
            try server.updateTLS(tls())
            #expect(try fetch(server).ok)
            #expect(server.port == port)
        }
    }

    @Test("many TLS clients at once; every connection's certificate state is released")
    func concurrentClients() throws {
        let server = try withTLSServer(tls(clientCAs: "ca.crt", policy: .requireAndVerifyClientCert)) { server throws in
            let url = "https://127.0.0.1:\(server.port)/"
            let result = try curl(["--parallel", "--parallel-max", "16", "--cacert", pki.path("ca.crt")] + clientCert("client")
                + Array(repeating: url, count: 64))
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.body.components(separatedBy: "hello over TLS").count == 65)
            // Refused clients too.
            _ = try curl(["--parallel", "--cacert", pki.path("ca.crt")] + Array(repeating: url, count: 8))
            return server
        }
        #expect(server.statistics.liveTLSConnectionStates == 0)
        #expect(server.statistics.liveRequestContexts == 0)
    }
}

/// Collects errorLog lines.
final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return lines.joined(separator: "\n") }
}
