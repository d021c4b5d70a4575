import Foundation
import Testing
import TestKit

/// The real daemon with `--web.config.file`: TLS, client certificates and basic auth as curl
/// and a real Prometheus see them.
@Suite(.serialized) struct WebDaemonTests {
    let pki = TestPKI.shared
    static let password = "s3cret pass"

    /// web.yml in a fresh directory with the PKI files; `users` adds basic auth for
    /// prometheus:`password` (bcrypt by htpasswd).
    func webConfig(_ tls: String?, users: Bool = true, extra: String = "") throws -> String {
        var yaml = ""
        if let tls { yaml += "tls_server_config:\n" + tls.split(separator: "\n").map { "  " + $0 + "\n" }.joined() }
        if users { yaml += "basic_auth_users:\n  prometheus: '\(try htpasswdHash(Self.password))'\n" }
        return try writeWebConfig(yaml + extra)
    }

    static let serverTLS = "cert_file: server.crt\nkey_file: server.key"
    static let mutualTLS = serverTLS + "\nclient_auth_type: RequireAndVerifyClientCert\nclient_ca_file: ca.crt"

    func start(_ file: String, _ extra: [String] = [], separateAdmin: Bool = false) throws -> DaemonTests.Daemon {
        let d = try DaemonTests.Daemon(["--web.config.file", file] + extra, separateAdmin: separateAdmin)
        try d.waitReady()
        return d
    }

    func https(_ port: Int, _ path: String = "/metrics", _ arguments: [String] = [], ca: String = "ca.crt") throws -> CurlResult {
        try curl(["--cacert", pki.path(ca)] + arguments + ["https://127.0.0.1:\(port)\(path)"])
    }

    var clientCert: [String] { ["--cert", pki.path("client.crt"), "--key", pki.path("client.key")] }
    var basic: [String] { ["-u", "prometheus:\(Self.password)"] }

    @Test("TLS with basic auth: right credentials 200, wrong or missing 401; plain HTTP and an unknown CA fail")
    func tlsWithBasicAuth() throws {
        let d = try start(try webConfig(Self.serverTLS, extra: "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n"))
        defer { #expect(d.stop() == 0) }
        #expect(d.logText.contains("tls=true"))
        #expect(d.logText.contains("basic_auth=true"))

        let ok = try https(d.port, "/metrics", basic)
        #expect(ok.ok, "\(ok)")
        #expect(ok.body.contains("ftrace_exporter_build_info"))
        #expect(ok.headers.contains("X-Content-Type-Options: nosniff"))

        for arguments in [[], ["-u", "prometheus:wrong"], ["-u", "nobody:\(Self.password)"], ["-u", "prometheus:"],
                          ["-H", "Authorization: Bearer s3cret-admin-token"]] {
            let refused = try https(d.port, "/metrics", arguments)
            #expect(refused.httpCode == 401, "\(arguments): \(refused)")
            #expect(refused.headers.contains("WWW-Authenticate: Basic realm=\"ftrace_exporter\""))
        }
        for path in ["/", "/-/healthy", "/-/ready"] {
            #expect(try https(d.port, path).httpCode == 401, "\(path) is guarded too")
            #expect(try https(d.port, path, basic).ok, "\(path)")
        }

        let plain = try curl(basic + ["http://127.0.0.1:\(d.port)/metrics"])
        #expect(plain.exitCode != 0 && plain.httpCode != 200, "plain HTTP to the TLS port: \(plain)")
        let wrongCA = try https(d.port, "/metrics", basic, ca: "other-ca.crt")
        #expect(wrongCA.exitCode == 60, "\(wrongCA)")

        // The admin API keeps its bearer token: with it, no basic auth is asked; without, basic
        // auth comes first and then the token is still required.
        let admin = try https(d.port, "/api/v1/status", ["-H", "Authorization: Bearer s3cret-admin-token"])
        #expect(admin.ok, "\(admin)")
        #expect(try https(d.port, "/api/v1/status", ["-H", "Authorization: Bearer wrong"]).httpCode == 401)
        #expect(try https(d.port, "/api/v1/status", basic).httpCode == 401)
        #expect(try https(d.port, "/api/v1/status").headers.contains("WWW-Authenticate: Basic"))

        // Neither the password nor the token reaches the log.
        #expect(!d.logText.contains(Self.password))
        #expect(!d.logText.contains("s3cret-admin-token"))
    }

    @Test("mutual TLS: the daemon requires and verifies client certificates on both listeners")
    func mutualTLS() throws {
        let d = try start(try webConfig(Self.mutualTLS, users: false), separateAdmin: true)
        defer { _ = d.stop() }
        let adminPort = try #require(d.adminPort)
        #expect(try https(d.port, "/metrics", clientCert).ok)
        #expect(!(try https(d.port, "/metrics").ok), "no client certificate")
        #expect(!(try https(d.port, "/metrics", ["--cert", pki.path("other-server.crt"), "--key", pki.path("other-server.key")]).ok),
                "a certificate from another CA")
        #expect(try https(adminPort, "/api/v1/status", clientCert + ["-H", "Authorization: Bearer s3cret-admin-token"]).ok)
        #expect(!(try https(adminPort, "/api/v1/status", ["-H", "Authorization: Bearer s3cret-admin-token"]).ok))
        #expect(d.logText.contains("TLS client certificate rejected") || d.logText.contains("http server"), "\(d.logText)")
    }

