import Exporter
import HTTPServer
import Platform
import YAML

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a web configuration file in the format of Prometheus' exporter-toolkit
/// (`docs/web-configuration.md`); every problem is a `ConfigError` naming file, line and field.
///
/// Differences from the toolkit, all refusals rather than silent changes:
/// - the private key file, and this file when it holds `basic_auth_users` (password hashes), follow
///   the rule of every secret file (`SecretFile`): mode 0600 or 0400, owned by root or the
///   exporter's user;
/// - VerifyClientCertIfGiven and RequireAndVerifyClientCert need `client_ca_file` (or
///   `client_ca`): Go would fall back to the system's public authorities;
/// - `cipher_suites` must be a list GnuTLS can enable exactly (see `TLSConfiguration.priorities`);
/// - TLS settings without a certificate and key are an error, not plain HTTP;
/// - an empty `client_allowed_sans` list is an error (it would admit nobody).
public enum WebConfigLoader {
    static let topFields = ["tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"]
    static let tlsFields = [
        "cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type", "client_ca_file", "client_allowed_sans",
        "min_version", "max_version", "cipher_suites", "prefer_server_cipher_suites", "curve_preferences",
    ]
    /// The headers the toolkit lets a configuration set, with their allowed values (nil: any).
    /// Everything else (Authorization, Content-Type, Set-Cookie, ...) is refused.
    static let allowedHeaders: [(name: String, values: [String]?)] = [
        ("Strict-Transport-Security", nil),
        ("X-Content-Type-Options", ["nosniff"]),
        ("X-Frame-Options", ["deny", "sameorigin"]),
        ("X-XSS-Protection", nil),
        ("Content-Security-Policy", nil),
    ]

    /// Reads and checks `path`, and the certificate, key and CA files it names (relative paths
    /// are taken from the file's directory, as in the toolkit).
    public static func load(path: String) throws(ConfigError) -> WebConfig {
        let contents = try readFile(path, secret: nil) { message in
            ConfigError(file: path, line: nil, column: nil, field: "", message: message)
        }
        guard let text = String(validating: contents.bytes, as: UTF8.self) else {
            throw ConfigError(file: path, line: nil, column: nil, field: "", message: "not UTF-8 text")
        }
        return try load(yaml: text, file: path, contents: contents)
    }

    /// Parses `yaml` as if read from `file` (whose directory anchors relative paths); with the
    /// file's `contents`, its mode is checked when it holds password hashes.
    public static func load(yaml: String, file: String, contents: FileContents? = nil) throws(ConfigError) -> WebConfig {
        let root: YAMLNode?
        do throws(YAMLError) {
            root = try YAMLDocument.parse(yaml)
        } catch {
            throw ConfigLoader.yamlSyntaxError(error, file: file)
        }
        var config = WebConfig.none()
        config.file = file
        // An empty file configures nothing, as in the toolkit.
        guard let root else { return config }
        let top = try YAMLField(node: root, path: "", file: file).mapping(allowed: topFields)
        let directory = directoryOf(file)

        if let t = top["tls_server_config"] { config.tls = try loadTLS(t, directory: directory) }
        if let h = top["http_server_config"] {
            let m = try h.mapping(allowed: ["http2", "headers"])
            if let v = m["http2"] { config.http2 = try v.bool() }
            if let headers = m["headers"] { config.headers = try loadHeaders(headers) }
        }
        if let u = top["basic_auth_users"] {
            if let contents, let problem = SecretFile.problem(with: contents, path: file, holding: "password hashes (basic_auth_users)") {
                throw u.error(problem)
            }
            let (users, authenticator) = try loadUsers(u)
            config.users = users
            config.basicAuth = authenticator
        }
        if let r = top["rate_limit"] {
            let m = try r.mapping(allowed: ["interval", "burst"])
            var interval = 0.0
            if let i = m["interval"] {
                let text = try i.string()
                guard let seconds = parseDuration(text) else { throw i.error("'\(text)' is not a duration (examples: 1s, 100ms; 0 turns rate limiting off)") }
                interval = seconds
            }
            let burst = try m["burst"]?.int(minimum: 0) ?? 0
            if interval > 0 {
                if burst < 1 { throw (m["burst"] ?? r).error("burst must be at least 1, or every request would be refused") }
                config.rateLimit = .init(interval: interval, burst: burst)
            }
        }
        return config
    }

