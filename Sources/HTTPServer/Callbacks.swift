import CMicroHTTPD
import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the libmicrohttpd callbacks share for one running daemon. It is passed to them as an
/// unretained pointer; `HTTPServer` holds the retain until MHD_stop_daemon has joined every thread.
extension ServerCore {
    /// An answer given before the handler, rendered by `refusal` when there is one.
    func refuse(_ status: Int, _ message: String, _ context: RequestContext) -> HTTPResponse {
        refuse(status, message, target: context.rawTarget)
    }

    func refuse(_ status: Int, _ message: String, target: String) -> HTTPResponse {
        refusal?(status, message, target) ?? .text(status, message + "\n")
    }
}

final class ServerCore: @unchecked Sendable {
    let handler: @Sendable (HTTPRequest) -> HTTPReply
    let maximumBodyBytes: Int
    let maximumHeaderBytes: Int
    let connectionLimit: Int
    let maximumWaitingRequests: Int
    let retryAfterSeconds: Int
    let statistics: ServerStatistics
    /// TLS material and client-certificate policy; nil for plain HTTP.
    let tls: TLSMaterial?
    let refusal: (@Sendable (_ status: Int, _ message: String, _ target: String) -> HTTPResponse)?
    private let sink: @Sendable (String) -> Void
    private let lock = Lock()
    private var inFlight = 0
    private var openConnections = 0
    private var startupMessages: [String]? = []
    /// Requests answered `.later` whose answer is not yet queued.
    private var waiting: [ObjectIdentifier: PendingReply] = [:]
    /// Set at stop: no request may wait any more.
    private var stopping = false

    init(
        handler: @escaping @Sendable (HTTPRequest) -> HTTPReply,
        maximumBodyBytes: Int,
        maximumHeaderBytes: Int,
        connectionLimit: Int,
        maximumWaitingRequests: Int,
        retryAfterSeconds: Int,
        statistics: ServerStatistics,
        tls: TLSMaterial? = nil,
        refusal: (@Sendable (_ status: Int, _ message: String, _ target: String) -> HTTPResponse)? = nil,
        sink: @escaping @Sendable (String) -> Void
    ) {
        self.refusal = refusal
        self.handler = handler
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumHeaderBytes = maximumHeaderBytes
        self.connectionLimit = connectionLimit
        self.maximumWaitingRequests = maximumWaitingRequests
        self.retryAfterSeconds = retryAfterSeconds
        self.statistics = statistics
        self.tls = tls
        self.sink = sink
    }

    /// Messages logged while the daemon starts are held back: on failure they become part of
    /// the thrown error instead of also appearing in the log.
    func log(_ message: String) {
        let forward: Bool = lock.withLock {
            if startupMessages != nil {
                startupMessages!.append(message)
                return false
            }
            return true
        }
        if forward { sink(message) }
    }

    func endStartup(forward: Bool) -> [String] {
        let messages = lock.withLock {
            let messages = startupMessages ?? []
            startupMessages = nil
            return messages
        }
        if forward { messages.forEach(sink) }
        return messages
    }

    /// Requests whose handler has been called and whose response is not yet fully sent.
    var inFlightRequests: Int { lock.withLock { inFlight } }
    func requestStarted() { lock.withLock { inFlight += 1 } }
    func requestFinished() { lock.withLock { inFlight -= 1 } }

    enum WaitAdmission { case admitted, full, stopping }

    /// Lets `pending` wait for its answer, unless `maximumWaitingRequests` already do or the
    /// server is stopping. Registered under the same lock `answerEveryWaiting` takes, so a
    /// request admitted is one that stop will find.
    func admitWaiting(_ pending: PendingReply) -> WaitAdmission {
        lock.withLock {
            if stopping { return .stopping }
            if waiting.count >= maximumWaitingRequests { return .full }
            waiting[ObjectIdentifier(pending)] = pending
            return .admitted
        }
    }

    /// The answer was queued, or the request ended before it.
    func waitEnded(_ pending: PendingReply) {
        lock.withLock { _ = waiting.removeValue(forKey: ObjectIdentifier(pending)) }
    }

