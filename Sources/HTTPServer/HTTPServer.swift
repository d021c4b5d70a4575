import CMicroHTTPD
import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An embedded HTTP/1.1 server on libmicrohttpd.
///
/// libmicrohttpd owns the sockets and threads (a poll loop per pool thread); each request is
/// read completely (body included, up to `maximumBodyBytes`) and then handed to `handler` on one
/// of those threads, so the handler must be quick and must not block on the server itself (in
/// particular it must not call `stop()`). Work that takes long answers `.later` (`HTTPReply`):
/// its connection is suspended and the thread serves other connections meanwhile.
public final class HTTPServer: @unchecked Sendable {
    typealias Running = (daemon: OpaquePointer, core: Unmanaged<ServerCore>, port: UInt16)

    /// Guarded by `lifecycle`.
    private var configuration: HTTPServerConfiguration
    private let handler: @Sendable (HTTPRequest) -> HTTPReply
    /// Serialises start(), stop() and updateTLS() with each other.
    private let lifecycle = Lock()
    /// Guards `running` only, so that `port` never waits for a shutdown in progress (a handler
    /// reading it during stop() would otherwise hold up its own request).
    private let state = Lock()
    private var running: Running?
    let statistics = ServerStatistics()

    /// Creates a stopped server whose handler answers every request at once; `start()` binds
    /// and begins serving.
    public convenience init(configuration: HTTPServerConfiguration, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.init(configuration: configuration, replying: { .now(handler($0)) })
    }

    /// Creates a stopped server whose handler may answer later (`HTTPReply.later`); `start()`
    /// binds and begins serving.
    public init(configuration: HTTPServerConfiguration, replying handler: @escaping @Sendable (HTTPRequest) -> HTTPReply) {
        self.configuration = configuration
        self.handler = handler
    }

    deinit { stop() }

    /// The bound port while running (the kernel's choice when port 0 was asked), else 0.
    public var port: UInt16 {
        state.withLock { running?.port ?? 0 }
    }

    /// Binds the configured address and starts serving. A stopped server can be started again.
    public func start() throws(HTTPServerError) {
        try lifecycle.withLock { () throws(HTTPServerError) in
            if let current = state.withLock({ running }) {
                throw HTTPServerError(kind: .alreadyRunning, message: "the HTTP server is already running on port \(current.port)")
            }
            let launched = try launch(configuration, listenSocket: nil)
            state.withLock { running = launched }
        }
    }

    /// Starts serving on `socket`, a TCP socket already bound and listening that the process was
    /// handed (systemd socket activation); the configuration's address and port must be the
    /// socket's. The server owns the socket from then on.
    public func start(adopting socket: Int32) throws(HTTPServerError) {
        try lifecycle.withLock { () throws(HTTPServerError) in
            if let current = state.withLock({ running }) {
                throw HTTPServerError(kind: .alreadyRunning, message: "the HTTP server is already running on port \(current.port)")
            }
            let launched = try launch(configuration, listenSocket: socket, knownPort: configuration.port)
            state.withLock { running = launched }
        }
    }

    /// Stops accepting connections, lets requests already being answered finish (for at most
    /// `shutdownGraceSeconds`; requests waiting for a later answer included), answers 503 to
    /// those still waiting, then closes every connection and joins every server thread.
    /// Idempotent; returns once all resources are freed. Must not be called from the handler,
    /// whose thread it waits for.
    public func stop() {
        lifecycle.withLock {
            guard let current = state.withLock({ () -> Running? in
                defer { running = nil }
                return running
            }) else { return }
            // Quiescing first closes the door without cutting responses in flight; the listening
            // socket it hands back is ours to close, and only after MHD_stop_daemon.
            let listenSocket = MHD_quiesce_daemon(current.daemon)
            retire(current)
            if listenSocket >= 0 { close(listenSocket) }
        }
    }

