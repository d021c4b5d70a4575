/// How an `HTTPServer` listens and what it accepts.
public struct HTTPServerConfiguration: Sendable {
    /// A numeric IPv4 or IPv6 address to listen on: "0.0.0.0" (all IPv4), "127.0.0.1", "::1",
    /// "::" or "" (all addresses, IPv6 and IPv4 on one dual-stack socket; "" falls back to all
    /// IPv4 addresses where the host has no IPv6). Brackets ("[::1]") are accepted. Host names are
    /// not resolved: a listener should not depend on DNS at start-up.
    public var address: String = "0.0.0.0"
    /// The TCP port; 0 lets the kernel choose (read it back from `HTTPServer.port`).
    public var port: UInt16 = 9747
    /// The most connections open at once. A connection past it is accepted and closed at once,
    /// without a response, so that its client fails fast instead of waiting unseen in the
    /// kernel's accept queue; open connections are unaffected. Idle keep-alive connections count
    /// until `connectionTimeoutSeconds` closes them. Connections accepted at the same instant on
    /// different pool threads can exceed the limit by fewer than `threadPoolSize`.
    public var connectionLimit: Int = 256
    /// Seconds of inactivity after which a connection (idle keep-alive or a stalled client) is closed.
    public var connectionTimeoutSeconds: Int = 30
    /// Threads serving connections, each with its own poll loop and an even share of the
    /// connections; at most `connectionLimit`.
    public var threadPoolSize: Int = 2
    /// The largest request body accepted; a larger one gets 413 and the handler is not called.
    /// With Content-Length the 413 is sent before the body is read and the connection is then
    /// closed; a chunked body is read and dropped until it ends (then 413, connection kept), or
    /// closed without a response once more than max(maximumBodyBytes, 1 MiB) has been dropped.
    public var maximumBodyBytes: Int = 64 << 10
    /// The largest request line plus header block accepted; a larger one gets 431 (Request Header
    /// Fields Too Large) and the connection is closed. A request line too long to fit
    /// libmicrohttpd's per-connection buffer (about twice this limit) gets 414 (URI Too Long).
    public var maximumHeaderBytes: Int = 16 << 10
    /// The most requests waiting at once for an answer that comes later (`HTTPReply.later`),
    /// 1...65536; past it they are answered 503 with `Retry-After: waitingRetryAfterSeconds`.
    public var maximumWaitingRequests: Int = 32
    /// The `Retry-After` of that 503, in seconds.
    public var waitingRetryAfterSeconds: Int = 5
    /// How long `stop()` waits for requests already being answered (those waiting for a later
    /// answer included) before answering 503 to those still waiting and closing the connections.
    public var shutdownGraceSeconds: Int = 5
    /// Receives libmicrohttpd's error messages (one line each) while the server runs; nil writes
    /// them to standard error. Failures to start are reported by `start()` instead.
    public var errorLog: (@Sendable (String) -> Void)? = nil
    /// Renders the answers the server gives before a request reaches the handler (413 body too
    /// large, 431 headers too large) from the status, a message and the request target, e.g. as
    /// JSON under an API prefix; nil: plain text.
    public var refusal: (@Sendable (_ status: Int, _ message: String, _ target: String) -> HTTPResponse)? = nil
    /// TLS (HTTPS) settings; nil serves plain HTTP. A TLS listener accepts TLS only: plain HTTP
    /// requests fail the handshake and are closed.
    public var tls: TLSConfiguration? = nil

    /// Creates a configuration; every parameter has the documented default.
    public init(
        address: String = "0.0.0.0",
        port: UInt16 = 9747,
        connectionLimit: Int = 256,
        connectionTimeoutSeconds: Int = 30,
        threadPoolSize: Int = 2,
        maximumBodyBytes: Int = 64 << 10,
        maximumHeaderBytes: Int = 16 << 10,
        shutdownGraceSeconds: Int = 5,
        errorLog: (@Sendable (String) -> Void)? = nil,
        tls: TLSConfiguration? = nil
    ) {
        self.address = address
        self.port = port
        self.connectionLimit = connectionLimit
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.threadPoolSize = threadPoolSize
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumHeaderBytes = maximumHeaderBytes
        self.shutdownGraceSeconds = shutdownGraceSeconds
        self.errorLog = errorLog
        self.tls = tls
    }
}

/// Why an `HTTPServer` could not start.
public struct HTTPServerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure, for callers that react differently (e.g. exit codes).
    public enum Kind: Sendable, Equatable {
        /// A configuration value is out of range.
        case invalidConfiguration
        /// The address is not a numeric IPv4 or IPv6 address.
        case invalidAddress
        /// Another socket is already listening on the address and port.
        case addressInUse
        /// The address is not one of this host's addresses (or its family is unsupported).
        case addressNotAvailable
        /// Binding needs a privilege the process lacks (ports below 1024).
        case permissionDenied
        /// `start()` was called on a running server.
        case alreadyRunning
        /// libmicrohttpd refused to start for another reason; the message has its explanation.
        case startFailed
    }

    /// The kind of failure.
    public var kind: Kind
    /// A complete, human-readable explanation, naming the address where relevant.
    public var message: String

    /// Creates an error.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