    var waitingRequests: Int { lock.withLock { waiting.count } }

    /// At stop: answers every request still waiting with `answer(target)` (which resumes the
    /// suspended ones: libmicrohttpd aborts the process when stopped with a connection
    /// suspended) and admits no more.
    func answerEveryWaiting(_ answer: (String) -> HTTPResponse) {
        let left = lock.withLock { () -> [PendingReply] in
            stopping = true
            return Array(waiting.values)
        }
        for pending in left { pending.deliver(answer(pending.target)) }
    }

    /// Admits a new connection unless `connectionLimit` are open.
    func admitConnection() -> Bool {
        lock.withLock {
            openConnections < connectionLimit
        }
    }
    func connectionOpened() { lock.withLock { openConnections += 1 } }
    func connectionClosed() { lock.withLock { openConnections -= 1 } }

    /// Adds response headers, dropping those libmicrohttpd manages itself or refuses.
    func addHeaders(_ response: OpaquePointer, _ headers: [(name: String, value: String)]) {
        for (name, value) in headers {
            // libmicrohttpd computes Content-Length itself and refuses an application's one;
            // skipping it spares a log line per response.
            if asciiCaseInsensitiveEquals(name, "Content-Length") { continue }
            if MHD_add_response_header(response, name, value) != .YES {
                log("response header \"\(name)\" refused (invalid name or value); sent without it")
            }
        }
    }
}

/// Counters that outlive any one run of the server, so tests can check that every request's
/// state was freed and count refused connections after `stop()`.
final class ServerStatistics: @unchecked Sendable {
    private let lock = Lock()
    private var live = 0
    private var refused = 0
    private var tlsStates = 0
    private var pendingReplies = 0

    var liveRequestContexts: Int { lock.withLock { live } }
    var refusedConnections: Int { lock.withLock { refused } }
    /// Per-connection client-certificate states not yet released (0 once every connection closed).
    var liveTLSConnectionStates: Int { lock.withLock { tlsStates } }
    func tlsStateCreated() { lock.withLock { tlsStates += 1 } }
    func tlsStateFreed() { lock.withLock { tlsStates -= 1 } }
    func contextCreated() { lock.withLock { live += 1 } }
    func contextFreed() { lock.withLock { live -= 1 } }
    func connectionRefused() { lock.withLock { refused += 1 } }
    /// Requests answered `.later` whose state is not yet freed (0 once every one has ended and
    /// its work has let go of its responder).
    var livePendingReplies: Int { lock.withLock { pendingReplies } }
    func pendingReplyCreated() { lock.withLock { pendingReplies += 1 } }
    func pendingReplyFreed() { lock.withLock { pendingReplies -= 1 } }
}

/// Per-request state, created when libmicrohttpd has read the request line (URI log callback)
/// and released in the completion callback, which libmicrohttpd calls for every request the
/// application has seen, however it ended.
final class RequestContext {
    let rawTarget: String
    let statistics: ServerStatistics
    var headersChecked = false
    var body: [UInt8] = []
    var bodyTooLarge = false
    var discardedBytes = 0
    var countedInFlight = false
    /// Set when the handler answered `.later`.
    var pending: PendingReply?

    init(rawTarget: String, statistics: ServerStatistics) {
        self.rawTarget = rawTarget
        self.statistics = statistics
        statistics.contextCreated()
    }

    deinit { statistics.contextFreed() }
}

// MARK: - libmicrohttpd callbacks (C function pointers: no captures, state through `cls`)

/// Called with the raw request target before libmicrohttpd splits and unescapes it; what it
/// returns becomes the request's `con_cls`. It is the only place the undecoded path and query are
/// available.
func uriLogCallback(
    _ cls: UnsafeMutableRawPointer?, _ uri: UnsafePointer<CChar>?, _ connection: OpaquePointer?
) -> UnsafeMutableRawPointer? {
    guard let cls else { return nil }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    let context = RequestContext(rawTarget: uri.map { String(cString: $0) } ?? "", statistics: core.statistics)
    return Unmanaged.passRetained(context).toOpaque()
}

