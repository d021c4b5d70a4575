import CMicroHTTPD
import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a TLS listener treats client certificates: the five policies of Go's `crypto/tls`
/// `ClientAuthType`, under their Go names (which Prometheus' web configuration files use).
///
/// On libmicrohttpd/GnuTLS: the certificate request mode (`GNUTLS_CERT_REQUEST` or
/// `GNUTLS_CERT_REQUIRE`) is set on each connection's session before its handshake, and a
/// verification callback runs inside the handshake, so a rejected client fails the handshake,
/// as with Go. Every request is checked again before it reaches the handler.
public enum ClientCertificatePolicy: String, Sendable, CaseIterable {
    /// No certificate is asked for.
    case noClientCert = "NoClientCert"
    /// A certificate is asked for; the client may send none; one sent is not verified.
    case requestClientCert = "RequestClientCert"
    /// The client must send a certificate, which is not verified against any authority (the
    /// handshake still proves the client holds its key).
    case requireAnyClientCert = "RequireAnyClientCert"
    /// The client may send no certificate; one sent must verify against the client CAs.
    case verifyClientCertIfGiven = "VerifyClientCertIfGiven"
    /// The client must send a certificate that verifies against the client CAs.
    case requireAndVerifyClientCert = "RequireAndVerifyClientCert"

    /// The policy named as in Go (and the web configuration file); "RequireClientCert" is the
    /// older name of RequireAnyClientCert, which Prometheus' exporter-toolkit still accepts.
    public init?(goName: String) {
        if goName == "RequireClientCert" { self = .requireAnyClientCert; return }
        self.init(rawValue: goName)
    }

    var requestsCertificate: Bool { self != .noClientCert }
    var requiresCertificate: Bool { self == .requireAnyClientCert || self == .requireAndVerifyClientCert }
    var verifiesCertificate: Bool { self == .verifyClientCertIfGiven || self == .requireAndVerifyClientCert }
}

/// A TLS protocol version.
public enum TLSProtocolVersion: Int, Sendable, Comparable, CaseIterable {
    case tls10 = 0, tls11, tls12, tls13

    /// From the web configuration file's names: TLS10, TLS11, TLS12, TLS13.
    public init?(name: String) {
        guard let version = TLSProtocolVersion.allCases.first(where: { $0.name == name }) else { return nil }
        self = version
    }

    /// TLS10, TLS11, TLS12 or TLS13.
    public var name: String { "TLS1\(rawValue)" }

    var gnutlsName: String { "VERS-TLS1.\(rawValue)" }

    public static func < (a: TLSProtocolVersion, b: TLSProtocolVersion) -> Bool { a.rawValue < b.rawValue }
}

/// An elliptic curve for (EC)DHE key exchange, under Go's names.
public enum TLSCurve: String, Sendable, CaseIterable {
    case p256 = "CurveP256"
    case p384 = "CurveP384"
    case p521 = "CurveP521"
    case x25519 = "X25519"

    var gnutlsGroup: String {
        switch self {
        case .p256: return "GROUP-SECP256R1"
        case .p384: return "GROUP-SECP384R1"
        case .p521: return "GROUP-SECP521R1"
        case .x25519: return "GROUP-X25519"
        }
    }
}

/// A cipher suite under Go's name (those of `tls.CipherSuites()`), with the GnuTLS algorithms it
/// is made of.
public struct TLSCipherSuite: Sendable, Hashable {
    /// Go's (IANA's) name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
    public let name: String
    /// The IANA code point.
    public let id: UInt16
    let keyExchange: String?
    let cipher: String
    let mac: String

    /// TLS 1.3 suites cannot be configured (Go ignores them in this list, and so does this server).
    public var isTLS13: Bool { keyExchange == nil }

    /// The suite with this Go name, or nil.
    public static func named(_ name: String) -> TLSCipherSuite? {
        all.first { $0.name == name } ?? aliases[name]
    }