    /// Replaces the TLS settings (new certificate, key, client CAs, policy or versions; nil turns
    /// TLS off) without closing the listening socket: a new libmicrohttpd daemon takes the socket
    /// over, so no connection attempt is refused, while the old daemon stops accepting, finishes
    /// the requests it is answering (for at most `shutdownGraceSeconds`) and closes its
    /// connections. Invalid settings are refused before anything changes. On a stopped server
    /// the settings apply at the next `start()`. Must not be called from the handler.
    public func updateTLS(_ tls: TLSConfiguration?) throws(HTTPServerError) {
        try lifecycle.withLock { () throws(HTTPServerError) in
            var next = configuration
            next.tls = tls
            if let tls {
                do throws(TLSConfigurationError) {
                    try tls.validate()
                } catch {
                    throw HTTPServerError(kind: .invalidConfiguration, message: "invalid TLS configuration: \(error.message)")
                }
            }
            guard let current = state.withLock({ running }) else {
                configuration = next
                return
            }
            if configuration.tls == tls { return }
            let listenSocket = MHD_quiesce_daemon(current.daemon)
            guard listenSocket >= 0 else {
                throw HTTPServerError(kind: .startFailed, message: "cannot take over the listening socket to change TLS settings")
            }
            let launched: Running
            do throws(HTTPServerError) {
                launched = try launch(next, listenSocket: listenSocket, knownPort: current.port)
            } catch {
                // Not expected after validation; serve on with the previous settings.
                if let restored = try? launch(configuration, listenSocket: listenSocket, knownPort: current.port) {
                    state.withLock { running = restored }
                } else {
                    close(listenSocket)
                    state.withLock { running = nil }
                }
                retire(current)
                throw error
            }
            configuration = next
            state.withLock { running = launched }
            retire(current)
        }
    }

    /// Waits for a quiesced daemon's requests in flight (at most `shutdownGraceSeconds`), answers
    /// those still waiting for a later answer, then stops it and releases its state.
    private func retire(_ old: Running) {
        let core = old.core.takeUnretainedValue()
        waitForRequestsInFlight(core, milliseconds: configuration.shutdownGraceSeconds * 1000)
        // MHD_stop_daemon aborts the process while a connection is suspended and not resumed:
        // every waiting request is answered now, which resumes it, and none may wait after.
        core.answerEveryWaiting { target in
            var response = core.refuse(503, "the server is stopping", target: target)
            response.headers.append((name: "Connection", value: "close"))
            return response
        }
        // Lets those answers go out before the connections are closed.
        waitForRequestsInFlight(core, milliseconds: 1000)
        MHD_stop_daemon(old.daemon)
        old.core.release()
    }

    private func waitForRequestsInFlight(_ core: ServerCore, milliseconds limit: Int) {
        var waitedMilliseconds = 0
        while core.inFlightRequests > 0 && waitedMilliseconds < limit {
            usleep(10_000)
            waitedMilliseconds += 10
        }
    }