func requestCompletedCallback(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ conCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ reason: MHD_RequestTerminationCode
) {
    guard let conCls, let pointer = conCls.pointee else { return }
    conCls.pointee = nil
    let context = Unmanaged<RequestContext>.fromOpaque(pointer).takeRetainedValue()
    guard let cls else { return }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    if let pending = context.pending {
        // A client gone while its request waited is only noticed once the answer resumed the
        // connection; from here on the work's answer is dropped and the connection untouched.
        pending.close()
        core.waitEnded(pending)
    }
    if context.countedInFlight { core.requestFinished() }
}

func acceptPolicyCallback(_ cls: UnsafeMutableRawPointer?, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> MHD_Result {
    guard let cls else { return .YES }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    if core.admitConnection() { return .YES }
    core.statistics.connectionRefused()
    return .NO
}

func connectionNotifyCallback(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ code: MHD_ConnectionNotificationCode
) {
    guard let cls else { return }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    switch code {
    case .CONNECTION_NOTIFY_STARTED:
        core.connectionOpened()
        // libmicrohttpd has set up the TLS session but not started the handshake: the client
        // certificate policy is applied to the session here.
        if let material = core.tls, material.policy.requestsCertificate, let connection, let socketContext,
            let session = CMicroHTTPD_connection_tls_session(connection)
        {
            let remote = CMicroHTTPD_connection_client_address(connection).map(formatSocketAddress) ?? ""
            let state = TLSConnectionState(core: core, session: session, remoteAddress: remote)
            gnutls_certificate_server_set_request(
                session, material.policy.requiresCertificate ? GNUTLS_CERT_REQUIRE : GNUTLS_CERT_REQUEST)
            gnutls_session_set_verify_function(session, tlsVerifyCallback)
            tlsSessions.insert(session, state)
            core.statistics.tlsStateCreated()
            socketContext.pointee = Unmanaged.passRetained(state).toOpaque()
        }
    case .CONNECTION_NOTIFY_CLOSED:
        core.connectionClosed()
        if core.tls != nil, let socketContext, let pointer = socketContext.pointee {
            socketContext.pointee = nil
            let state = Unmanaged<TLSConnectionState>.fromOpaque(pointer).takeRetainedValue()
            tlsSessions.remove(state.session, state)
            core.statistics.tlsStateFreed()
        }
    @unknown default: break
    }
}

/// Whether the connection's client certificate satisfies the policy: decided once per connection
/// (normally already inside the handshake), and checked before every request reaches the handler.
private func clientCertificateAccepted(_ connection: OpaquePointer, material: TLSMaterial, core: ServerCore) -> Bool {
    guard let session = CMicroHTTPD_connection_tls_session(connection) else { return false }
    if let pointer = CMicroHTTPD_connection_socket_context(connection) {
        return Unmanaged<TLSConnectionState>.fromOpaque(pointer).takeUnretainedValue().check(session: session, material: material)
    }
    if let reason = evaluateClientCertificate(session: session, material: material) {
        let remote = CMicroHTTPD_connection_client_address(connection).map(formatSocketAddress) ?? ""
        core.log("TLS client certificate rejected (client \(remote)): \(reason)")
        return false
    }
    return true
}

func errorLogCallback(_ cls: UnsafeMutableRawPointer?, _ format: UnsafePointer<CChar>?, _ arguments: CVaListPointer?) {
    guard let cls, let format, let arguments else { return }
    var buffer = [CChar](repeating: 0, count: 1024)
    _ = vsnprintf(&buffer, buffer.count, format, arguments)
    var message = stringFromCBuffer(buffer)
    while message.hasSuffix("\n") || message.hasSuffix("\r") { message.removeLast() }
    Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue().log(message)
}

/// libmicrohttpd calls this several times per request: once when the headers are in, once per
/// piece of body, and once more when the request is complete (upload size 0). The response is
/// queued on that last call: queueing on the first call makes libmicrohttpd close the connection
/// afterwards, which would defeat keep-alive. Error responses that mean the rest of the request
/// will not be read (431, 413 by Content-Length) are queued on the first call on purpose.
func accessHandlerCallback(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ url: UnsafePointer<CChar>?,
    _ method: UnsafePointer<CChar>?,
    _ version: UnsafePointer<CChar>?,
    _ uploadData: UnsafePointer<CChar>?,
    _ uploadDataSize: UnsafeMutablePointer<Int>?,
    _ conCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let connection, let conCls, let uploadDataSize else { return .NO }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()

    let context: RequestContext
    if let pointer = conCls.pointee {
        context = Unmanaged<RequestContext>.fromOpaque(pointer).takeUnretainedValue()
    } else {
        // Not expected (the URI log callback always runs first), but keeps the request servable.
        context = RequestContext(rawTarget: url.map { String(cString: $0) } ?? "/", statistics: core.statistics)
        conCls.pointee = Unmanaged.passRetained(context).toOpaque()
    }

    if !context.headersChecked {
        context.headersChecked = true
        if let material = core.tls, material.policy.requestsCertificate,
            !clientCertificateAccepted(connection, material: material, core: core)
        {
            // Closes the connection without a response, as a failed handshake would.
            return .NO
        }
        let headerBytes = CMicroHTTPD_connection_request_header_size(connection)
        if headerBytes > core.maximumHeaderBytes {
            return queue(core.refuse(431, "request header fields too large", context), on: connection, core: core)
        }
        if let declared = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length"),
            let length = parseContentLength(declared)
        {
            if length > UInt64(core.maximumBodyBytes) {
                return queue(core.refuse(413, "request body too large", context), on: connection, core: core)
            }
            context.body.reserveCapacity(Int(length))
        }
        return .YES
    }

    let pending = uploadDataSize.pointee
    if pending > 0 {
        uploadDataSize.pointee = 0
        if context.bodyTooLarge || context.body.count + pending > core.maximumBodyBytes {
            // A body without Content-Length (chunked) outgrew the limit: keep reading and
            // dropping it so that the 413 can be sent when it ends, up to a bound past which the
            // client is not worth waiting for and the connection is dropped.
            context.bodyTooLarge = true
            context.body = []
            context.discardedBytes += pending
            return context.discardedBytes > max(core.maximumBodyBytes, 1 << 20) ? .NO : .YES
        }
        uploadData?.withMemoryRebound(to: UInt8.self, capacity: pending) { bytes in
            context.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: pending))
        }
        return .YES
    }

    if context.bodyTooLarge {
        return queue(core.refuse(413, "request body too large", context), on: connection, core: core)
    }

    if let pending = context.pending {
        // Called again after MHD_resume_connection, which only an answer triggers.
        guard let answer = pending.takeAnswer() else { return .NO }
        core.waitEnded(pending)
        return queue(answer, on: connection, core: core)
    }

    let request = makeRequest(connection: connection, method: method, context: context)
    context.body = []
    context.countedInFlight = true
    core.requestStarted()
    switch core.handler(request) {
    case .now(let response):
        return queue(response, on: connection, core: core)
    case .later(let start):
        return startWaiting(start, context: context, on: connection, core: core)
    }
}