    // MARK: TLS

    static func loadTLS(_ field: YAMLField, directory: String) throws(ConfigError) -> TLSConfiguration? {
        let m = try field.mapping(allowed: tlsFields)
        func pem(_ inline: String, _ file: String, secret: Bool = false) throws(ConfigError) -> (bytes: [UInt8], field: YAMLField)? {
            let inlineField = m[inline].flatMap { $0.isNull ? nil : $0 }
            let fileField = m[file].flatMap { $0.isNull ? nil : $0 }
            if let inlineField, fileField != nil {
                throw inlineField.error("give \(file) or \(inline), not both")
            }
            if let inlineField {
                let text = try inlineField.string()
                return text.isEmpty ? nil : (Array(text.utf8), inlineField)
            }
            guard let fileField else { return nil }
            let name = try fileField.string()
            if name.isEmpty { return nil }
            let path = name.hasPrefix("/") ? name : directory + "/" + name
            let contents = try readFile(path, secret: secret ? "a private key" : nil) { message in fileField.error(message) }
            return (contents.bytes, fileField)
        }
        let certificate = try pem("cert", "cert_file")
        let key = try pem("key", "key_file", secret: true)
        let clientCAs = try pem("client_ca", "client_ca_file")

        var policy = ClientCertificatePolicy.noClientCert
        if let a = m["client_auth_type"], !a.isNull {
            let text = try a.string()
            if !text.isEmpty {
                guard let value = ClientCertificatePolicy(goName: text) else {
                    throw a.error("unknown client_auth_type '\(text)'; one of \(ClientCertificatePolicy.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                policy = value
            }
        }
        // As in the toolkit, TLS is on when a certificate, key, client CA or client_auth_type is
        // given; then certificate and key are both required.
        let enabled = certificate != nil || key != nil || clientCAs != nil || m["client_auth_type"].map { !$0.isNull } == true
        guard enabled else {
            if let name = m.keys.sorted().first(where: { !(m[$0]?.isNull ?? true) }) {
                throw m[name]!.error(
                    "TLS settings without cert_file and key_file: TLS would be off and the listener plain HTTP; add cert_file and key_file, or remove tls_server_config")
            }
            return nil
        }
        guard let certificate else { throw field.error("missing one of cert or cert_file") }
        guard let key else { throw field.error("missing one of key or key_file") }

        var configuration = TLSConfiguration(certificatePEM: certificate.bytes, privateKeyPEM: key.bytes, clientCAsPEM: clientCAs?.bytes)
        configuration.clientCertificates = policy
        if let s = m["client_allowed_sans"], !s.isNull {
            configuration.allowedClientSANs = try s.sequence().map { f throws(ConfigError) in try f.string() }
        }
        if let v = m["min_version"] { configuration.minimumVersion = try version(v) }
        if let v = m["max_version"] { configuration.maximumVersion = try version(v) }
        if let s = m["cipher_suites"], !s.isNull {
            var suites: [TLSCipherSuite] = []
            for f in try s.sequence() {
                let name = try f.string()
                guard let suite = TLSCipherSuite.named(name) else {
                    throw f.error("unknown cipher suite '\(name)'; known: \(TLSCipherSuite.all.map(\.name).joined(separator: ", "))")
                }
                suites.append(suite)
            }
            configuration.cipherSuites = suites
        }
        if let c = m["curve_preferences"], !c.isNull {
            var curves: [TLSCurve] = []
            for f in try c.sequence() {
                let name = try f.string()
                guard let curve = TLSCurve(rawValue: name) else {
                    throw f.error("unknown curve '\(name)'; one of \(TLSCurve.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                curves.append(curve)
            }
            configuration.curvePreferences = curves
        }
        if let p = m["prefer_server_cipher_suites"] { configuration.preferServerCipherSuites = try p.bool() }

        do throws(TLSConfigurationError) {
            try configuration.validate()
        } catch {
            let place: YAMLField
            switch error.setting {
            case .certificate: place = certificate.field
            case .privateKey: place = key.field
            case .clientCAs: place = clientCAs?.field ?? m["client_auth_type"] ?? field
            case .clientCertificates: place = m["client_auth_type"] ?? field
            case .allowedClientSANs: place = m["client_allowed_sans"] ?? field
            case .versions: place = m["min_version"] ?? m["max_version"] ?? field
            case .cipherSuites: place = m["cipher_suites"] ?? m["min_version"] ?? m["max_version"] ?? field
            case .curves: place = m["curve_preferences"] ?? field
            }
            throw place.error(error.message)
        }
        return configuration
    }

    static func version(_ field: YAMLField) throws(ConfigError) -> TLSProtocolVersion {
        let text = try field.string()
        guard let version = TLSProtocolVersion(name: text) else {
            throw field.error("unknown TLS version '\(text)'; one of TLS10, TLS11, TLS12, TLS13")
        }
        return version
    }

    // MARK: HTTP

    static func loadHeaders(_ field: YAMLField) throws(ConfigError) -> [(name: String, value: String)] {
        if field.isNull { return [] }
        guard let mapping = field.node.mapping else { throw field.error("expected a mapping of header names to values") }
        var headers: [(name: String, value: String)] = []
        for pair in mapping {
            guard let name = pair.key.scalar else { throw field.error("header names must be strings") }
            let keyField = YAMLField(node: pair.key, path: "\(field.path).\(name)", file: field.file)
            let valueField = field.child(name, pair.value)
            guard let allowed = allowedHeaders.first(where: { $0.name == name }) else {
                throw keyField.error(
                    "HTTP header \"\(name)\" can not be configured; allowed: \(allowedHeaders.map(\.name).joined(separator: ", "))")
            }
            if headers.contains(where: { $0.name == name }) { throw keyField.error("given twice") }
            let value = try valueField.string()
            if let values = allowed.values, !values.contains(value) {
                throw valueField.error("invalid value for \(name); expected one of \(values.joined(separator: ", ")), got '\(value)'")
            }
            if value.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F }) {
                throw valueField.error("header values cannot hold control characters (line breaks)")
            }
            // "Unset if blank", as in the toolkit.
            if !value.isEmpty { headers.append((name, value)) }
        }
        return headers
    }

    static func loadUsers(_ field: YAMLField) throws(ConfigError) -> ([String], BasicAuthenticator?) {
        if field.isNull { return ([], nil) }
        guard let mapping = field.node.mapping else { throw field.error("expected a mapping of user names to bcrypt hashes") }
        var users: [String: String] = [:]
        var order: [String] = []
        for pair in mapping {
            guard let user = pair.key.scalar else { throw field.error("user names must be strings") }
            let keyField = YAMLField(node: pair.key, path: "\(field.path).\(user)", file: field.file)
            let valueField = field.child(user, pair.value)
            if users[user] != nil { throw keyField.error("user given twice") }
            if user.isEmpty { throw keyField.error("the user name is empty") }
            if user.contains(":") { throw keyField.error("a user name cannot contain ':' (basic auth splits user and password at the first ':')") }
            let hash = try valueField.string()
            // The message says what is wrong with the value, never the value itself.
            if let problem = BasicAuthenticator.problem(withHash: hash) { throw valueField.error(problem) }
            users[user] = hash
            order.append(user)
        }
        if users.isEmpty { return ([], nil) }
        do throws(BasicAuthError) {
            return (order, try BasicAuthenticator(users: users))
        } catch {
            throw field.error(error.description)
        }
    }

    // MARK: Files

    static func directoryOf(_ file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        let directory = String(file[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// The largest web configuration, certificate or key file read.
    static let maximumFileBytes = 16 << 20

    /// Reads a whole file; when it holds a `secret`, the rule of every secret file applies.
    static func readFile(_ path: String, secret: String?, error makeError: (String) -> ConfigError) throws(ConfigError) -> FileContents {
        let contents: FileContents
        do {
            contents = try SecretFile.readRegularFile(path, limit: maximumFileBytes, what: "a web configuration, certificate or key")
        } catch {
            throw makeError(error.description)
        }
        if let secret, let problem = SecretFile.problem(with: contents, path: path, holding: secret) { throw makeError(problem) }
        return contents
    }
}