    /// Starts a daemon for `c`, on a new socket bound to the configured address, or on
    /// `listenSocket` (already bound and listening, handed over from a quiesced daemon).
    private func launch(_ c: HTTPServerConfiguration, listenSocket: Int32?, knownPort: UInt16 = 0) throws(HTTPServerError) -> Running {
        func invalid(_ message: String) -> HTTPServerError {
            HTTPServerError(kind: .invalidConfiguration, message: "invalid HTTP server configuration: \(message)")
        }
        guard c.connectionLimit >= 1 else { throw invalid("connectionLimit must be at least 1, not \(c.connectionLimit)") }
        guard c.connectionTimeoutSeconds >= 0 else { throw invalid("connectionTimeoutSeconds must not be negative") }
        guard c.threadPoolSize >= 1 && c.threadPoolSize <= 1024 else {
            throw invalid("threadPoolSize must be in 1...1024, not \(c.threadPoolSize)")
        }
        guard c.connectionLimit >= c.threadPoolSize else {
            throw invalid("connectionLimit (\(c.connectionLimit)) must be at least threadPoolSize (\(c.threadPoolSize)), as each thread serves its share of connections")
        }
        guard c.maximumBodyBytes >= 0 else { throw invalid("maximumBodyBytes must not be negative") }
        guard c.maximumWaitingRequests >= 1 && c.maximumWaitingRequests <= 1 << 16 else {
            throw invalid("maximumWaitingRequests must be in 1...65536, not \(c.maximumWaitingRequests)")
        }
        guard c.waitingRetryAfterSeconds >= 0 && c.waitingRetryAfterSeconds <= 86400 else {
            throw invalid("waitingRetryAfterSeconds must be in 0...86400, not \(c.waitingRetryAfterSeconds)")
        }
        guard c.maximumHeaderBytes >= 256 && c.maximumHeaderBytes <= 1 << 24 else {
            throw invalid("maximumHeaderBytes must be in 256...16777216, not \(c.maximumHeaderBytes)")
        }
        var material: TLSMaterial?
        if let tls = c.tls {
            do throws(TLSConfigurationError) {
                try tls.validate()
                material = TLSMaterial(tls, priorities: try tls.priorities())
            } catch {
                throw HTTPServerError(kind: .invalidConfiguration, message: "invalid TLS configuration: \(error.message)")
            }
        }

        var address = try ListenAddress(c.address, port: c.port)
        let sink = c.errorLog ?? { message in
            var line = "libmicrohttpd: " + message + "\n"
            line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
        let core = ServerCore(
            handler: handler,
            maximumBodyBytes: c.maximumBodyBytes,
            maximumHeaderBytes: c.maximumHeaderBytes,
            connectionLimit: c.connectionLimit,
            maximumWaitingRequests: c.maximumWaitingRequests,
            retryAfterSeconds: c.waitingRetryAfterSeconds,
            statistics: statistics,
            tls: material,
            refusal: c.refusal,
            sink: sink
        )
        let retained = Unmanaged.passRetained(core)
        let cls = retained.toOpaque()

        // poll, not epoll: with epoll, MHD_quiesce_daemon and a pool thread both remove the
        // listening socket from the thread's epoll set, unsynchronized, and the loser's ENOENT
        // is an MHD_PANIC that aborts the process (libmicrohttpd 0.9.75 to 1.0): a stop or TLS
        // reload could kill the exporter. With poll, quiescing only signals the threads. The
        // connections are few (`connectionLimit`), so poll's cost per loop does not show.
        // ITC: required by MHD_quiesce_daemon with a thread pool, and wakes the thread of a
        // connection resumed from another thread.
        var flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_POLL.rawValue
            | MHD_USE_ERROR_LOG.rawValue | MHD_USE_ITC.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
        if address.isIPv6 {
            flags |= address.dualStack ? MHD_USE_DUAL_STACK.rawValue : MHD_USE_IPv6.rawValue
        }
        if material != nil { flags |= MHD_USE_TLS.rawValue }

        let completed: MHD_RequestCompletedCallback = requestCompletedCallback
        let uriLog: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, OpaquePointer?) -> UnsafeMutableRawPointer? = uriLogCallback
        let logger: MHD_LogCallback = errorLogCallback
        let connectionNotify: MHD_NotifyConnectionCallback = connectionNotifyCallback

        // libmicrohttpd's own limit, when reached, stops accepting and leaves new clients waiting
        // in the kernel's queue; the accept policy callback enforces `connectionLimit` instead by
        // closing the excess at once. libmicrohttpd's limit sits above it so it never triggers
        // first: it is split evenly between pool threads, and concurrent accepts on different
        // threads can each pass the check once.
        let hardConnectionLimit = c.connectionLimit + c.threadPoolSize

        // The pool holds the request line and headers (parsed in place, plus per-field records)
        // and the response header block; twice the header limit leaves room for the records,
        // and the exact limit is enforced in the access handler.
        let memoryLimit = max(32 << 10, 2 * c.maximumHeaderBytes + (16 << 10))

        let daemon = address.withSockaddr { sockaddr -> OpaquePointer? in
            var options: [MHD_OptionItem] = [
                // First, so that libmicrohttpd's messages about the later options reach it too.
                MHD_OptionItem(option: .EXTERNAL_LOGGER, value: unsafeBitCast(logger, to: Int.self), ptr_value: cls),
                MHD_OptionItem(option: .CONNECTION_LIMIT, value: hardConnectionLimit, ptr_value: nil),
                MHD_OptionItem(option: .CONNECTION_TIMEOUT, value: c.connectionTimeoutSeconds, ptr_value: nil),
                MHD_OptionItem(option: .CONNECTION_MEMORY_LIMIT, value: memoryLimit, ptr_value: nil),
                MHD_OptionItem(option: .NOTIFY_COMPLETED, value: unsafeBitCast(completed, to: Int.self), ptr_value: cls),
                MHD_OptionItem(option: .NOTIFY_CONNECTION, value: unsafeBitCast(connectionNotify, to: Int.self), ptr_value: cls),
                MHD_OptionItem(option: .URI_LOG_CALLBACK, value: unsafeBitCast(uriLog, to: Int.self), ptr_value: cls),
            ]
            if let listenSocket {
                options.append(MHD_OptionItem(option: .LISTEN_SOCKET, value: Int(listenSocket), ptr_value: nil))
            } else {
                options.append(MHD_OptionItem(option: .SOCK_ADDR, value: 0, ptr_value: sockaddr))
            }
            if let material {
                options.append(MHD_OptionItem(option: .HTTPS_MEM_KEY, value: 0, ptr_value: UnsafeMutableRawPointer(material.key)))
                options.append(MHD_OptionItem(option: .HTTPS_MEM_CERT, value: 0, ptr_value: UnsafeMutableRawPointer(material.certificate)))
                options.append(MHD_OptionItem(option: .HTTPS_PRIORITIES, value: 0, ptr_value: UnsafeMutableRawPointer(material.priorities)))
                if let trust = material.trust {
                    // Trust anchors for verifying client certificates (and the authorities named
                    // in the certificate request).
                    options.append(MHD_OptionItem(option: .HTTPS_MEM_TRUST, value: 0, ptr_value: UnsafeMutableRawPointer(trust)))
                }
            }
            if c.threadPoolSize > 1 {
                options.append(MHD_OptionItem(option: .THREAD_POOL_SIZE, value: c.threadPoolSize, ptr_value: nil))
            }
            options.append(MHD_OptionItem(option: .END, value: 0, ptr_value: nil))
            return options.withUnsafeMutableBufferPointer { buffer in
                CMicroHTTPD_start_daemon(
                    UInt32(flags), c.port, acceptPolicyCallback, cls, accessHandlerCallback, cls, buffer.baseAddress)
            }
        }
        let startErrno = errno
        let messages = core.endStartup(forward: daemon != nil)

        guard let daemon else {
            retained.release()
            throw HTTPServerError.startFailure(address: address.description, errno: startErrno, messages: messages)
        }
        let port = listenSocket == nil ? CMicroHTTPD_daemon_bind_port(daemon) : knownPort
        return (daemon, retained, port == 0 ? c.port : port)
    }
}