    @Test("min_version TLS13 refuses a TLS 1.2 client")
    func minimumVersion() throws {
        let d = try start(try webConfig(Self.serverTLS + "\nmin_version: TLS13", users: false))
        defer { _ = d.stop() }
        #expect(!(try https(d.port, "/metrics", ["--tls-max", "1.2"]).ok))
        #expect(try https(d.port, "/metrics", ["--tlsv1.3"]).ok)
    }

    @Test("refused at start, exit 2: world-readable web config or key, invalid file (named with line and field)")
    func refusedAtStart() throws {
        func expectRefusal(_ file: String, _ needles: [String]) throws {
            let d = try DaemonTests.Daemon(["--web.config.file", file])
            d.process.waitUntilExit()
            #expect(d.process.terminationStatus == 2, "\(d.logText)")
            for needle in needles { #expect(d.logText.contains(needle), "\(needle): \(d.logText)") }
            #expect(!d.logText.contains("msg=listening"))
            _ = d.stop()
        }
        let readableConfig = try webConfig(Self.serverTLS)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: readableConfig)
        try expectRefusal(readableConfig, ["chmod 600", "password hashes", "basic_auth_users"])

        let readableKey = try webConfig(Self.serverTLS)
        let key = URL(fileURLWithPath: readableKey).deletingLastPathComponent().appendingPathComponent("server.key").path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)
        try expectRefusal(readableKey, ["chmod 600", "tls_server_config.key_file", "web.yml:3:"])

        let invalid = try webConfig(Self.serverTLS + "\nclient_auth_type: Maybe", users: false)
        try expectRefusal(invalid, ["web.yml:4:", "tls_server_config.client_auth_type", "unknown client_auth_type"])