    /// Every suite a configuration can name.
    public static let all: [TLSCipherSuite] = [
        .init(name: "TLS_RSA_WITH_AES_128_CBC_SHA", id: 0x002F, keyExchange: "RSA", cipher: "AES-128-CBC", mac: "SHA1"),
        .init(name: "TLS_RSA_WITH_AES_256_CBC_SHA", id: 0x0035, keyExchange: "RSA", cipher: "AES-256-CBC", mac: "SHA1"),
        .init(name: "TLS_RSA_WITH_AES_128_GCM_SHA256", id: 0x009C, keyExchange: "RSA", cipher: "AES-128-GCM", mac: "AEAD"),
        .init(name: "TLS_RSA_WITH_AES_256_GCM_SHA384", id: 0x009D, keyExchange: "RSA", cipher: "AES-256-GCM", mac: "AEAD"),
        .init(name: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", id: 0xC009, keyExchange: "ECDHE-ECDSA", cipher: "AES-128-CBC", mac: "SHA1"),
        .init(name: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", id: 0xC00A, keyExchange: "ECDHE-ECDSA", cipher: "AES-256-CBC", mac: "SHA1"),
        .init(name: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", id: 0xC013, keyExchange: "ECDHE-RSA", cipher: "AES-128-CBC", mac: "SHA1"),
        .init(name: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", id: 0xC014, keyExchange: "ECDHE-RSA", cipher: "AES-256-CBC", mac: "SHA1"),
        .init(name: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", id: 0xC02B, keyExchange: "ECDHE-ECDSA", cipher: "AES-128-GCM", mac: "AEAD"),
        .init(name: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", id: 0xC02C, keyExchange: "ECDHE-ECDSA", cipher: "AES-256-GCM", mac: "AEAD"),
        .init(name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", id: 0xC02F, keyExchange: "ECDHE-RSA", cipher: "AES-128-GCM", mac: "AEAD"),
        .init(name: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", id: 0xC030, keyExchange: "ECDHE-RSA", cipher: "AES-256-GCM", mac: "AEAD"),
        .init(name: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", id: 0xCCA8, keyExchange: "ECDHE-RSA", cipher: "CHACHA20-POLY1305", mac: "AEAD"),
        .init(name: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", id: 0xCCA9, keyExchange: "ECDHE-ECDSA", cipher: "CHACHA20-POLY1305", mac: "AEAD"),
        .init(name: "TLS_AES_128_GCM_SHA256", id: 0x1301, keyExchange: nil, cipher: "AES-128-GCM", mac: "AEAD"),
        .init(name: "TLS_AES_256_GCM_SHA384", id: 0x1302, keyExchange: nil, cipher: "AES-256-GCM", mac: "AEAD"),
        .init(name: "TLS_CHACHA20_POLY1305_SHA256", id: 0x1303, keyExchange: nil, cipher: "CHACHA20-POLY1305", mac: "AEAD"),
    ]

    /// Go's older names for the ChaCha20 suites.
    static let aliases: [String: TLSCipherSuite] = [
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": all.first { $0.id == 0xCCA8 }!,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": all.first { $0.id == 0xCCA9 }!,
    ]

    static func named(id: UInt16) -> String {
        all.first { $0.id == id }?.name ?? String(format4hex: id)
    }
}

extension String {
    init(format4hex value: UInt16) {
        let digits = Array("0123456789ABCDEF")
        self = "0x" + String([digits[Int(value >> 12)], digits[Int(value >> 8 & 15)], digits[Int(value >> 4 & 15)], digits[Int(value & 15)]])
    }
}

/// Why a `TLSConfiguration` cannot be used, and which of its settings is at fault (so that a
/// configuration file can point at the field).
public struct TLSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Setting: Sendable, Equatable {
        case certificate, privateKey, clientCAs, clientCertificates, allowedClientSANs, versions, cipherSuites, curves
    }
    public var setting: Setting
    public var message: String

    public init(_ setting: Setting, _ message: String) {
        self.setting = setting
        self.message = message
    }

    public var description: String { message }
}

/// TLS for a listener: the server's certificate and key, client certificate policy, protocol
/// versions and algorithms. The equivalent of Prometheus' `tls_server_config`, applied through
/// libmicrohttpd's HTTPS options and GnuTLS.
public struct TLSConfiguration: Sendable, Equatable {
    /// The server's certificate, PEM, followed by any intermediates.
    public var certificatePEM: [UInt8]
    /// The server's private key, PEM, unencrypted (PKCS#8 or the traditional RSA/EC forms).
    public var privateKeyPEM: [UInt8]
    /// Authorities that client certificates are verified against, PEM; they are also named to
    /// clients in the certificate request.
    public var clientCAsPEM: [UInt8]?
    /// Whether and how client certificates are asked for and verified.
    public var clientCertificates: ClientCertificatePolicy
    /// When set, the client certificate must hold one of these subject alternative names (DNS
    /// name, e-mail address, IP address or URI, compared exactly); requires a policy that
    /// requires a certificate.
    public var allowedClientSANs: [String]?
    public var minimumVersion: TLSProtocolVersion
    public var maximumVersion: TLSProtocolVersion
    /// TLS 1.0-1.2 cipher suites; nil keeps GnuTLS' defaults. TLS 1.3 suites in the list are
    /// ignored, as in Go; TLS 1.3 then uses the AEAD ciphers (AES-GCM, ChaCha20-Poly1305) that
    /// the list's suites use.
    public var cipherSuites: [TLSCipherSuite]?
    /// Key exchange groups in order of preference; nil keeps GnuTLS' defaults.
    public var curvePreferences: [TLSCurve]?
    /// The server picks the cipher suite by its own order rather than the client's.
    public var preferServerCipherSuites: Bool

    public init(
        certificatePEM: [UInt8],
        privateKeyPEM: [UInt8],
        clientCAsPEM: [UInt8]? = nil,
        clientCertificates: ClientCertificatePolicy = .noClientCert,
        allowedClientSANs: [String]? = nil,
        minimumVersion: TLSProtocolVersion = .tls12,
        maximumVersion: TLSProtocolVersion = .tls13,
        cipherSuites: [TLSCipherSuite]? = nil,
        curvePreferences: [TLSCurve]? = nil,
        preferServerCipherSuites: Bool = true
    ) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.clientCAsPEM = clientCAsPEM
        self.clientCertificates = clientCertificates
        self.allowedClientSANs = allowedClientSANs
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.cipherSuites = cipherSuites
        self.curvePreferences = curvePreferences
        self.preferServerCipherSuites = preferServerCipherSuites
    }

    /// Checks everything libmicrohttpd would otherwise only find out at start (certificate, key,
    /// that they match, client CAs) and the consistency of the settings; the message says what is
    /// wrong in the terms of the configuration file.
    public func validate() throws(TLSConfigurationError) {
        try checkPolicy()
        try checkCertificateAndKey()
        if let clientCAsPEM {
            let count = try withGnuTLSCredentials { credentials in
                withDatum(clientCAsPEM) { gnutls_certificate_set_x509_trust_mem(credentials, $0, GNUTLS_X509_FMT_PEM) }
            }
            if count < 0 {
                throw TLSConfigurationError(.clientCAs, "cannot read the client CA certificates: \(gnutlsError(count))")
            }
            if count == 0 { throw TLSConfigurationError(.clientCAs, "holds no PEM certificate") }
        }
        _ = try priorities()
    }

    private func checkPolicy() throws(TLSConfigurationError) {
        if clientCAsPEM != nil && clientCertificates == .noClientCert {
            throw TLSConfigurationError(
                .clientCAs, "client CAs are configured but client_auth_type is NoClientCert; set client_auth_type (RequireAndVerifyClientCert to verify clients)")
        }
        if clientCertificates.verifiesCertificate && clientCAsPEM == nil {
            throw TLSConfigurationError(
                .clientCertificates,
                "\(clientCertificates.rawValue) needs client_ca_file (or client_ca): without it Go would verify clients against the system's public authorities, which this exporter refuses to do")
        }
        if let sans = allowedClientSANs {
            if !clientCertificates.requiresCertificate {
                throw TLSConfigurationError(
                    .allowedClientSANs, "client_allowed_sans requires client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert")
            }
            if sans.isEmpty { throw TLSConfigurationError(.allowedClientSANs, "an empty list would admit no client; remove it or name the allowed SANs") }
        }
        if minimumVersion > maximumVersion {
            throw TLSConfigurationError(.versions, "min_version \(minimumVersion.name) is above max_version \(maximumVersion.name)")
        }
    }

    private func checkCertificateAndKey() throws(TLSConfigurationError) {
        // The certificate alone, then the key alone, so that each gets its own message.
        var certificates: UnsafeMutablePointer<gnutls_x509_crt_t?>?
        var count: UInt32 = 0
        let imported = withDatum(certificatePEM) { gnutls_x509_crt_list_import2(&certificates, &count, $0, GNUTLS_X509_FMT_PEM, 0) }
        if imported < 0 || count == 0 {
            throw TLSConfigurationError(.certificate, "not a PEM certificate: \(imported < 0 ? gnutlsError(imported) : "none found")")
        }
        for i in 0..<Int(count) { gnutls_x509_crt_deinit(certificates![i]) }
        gnutls_free_function(certificates)

        var key: gnutls_x509_privkey_t?
        gnutls_x509_privkey_init(&key)
        defer { gnutls_x509_privkey_deinit(key) }
        let keyResult = withDatum(privateKeyPEM) { gnutls_x509_privkey_import2(key, $0, GNUTLS_X509_FMT_PEM, nil, 0) }
        if keyResult < 0 {
            throw TLSConfigurationError(.privateKey, "not an unencrypted PEM private key: \(gnutlsError(keyResult))")
        }

        let paired = try withGnuTLSCredentials { credentials in
            withDatum(certificatePEM) { certificate in
                withDatum(privateKeyPEM) { key in
                    gnutls_certificate_set_x509_key_mem2(credentials, certificate, key, GNUTLS_X509_FMT_PEM, nil, 0)
                }
            }
        }
        if paired < 0 {
            if paired == GNUTLS_E_CERTIFICATE_KEY_MISMATCH {
                throw TLSConfigurationError(.privateKey, "the private key does not belong to the certificate")
            }
            throw TLSConfigurationError(.certificate, "cannot use the certificate and key: \(gnutlsError(paired))")
        }
    }

    /// The GnuTLS priority string for libmicrohttpd's MHD_OPTION_HTTPS_PRIORITIES, e.g.
    /// `NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE`.
    ///
    /// GnuTLS enables cipher suites as combinations of key exchange, cipher and MAC, not one by
    /// one. A `cipherSuites` list is accepted only when the combinations of its parts are exactly
    /// the listed suites; otherwise the error names the suites that would also be enabled (a
    /// list that silently enabled more than it says would be a weaker configuration than the
    /// file claims).
    public func priorities() throws(TLSConfigurationError) -> String {
        var parts = ["NORMAL", "-VERS-ALL"]
        for version in TLSProtocolVersion.allCases.reversed() where version >= minimumVersion && version <= maximumVersion {
            parts.append("+" + version.gnutlsName)
        }
        if preferServerCipherSuites { parts.append("%SERVER_PRECEDENCE") }
        if let curves = curvePreferences {
            if curves.isEmpty { throw TLSConfigurationError(.curves, "an empty list leaves no key exchange group; remove it to use the defaults") }
            parts.append("-GROUP-ALL")
            parts += unique(curves.map { "+" + $0.gnutlsGroup })
        }
        var wanted: Set<UInt16>?
        if let suites = cipherSuites {
            let classic = suites.filter { !$0.isTLS13 }
            if classic.isEmpty {
                if minimumVersion <= .tls12 {
                    throw TLSConfigurationError(
                        .cipherSuites, "lists no TLS 1.0-1.2 suite (TLS 1.3 suites cannot be configured): TLS 1.2 clients would find no suite; list some, or set min_version: TLS13")
                }
            } else {
                parts.append("-KX-ALL")
                parts += unique(classic.map { "+" + $0.keyExchange! })
                parts.append("-CIPHER-ALL")
                parts += unique(classic.map { "+" + $0.cipher })
                parts.append("-MAC-ALL")
                parts += unique(classic.map { "+" + $0.mac })
                wanted = Set(classic.map(\.id))
            }
        }
        let text = parts.joined(separator: ":")
        let enabled = try TLSConfiguration.enabledSuites(text)
        if let wanted, minimumVersion <= .tls12 {
            let classic = Set(enabled.filter { !$0.tls13 }.map(\.id))
            let extra = classic.subtracting(wanted)
            if !extra.isEmpty {
                throw TLSConfigurationError(
                    .cipherSuites,
                    "GnuTLS enables suites as combinations of key exchange, cipher and MAC; this list would also enable \(extra.sorted().map(TLSCipherSuite.named(id:)).joined(separator: ", ")). Add them to the list (or choose suites whose parts combine to exactly the list)")
            }
            let missing = wanted.subtracting(classic)
            if !missing.isEmpty {
                throw TLSConfigurationError(
                    .cipherSuites,
                    "GnuTLS cannot enable \(missing.sorted().map(TLSCipherSuite.named(id:)).joined(separator: ", ")) with these versions and curves")
            }
        }
        if maximumVersion == .tls13 && !enabled.contains(where: \.tls13) {
            throw TLSConfigurationError(
                .cipherSuites, "TLS 1.3 needs an ECDHE suite with an AEAD cipher (AES-GCM or ChaCha20-Poly1305) in cipher_suites; add one, or set max_version: TLS12")
        }
        if enabled.isEmpty { throw TLSConfigurationError(.versions, "no cipher suite is left for these versions") }
        return text
    }

    /// The suites a priority string enables: (IANA id, TLS 1.3 only).
    static func enabledSuites(_ priorities: String) throws(TLSConfigurationError) -> [(id: UInt16, tls13: Bool)] {
        var cache: gnutls_priority_t?
        var errorPosition: UnsafePointer<CChar>?
        let result = gnutls_priority_init(&cache, priorities, &errorPosition)
        if result < 0 {
            let at = errorPosition.map { String(cString: $0) } ?? ""
            throw TLSConfigurationError(.cipherSuites, "GnuTLS refuses the priority string \(priorities) at '\(at)': \(gnutlsError(result))")
        }
        defer { gnutls_priority_deinit(cache) }
        var suites: [(id: UInt16, tls13: Bool)] = []
        var index: UInt32 = 0
        while true {
            var suiteIndex: UInt32 = 0
            let r = gnutls_priority_get_cipher_suite_index(cache, index, &suiteIndex)
            index += 1
            if r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE { break }
            if r < 0 { continue }
            var id: (UInt8, UInt8) = (0, 0)
            var kx = GNUTLS_KX_UNKNOWN
            var cipher = GNUTLS_CIPHER_UNKNOWN
            var mac = GNUTLS_MAC_UNKNOWN
            var minimum = GNUTLS_VERSION_UNKNOWN
            let name = withUnsafeMutableBytes(of: &id) { raw in
                gnutls_cipher_suite_info(Int(suiteIndex), raw.baseAddress!.assumingMemoryBound(to: UInt8.self), &kx, &cipher, &mac, &minimum)
            }
            if name == nil { continue }
            suites.append((UInt16(id.0) << 8 | UInt16(id.1), minimum == GNUTLS_TLS1_3))
        }
        return suites
    }

    private func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
