import Exporter
import HTTPServer
import Locking
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Applies the web configuration's HTTP side to every request of a listener: rate limit, basic
/// auth, extra response headers. TLS is the server's part (`HTTPServerConfiguration.tls`).
///
/// Basic auth guards everything on the listener, as in the exporter-toolkit: the metrics, the
/// landing page, `/-/healthy` and `/-/ready`. The one exception is the admin API: a request
/// can carry one `Authorization` header, and admin requests carry their bearer token in it, so a
/// request to `/api/...` with `Authorization: Bearer ...` skips basic auth and is authenticated
/// by the admin API's token instead (itself a secret from a 0600 file, compared in constant time).
/// Admin requests without a bearer token still meet basic auth first.
public final class WebGuard: Sendable {
    struct State: Sendable {
        var config: WebConfig
        var limiter: TokenBucket?
    }

    private let state: Locked<State>
    private let adminBearerPassThrough: Bool
    private let logger: Logger

    /// `adminBearerPassThrough`: the admin API is on (its requests authenticate by bearer token).
    public init(config: WebConfig, adminBearerPassThrough: Bool, logger: Logger) {
        state = Locked(State(config: config, limiter: config.rateLimit.map(TokenBucket.init)))
        self.adminBearerPassThrough = adminBearerPassThrough
        self.logger = logger
    }

    /// Takes a reloaded configuration; requests already past the guard are unaffected.
    public func update(_ config: WebConfig) {
        state.withLock { state in
            if state.config.rateLimit != config.rateLimit { state.limiter = config.rateLimit.map(TokenBucket.init) }
            state.config = config
        }
    }

    /// The configuration in force.
    public var config: WebConfig { state.withLock { $0.config } }

    /// Guards `next`.
    public func handle(_ request: HTTPRequest, _ next: (HTTPRequest) -> HTTPResponse) -> HTTPResponse {
        reply(request) { .now(next($0)) }.waitForResponse()
    }

    /// Guards `next`, whose answer may come later: the configured headers are added to it then.
    public func reply(_ request: HTTPRequest, _ next: (HTTPRequest) -> HTTPReply) -> HTTPReply {
        let (config, limited) = state.withLock { state -> (WebConfig, Bool) in
            guard var limiter = state.limiter else { return (state.config, false) }
            let allowed = limiter.take()
            state.limiter = limiter
            return (state.config, !allowed)
        }
        let headers = config.headers
        @Sendable func withHeaders(_ response: HTTPResponse) -> HTTPResponse {
            var response = response
            for header in headers where response.header(header.name) == nil {
                response.headers.append(header)
            }
            return response
        }
        if limited {
            return .now(withHeaders(.text(429, "too many requests\n")))
        }
        if let auth = config.basicAuth, !bypassesBasicAuth(request), auth.authenticate(authorization: request.header("authorization")) == nil {
            // Never logs the header: it holds the password.
            logger.debug("basic auth failed", metadata: ["remote": "\(request.remoteAddress)", "path": "\(request.path)"])
            var response = HTTPResponse.text(401, "unauthorized\n")
            response.headers.append(("WWW-Authenticate", "Basic realm=\"ftrace_exporter\""))
            return .now(withHeaders(response))
        }
        switch next(request) {
        case .now(let response):
            return .now(withHeaders(response))
        case .later(let start):
            return .later { responder in start(responder.map(withHeaders)) }
        }
    }

    func bypassesBasicAuth(_ request: HTTPRequest) -> Bool {
        guard adminBearerPassThrough, request.path.hasPrefix("/api/"), let authorization = request.header("authorization") else {
            return false
        }
        return authorization.utf8.count > 7 && authorization.prefix(7).lowercased() == "bearer "
    }
}

/// A token bucket: `burst` tokens, one more every `interval` seconds (Go's rate.Limiter with
/// rate.Every(interval)).
struct TokenBucket: Sendable {
    let interval: Double
    let burst: Double
    var tokens: Double
    var last: Double

    init(_ limit: WebConfig.RateLimit) {
        interval = limit.interval
        burst = Double(limit.burst)
        tokens = burst
        last = TokenBucket.now()
    }

    mutating func take() -> Bool {
        let now = TokenBucket.now()
        tokens = min(burst, tokens + (now - last) / interval)
        last = now
        if tokens >= 1 {
            tokens -= 1
            return true
        }
        return false
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
