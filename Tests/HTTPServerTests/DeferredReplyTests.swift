import Foundation
import Testing
import TestKit

@testable import HTTPServer

#if canImport(Glibc)
import Glibc
#endif

/// Requests answered later (`HTTPReply.later`), live: their connection is suspended while the
/// work runs elsewhere, and resumed by the answer. Every test runs with one pool thread, so no
/// other thread can hide a request that holds it.
@Suite("HTTPServer answers later (live)", .serialized)
struct DeferredReplyTests {
    /// `/slow` waits at `gate` on a thread of its own, then answers "slow done"; anything else is
    /// answered at once.
    static func slowRoute(_ gate: Gate) -> @Sendable (HTTPRequest) -> HTTPReply {
        { request in
            guard request.path == "/slow" else { return .now(.text(200, "fast")) }
            return .later { responder in
                Thread.detachNewThread {
                    gate.pass()
                    responder.respond(.text(200, "slow done"))
                }
            }
        }
    }

    func makeServer(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
                    replying handler: @escaping @Sendable (HTTPRequest) -> HTTPReply) throws -> HTTPServer {
        var configuration = HTTPServerConfiguration(address: "127.0.0.1", port: 0, threadPoolSize: 1)
        configuration.errorLog = { _ in }
        configure(&configuration)
        let server = HTTPServer(configuration: configuration, replying: handler)
        try server.start()
        return server
    }