        try expectRefusal("/nonexistent/web.yml", ["/nonexistent/web.yml", "No such file"])
    }

    @Test("SIGHUP re-reads the web configuration: new users and certificate apply, an invalid file changes nothing")
    func reload() throws {
        let file = try webConfig(Self.serverTLS)
        let d = try start(file)
        defer { _ = d.stop() }
        #expect(try https(d.port, "/metrics", basic).ok)

        func rewrite(_ yaml: String) throws {
            try yaml.write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
        func hangUp(waitingFor text: String) {
            let before = d.logText.components(separatedBy: text).count
            kill(d.process.processIdentifier, SIGHUP)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline && d.logText.components(separatedBy: text).count == before { Thread.sleep(forTimeInterval: 0.05) }
        }

        // A broken file: rejected, the running settings stay.
        try rewrite("tls_server_config:\n  cert_file: server.crt\n  key_file: stray.key\n")
        hangUp(waitingFor: "web configuration reload rejected")
        #expect(d.logText.contains("web configuration reload rejected"))
        #expect(d.logText.contains("tls_server_config.key_file"))
        #expect(try https(d.port, "/metrics", basic).ok)

        // Another certificate (from the other CA) and another password, on the same port.
        let newPassword = "rotated"
        try rewrite("tls_server_config:\n  cert_file: other-server.crt\n  key_file: other-server.key\nbasic_auth_users:\n  prometheus: '\(try htpasswdHash(newPassword))'\n")
        hangUp(waitingFor: "web configuration reloaded")
        #expect(d.logText.contains("web configuration reloaded"))
        #expect(try https(d.port, "/metrics", ["-u", "prometheus:\(newPassword)"], ca: "other-ca.crt").ok)
        #expect(try https(d.port, "/metrics", basic, ca: "other-ca.crt").httpCode == 401)
        #expect(try https(d.port, "/metrics", ["-u", "prometheus:\(newPassword)"]).exitCode == 60, "the old certificate is gone")
        #expect(!d.logText.contains(newPassword))
    }

    @Test("a real Prometheus scrapes over TLS with a client certificate and basic auth: up == 1; without credentials up == 0")
    func prometheusScrapesOverTLS() throws {
        guard PrometheusServer.isInstalled else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "prometheus is required in CI")
            return
        }
        let d = try start(try webConfig(Self.mutualTLS))
        defer { _ = d.stop() }
        let dir = d.dir.appendingPathComponent("prometheus")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let passwordFile = dir.appendingPathComponent("password")
        try Self.password.write(to: passwordFile, atomically: true, encoding: .utf8)
        let prometheus = try PrometheusServer(configuration: """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: ftrace_exporter
                scheme: https
                tls_config:
                  ca_file: \(pki.path("ca.crt"))
                  cert_file: \(pki.path("client.crt"))
                  key_file: \(pki.path("client.key"))
                basic_auth:
                  username: prometheus
                  password_file: \(passwordFile.path)
                static_configs: [{targets: ["127.0.0.1:\(d.port)"]}]
              - job_name: no_basic_auth
                scheme: https
                tls_config:
                  ca_file: \(pki.path("ca.crt"))
                  cert_file: \(pki.path("client.crt"))
                  key_file: \(pki.path("client.key"))
                static_configs: [{targets: ["127.0.0.1:\(d.port)"]}]
              - job_name: no_client_cert
                scheme: https
                tls_config: {ca_file: \(pki.path("ca.crt"))}
                basic_auth: {username: prometheus, password: "\(Self.password)"}
                static_configs: [{targets: ["127.0.0.1:\(d.port)"]}]
            """, directory: dir)
        defer { prometheus.stop() }
        let query = prometheus.query
        var up = "", unauthenticated = "", noCert = "", families = ""
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            up = try query("up{job=\"ftrace_exporter\"}")
            unauthenticated = try query("up{job=\"no_basic_auth\"}")
            noCert = try query("up{job=\"no_client_cert\"}")
            if up.contains("\"1\"]") && unauthenticated.contains("\"0\"]") && noCert.contains("\"0\"]") {
                families = try query("ftrace_exporter_build_info")
                break
            }
        }
        #expect(up.contains("\"value\":[") && up.contains("\"1\"]"), "up: \(up)")
        #expect(unauthenticated.contains("\"0\"]"), "a scrape without basic auth fails: \(unauthenticated)")
        #expect(noCert.contains("\"0\"]"), "a scrape without a client certificate fails: \(noCert)")
        #expect(families.contains("ftrace_exporter_build_info"), "\(families)")
        #expect(!d.logText.contains(Self.password))
    }
}