/// Starts the work of a request answered `.later` and suspends its connection until the answer
/// comes; the answer is queued by the access handler, called again after the resumption.
private func startWaiting(
    _ start: @Sendable (HTTPResponder) -> Void, context: RequestContext, on connection: OpaquePointer, core: ServerCore
) -> MHD_Result {
    let pending = PendingReply(connection: connection, target: context.rawTarget, statistics: core.statistics)
    switch core.admitWaiting(pending) {
    case .admitted:
        break
    case .full:
        var response = core.refuse(503, "too many requests are waiting for an answer; try again later", context)
        response.headers.append((name: "Retry-After", value: String(core.retryAfterSeconds)))
        return queue(response, on: connection, core: core)
    case .stopping:
        return queue(core.refuse(503, "the server is stopping", context), on: connection, core: core)
    }
    context.pending = pending
    start(HTTPResponder { [pending] response in pending.deliver(response) })
    guard let answer = pending.suspendUnlessAnswered() else { return .YES }
    core.waitEnded(pending)
    return queue(answer, on: connection, core: core)
}

private func makeRequest(connection: OpaquePointer, method: UnsafePointer<CChar>?, context: RequestContext) -> HTTPRequest {
    var headers: [(name: String, value: String)] = []
    withUnsafeMutablePointer(to: &headers) { pointer in
        _ = MHD_get_connection_values(
            connection, .HEADER_KIND,
            { cls, _, key, value in
                guard let cls, let key else { return .YES }
                let headers = cls.assumingMemoryBound(to: [(name: String, value: String)].self)
                headers.pointee.append((name: asciiLowercased(String(cString: key)), value: value.map { String(cString: $0) } ?? ""))
                return .YES
            },
            pointer
        )
    }
    let target = context.rawTarget
    let path: String
    let query: String?
    if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
        path = String(target[..<mark])
        query = String(target[target.index(after: mark)...])
    } else {
        path = target
        query = nil
    }
    var request = HTTPRequest(
        method: method.map { String(cString: $0) } ?? "",
        path: path,
        query: query,
        body: context.body,
        remoteAddress: CMicroHTTPD_connection_client_address(connection).map(formatSocketAddress) ?? ""
    )
    request.headers = headers
    return request
}