extension HTTPServerError {
    static func startFailure(address: String, errno code: Int32, messages: [String]) -> HTTPServerError {
        let detail = messages.isEmpty ? "" : " (libmicrohttpd: \(messages.joined(separator: "; ")))"
        let text = messages.joined(separator: " ")
        func has(_ needle: String) -> Bool { text.contains(needle) }
        let kind: Kind
        let reason: String
        if code == EADDRINUSE || has("in use") {
            (kind, reason) = (.addressInUse, "the address is already in use")
        } else if code == EACCES || has("Permission denied") {
            (kind, reason) = (.permissionDenied, "permission denied")
        } else if code == EADDRNOTAVAIL || code == EAFNOSUPPORT || has("Cannot assign requested address") || has("not supported") {
            (kind, reason) = (.addressNotAvailable, "the address is not available on this host")
        } else {
            let errnoText = code != 0 ? String(cString: strerror(code)) : "unknown error"
            (kind, reason) = (.startFailed, "libmicrohttpd could not start: \(errnoText)")
        }
        return HTTPServerError(kind: kind, message: "cannot listen on \(address): \(reason)\(detail)")
    }
}

/// A numeric listening address as a socket address.
struct ListenAddress: CustomStringConvertible {
    private var storage = sockaddr_storage()
    let isIPv6: Bool
    let dualStack: Bool
    let description: String

    init(_ text: String, port: UInt16) throws(HTTPServerError) {
        var host = text
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty {
            host = ListenAddress.hostHasIPv6() ? "::" : "0.0.0.0"
        }
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let info = result else {
            throw HTTPServerError(
                kind: .invalidAddress,
                message: "cannot listen on \"\(text)\": not a numeric IPv4 or IPv6 address (e.g. 0.0.0.0, 127.0.0.1, ::, ::1)"
            )
        }
        defer { freeaddrinfo(result) }
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
        }
        isIPv6 = info.pointee.ai_family == AF_INET6
        if isIPv6 {
            var any = in6addr_any
            let isAny = withUnsafeMutableBytes(of: &storage) { raw in
                raw.withMemoryRebound(to: sockaddr_in6.self) { sin6 in
                    sin6[0].sin6_port = port.bigEndian
                    return memcmp(&sin6[0].sin6_addr, &any, MemoryLayout<in6_addr>.size) == 0
                }
            }
            // "::" listens on everything, as it does for most Linux servers; a specific IPv6
            // address stays IPv6-only.
            dualStack = isAny
            description = "[\(host)]:\(port)"
        } else {
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.withMemoryRebound(to: sockaddr_in.self) { sin in sin[0].sin_port = port.bigEndian }
            }
            dualStack = false
            description = "\(host):\(port)"
        }
    }

    mutating func withSockaddr<T>(_ body: (UnsafeMutableRawPointer) -> T) -> T {
        withUnsafeMutableBytes(of: &storage) { body($0.baseAddress!) }
    }

    private static func hostHasIPv6() -> Bool {
        let probe = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        if probe < 0 { return false }
        close(probe)
        return true
    }
}