    @Test("a request waiting for its answer holds no thread: another connection is served meanwhile, then the answer comes, keep-alive")
    func waitingHoldsNoThread() throws {
        let gate = Gate()
        let server = try makeServer(replying: Self.slowRoute(gate))
        defer { server.stop() }
        let slow = try RawClient(port: server.port)
        try slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(gate.waitForArrivals(1))
        let started = Date()
        let fast = try get(port: server.port, "/fast")
        #expect(fast.text == "fast")
        #expect(Date().timeIntervalSince(started) < timeBound(2))
        gate.open()
        let answer = try #require(try slow.readResponse())
        #expect(answer.status == 200)
        #expect(answer.text == "slow done")
        // The same connection serves the next request.
        try slow.send("GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(try slow.readResponse()?.text == "fast")
    }

    @Test("an answer given before the connection could be suspended, or while it is being suspended, is sent", arguments: [false, true])
    func quickAnswers(fromAnotherThread: Bool) throws {
        let server = try makeServer(replying: { request in
            .later { responder in
                let answer = HTTPResponse.text(200, "quick \(request.path)")
                if fromAnotherThread {
                    DispatchQueue.global().async { responder.respond(answer) }
                } else {
                    responder.respond(answer)
                }
            }
        })
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        for i in 0..<200 {
            try client.send("GET /\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try #require(try client.readResponse())
            #expect(response.text == "quick /\(i)")
        }
        #expect(eventually { server.statistics.livePendingReplies == 0 })
    }

    @Test("a client that leaves while its request waits: the answer is dropped, its state freed, the server serves on")
    func clientLeavesWhileWaiting() throws {
        let gate = Gate()
        let server = try makeServer(replying: Self.slowRoute(gate))
        defer { server.stop() }
        do {
            let leaving = try RawClient(port: server.port)
            try leaving.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(gate.waitForArrivals(1))
        }
        // libmicrohttpd does not watch a suspended connection: the departure is seen when the
        // answer resumes it.
        usleep(100_000)
        gate.open()
        #expect(eventually { server.statistics.liveRequestContexts == 0 })
        #expect(eventually { server.statistics.livePendingReplies == 0 })
        #expect(try get(port: server.port, "/fast").text == "fast")
        #expect(try get(port: server.port, "/slow").text == "slow done")
    }

    @Test("stop() with a request still waiting past the grace answers it 503 (or closes it); its late answer is dropped")
    func stopWhileWaiting() throws {
        let gate = Gate()
        let server = try makeServer({ $0.shutdownGraceSeconds = 1 }, replying: Self.slowRoute(gate))
        let waiting = try RawClient(port: server.port)
        try waiting.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(gate.waitForArrivals(1))
        let started = Date()
        server.stop()
        #expect(Date().timeIntervalSince(started) < timeBound(4))
        if let answer = try waiting.readResponse() {
            #expect(answer.status == 503)
            #expect(answer.text == "the server is stopping\n")
        }
        #expect(server.statistics.liveRequestContexts == 0)
        gate.open()
        #expect(eventually { server.statistics.livePendingReplies == 0 })
        // A stopped server starts again and answers later as before.
        try server.start()
        defer { server.stop() }
        #expect(try get(port: server.port, "/slow").text == "slow done")
    }

    @Test("stop() lets a waiting request whose answer comes within the grace finish")
    func stopLetsAnswerFinish() throws {
        let gate = Gate()
        let server = try makeServer(replying: Self.slowRoute(gate))
        let waiting = try RawClient(port: server.port)
        try waiting.send("GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(gate.waitForArrivals(1))
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { gate.open() }
        server.stop()
        let answer = try #require(try waiting.readResponse())
        #expect(answer.text == "slow done")
        #expect(server.statistics.liveRequestContexts == 0)
    }

    @Test("past maximumWaitingRequests a request is answered 503 with Retry-After and its work is not started")
    func waitingBound() throws {
        let gate = Gate()
        let server = try makeServer({
            $0.maximumWaitingRequests = 2
            $0.waitingRetryAfterSeconds = 7
        }, replying: Self.slowRoute(gate))
        defer { server.stop() }
        let first = try RawClient(port: server.port)
        try first.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        let second = try RawClient(port: server.port)
        try second.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(gate.waitForArrivals(2))
        let refused = try get(port: server.port, "/slow")
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "7")
        #expect(gate.arrivals == 2)
        #expect(try get(port: server.port, "/fast").status == 200)
        gate.open()
        #expect(try first.readResponse()?.text == "slow done")
        #expect(try second.readResponse()?.text == "slow done")
        #expect(try get(port: server.port, "/slow").text == "slow done")
    }

    @Test("a responder released without an answer answers 500")
    func droppedResponder() throws {
        let server = try makeServer(replying: { _ in .later { _ in } })
        defer { server.stop() }
        let response = try get(port: server.port, "/")
        #expect(response.status == 500)
    }

    @Test("only the first answer counts")
    func firstAnswerCounts() throws {
        let server = try makeServer(replying: { _ in
            .later { responder in
                DispatchQueue.global().async {
                    responder.respond(.text(200, "first"))
                    responder.respond(.text(500, "second"))
                }
            }
        })
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        for _ in 0..<20 {
            try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse()?.text == "first")
        }
    }

    /// For ThreadSanitizer: answers from other threads at any moment (before the suspension,
    /// during it, long after), clients that leave early, and a stop with requests still waiting.
    @Test("answers at any moment from any thread, clients leaving, and a stop: nothing leaks or races")
    func concurrentWaiting() throws {
        let server = try makeServer({
            $0.threadPoolSize = 2
            $0.shutdownGraceSeconds = 1
        }, replying: { request in
            let delay = UInt32(request.path.dropFirst().utf8.reduce(0) { $0 &+ UInt32($1) } % 5) * 2000
            return .later { responder in
                DispatchQueue.global().async {
                    if delay > 0 { usleep(delay) }
                    responder.respond(.text(200, "done"))
                }
            }
        })
        let port = server.port
        concurrently(4) { worker in
            guard let client = try? RawClient(port: port) else { return }
            for i in 0..<40 {
                try? client.send("GET /\(worker)-\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
                if i == 39 && worker % 2 == 0 { return }  // leaves with its last request waiting
                _ = try? client.readResponse()
            }
        }
        server.stop()
        #expect(server.statistics.liveRequestContexts == 0)
        #expect(eventually { server.statistics.livePendingReplies == 0 })
    }
}