/// Turns a handler's response into a queued MHD_Response.
private func queue(_ response: HTTPResponse, on connection: OpaquePointer, core: ServerCore) -> MHD_Result {
    // A 1xx status cannot end a request (101 would even make libmicrohttpd expect an upgrade).
    let status = (200...999).contains(response.status) ? response.status : 500
    let made: (response: OpaquePointer, owned: Bool)?
    switch response.body {
    case .empty:
        made = MHD_create_response_from_buffer(0, nil, .RESPMEM_PERSISTENT).map {
            core.addHeaders($0, response.headers)
            return ($0, true)
        }
    case .bytes(let bytes):
        made = bytes.withUnsafeBytes { raw in
            MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress), .RESPMEM_MUST_COPY)
        }.map {
            core.addHeaders($0, response.headers)
            return ($0, true)
        }
    case .shared(let shared):
        made = shared.mhdResponse(headers: response.headers, addHeaders: core.addHeaders)
    }
    guard let made else {
        core.log("cannot allocate a response; closing the connection")
        return .NO
    }
    let result = MHD_queue_response(connection, UInt32(status), made.response)
    // Queueing took libmicrohttpd's own reference; ours is no longer needed.
    if made.owned { MHD_destroy_response(made.response) }
    return result
}

/// Digits only, as libmicrohttpd itself rejects anything else with 400 before we see it.
private func parseContentLength(_ text: UnsafePointer<CChar>) -> UInt64? {
    var value: UInt64 = 0
    var pointer = text
    var sawDigit = false
    while pointer.pointee == 0x20 || pointer.pointee == 0x09 { pointer += 1 }
    while pointer.pointee >= 0x30 && pointer.pointee <= 0x39 {
        sawDigit = true
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(pointer.pointee - 0x30))
        if o1 || o2 { return .max }
        value = sum
        pointer += 1
    }
    return sawDigit ? value : nil
}

/// "127.0.0.1:54321" or "[::1]:54321"; an IPv4-mapped IPv6 peer (dual-stack socket) is shown as IPv4.
func formatSocketAddress(_ address: UnsafePointer<sockaddr>) -> String {
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    switch Int32(address.pointee.sa_family) {
    case AF_INET:
        return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
            var raw = sin.pointee.sin_addr
            inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
            return "\(stringFromCBuffer(text)):\(UInt16(bigEndian: sin.pointee.sin_port))"
        }
    case AF_INET6:
        return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
            var raw = sin6.pointee.sin6_addr
            let port = UInt16(bigEndian: sin6.pointee.sin6_port)
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return "\(bytes[12]).\(bytes[13]).\(bytes[14]).\(bytes[15]):\(port)"
            }
            inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
            return "[\(stringFromCBuffer(text))]:\(port)"
        }
    default:
        return ""
    }
}
