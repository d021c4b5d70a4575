import Exporter
import HTTPServer

/// The web configuration file (`--web.config.file`): TLS, basic auth, extra response headers and
/// rate limiting, in the format of Prometheus' exporter-toolkit so operators can reuse theirs.
public struct WebConfig: Sendable {
    /// The file it was read from.
    public var file: String
    /// nil: plain HTTP.
    public var tls: TLSConfiguration?
    /// `http_server_config.headers`: added to every response the exporter's handlers make.
    public var headers: [(name: String, value: String)]
    /// `basic_auth_users`, checked; nil when no user is configured (no basic auth).
    public var basicAuth: BasicAuthenticator?
    /// The configured user names (never their hashes), for logs.
    public var users: [String]
    /// `rate_limit`: at most `burst` requests at once, refilled one per `interval` seconds.
    public var rateLimit: RateLimit?
    /// `http_server_config.http2`: accepted for compatibility; libmicrohttpd speaks HTTP/1.1 only
    /// (ALPN offers http/1.1), so it changes nothing.
    public var http2: Bool

    public struct RateLimit: Sendable, Equatable {
        public var interval: Double
        public var burst: Int
    }

    /// A configuration that changes nothing: plain HTTP, no auth, no headers.
    public static func none() -> WebConfig {
        WebConfig(file: "", tls: nil, headers: [], basicAuth: nil, users: [], rateLimit: nil, http2: true)
    }
}
