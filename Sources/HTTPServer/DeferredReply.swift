import CMicroHTTPD
import Dispatch
import Locking

/// What a handler gives back for a request: the response at once, or work that answers later.
public enum HTTPReply: Sendable {
    /// The response, sent as soon as the handler returns.
    case now(HTTPResponse)
    /// An answer that takes long (seconds of kernel work). The server calls `start` once, on the
    /// server thread, with a responder; `start` hands the work to a thread of its own and returns
    /// at once. Until the answer comes the connection is suspended and holds no server thread, so
    /// the other connections of that thread are served meanwhile. Past
    /// `HTTPServerConfiguration.maximumWaitingRequests` requests waiting, the server answers 503
    /// with Retry-After instead and `start` is not called.
    case later(_ start: @Sendable (HTTPResponder) -> Void)

    /// The response, waiting on this thread for one that comes later: for tests and tools that
    /// call a router directly. Never call it on a server thread.
    public func waitForResponse() -> HTTPResponse {
        switch self {
        case .now(let response):
            return response
        case .later(let start):
            let answer = Locked<HTTPResponse?>(nil)
            let arrived = DispatchSemaphore(value: 0)
            start(HTTPResponder { response in
                answer.withLock { $0 = response }
                arrived.signal()
            })
            arrived.wait()
            return answer.withLock { $0! }
        }
    }
}

/// Answers one request that was answered `.later`, from any thread. Only the first answer counts;
/// one that comes after the client went away, or after the server stopped (it answered 503 then),
/// is dropped. A responder released without answering answers 500, so that no connection waits
/// forever for work that was lost.
public struct HTTPResponder: Sendable {
    private let once: AnswerOnce
    private let transform: @Sendable (HTTPResponse) -> HTTPResponse

    init(_ deliver: @escaping @Sendable (HTTPResponse) -> Void) {
        once = AnswerOnce(deliver)
        transform = { $0 }
    }

    private init(once: AnswerOnce, transform: @escaping @Sendable (HTTPResponse) -> HTTPResponse) {
        self.once = once
        self.transform = transform
    }

    /// Sends `response`.
    public func respond(_ response: HTTPResponse) {
        once.deliver(transform(response))
    }

    /// A responder for the same request that passes the answer through `transform` first (a
    /// guard adding its headers to answers it did not make itself).
    public func map(_ transform: @escaping @Sendable (HTTPResponse) -> HTTPResponse) -> HTTPResponder {
        let inner = self.transform
        return HTTPResponder(once: once, transform: { transform(inner($0)) })
    }
}

/// The one-shot delivery every copy of a responder shares.
private final class AnswerOnce: Sendable {
    private let deliverOnce: Locked<(@Sendable (HTTPResponse) -> Void)?>

    init(_ deliver: @escaping @Sendable (HTTPResponse) -> Void) {
        deliverOnce = Locked(deliver)
    }

    func deliver(_ response: HTTPResponse) {
        let deliver = deliverOnce.withLock { pending -> (@Sendable (HTTPResponse) -> Void)? in
            defer { pending = nil }
            return pending
        }
        deliver?(response)
    }

    deinit {
        deliver(.text(500, "the request was dropped without an answer\n"))
    }
}

/// One request answered `.later`, from its admission to its answer being queued.
///
/// libmicrohttpd's rules decide the shape: MHD_suspend_connection only from the access handler,
/// MHD_resume_connection at most once and only after the suspension (anything else is undefined
/// behaviour), and the response queued by the access handler, which libmicrohttpd calls again
/// once the connection is resumed. The answer may come before the access handler had a chance to
/// suspend (the work was quick): then the connection is never suspended. Every transition is
/// made under `lock`, and resuming happens under it too, so the connection pointer is never used
/// after the request ended (`close`, from the completion callback).
final class PendingReply: @unchecked Sendable {
    private enum Phase {
        /// Admitted; the access handler has not suspended the connection yet.
        case admitted
        /// Suspended, waiting for the answer.
        case suspended
        /// The answer is in (and the connection resumed if it was suspended).
        case answered
        /// The access handler took the answer to queue it.
        case taken
        /// The request ended; nothing may touch the connection any more.
        case closed
    }

    /// The request target, for rendering the server's own answers (503 at stop).
    let target: String
    private let connection: OpaquePointer
    private let statistics: ServerStatistics
    private let lock = Lock()
    private var phase = Phase.admitted
    private var answer: HTTPResponse?

    init(connection: OpaquePointer, target: String, statistics: ServerStatistics) {
        self.connection = connection
        self.target = target
        self.statistics = statistics
        statistics.pendingReplyCreated()
    }

    deinit { statistics.pendingReplyFreed() }

    /// From the access handler right after the work was started: the answer if it is already
    /// in, else nil after suspending the connection.
    func suspendUnlessAnswered() -> HTTPResponse? {
        lock.withLock {
            if phase == .answered { return takeLocked() }
            MHD_suspend_connection(connection)
            phase = .suspended
            return nil
        }
    }

    /// From any thread: records the answer and resumes the connection if it is suspended.
    /// Ignored once answered or closed.
    func deliver(_ response: HTTPResponse) {
        lock.withLock {
            switch phase {
            case .admitted:
                answer = response
                phase = .answered
            case .suspended:
                answer = response
                phase = .answered
                MHD_resume_connection(connection)
            case .answered, .taken, .closed:
                break
            }
        }
    }

    /// From the access handler, called again after the resumption: the answer to queue.
    func takeAnswer() -> HTTPResponse? {
        lock.withLock { phase == .answered ? takeLocked() : nil }
    }

    /// From the completion callback: the request ended, however.
    func close() {
        lock.withLock {
            phase = .closed
            answer = nil
        }
    }

    private func takeLocked() -> HTTPResponse? {
        phase = .taken
        defer { answer = nil }
        return answer
    }
}
