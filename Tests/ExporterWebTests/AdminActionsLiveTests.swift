import Exporter
import ExporterWeb
import Foundation
import HTTPServer
import Testing
import TestKit
import TraceFS
import TraceFSTesting

/// Admin actions on a live listener with one server thread, over the in-memory kernel whose
/// writes a gate holds: an action in progress holds no server thread.
@Suite("Admin actions hold no server thread (live)", .serialized)
struct AdminActionsLiveTests {
    static let token = "correct-horse-battery-staple"
    static let install = "POST /api/v1/trigger-sets/wakeup_latency/install HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Length: 0\r\n\r\n"

    struct Live {
        let fs: FakeKernelTraceFS
        let app: WebApplication
        let controller: TriggerController
        let server: HTTPServer
        /// Every write to the kernel waits here until the test opens it.
        let gate: Gate
    }

    func start(shutdownGraceSeconds: Int = 5) throws -> Live {
        let fs = FakeKernelTraceFS()
        let config = try DefaultConfig.load().overriding(refreshInterval: 3600)
        let controller = TriggerController(fs: fs, config: config, logger: quietLogger)
        let collector = HistCollector(config: config, reader: fs, logger: quietLogger, features: fs.features(), clock: { 0 })
        let metrics = ExporterMetrics()
        let refresher = Refresher(collector: collector, controller: controller, metrics: metrics, logger: quietLogger)
        let app = WebApplication(
            refresher: refresher, controller: controller, metrics: metrics,
            options: .init(adminAuth: AdminAuth(token: Array(Self.token.utf8)), tracefsRoot: fs.root), logger: quietLogger)
        refresher.refreshSharing()
        let gate = Gate()
        fs.beforeEachAppend { _, _ in gate.pass() }
        var configuration = HTTPServerConfiguration(address: "127.0.0.1", port: 0, threadPoolSize: 1, shutdownGraceSeconds: shutdownGraceSeconds)
        configuration.errorLog = { _ in }
        let router = app.router(includeAdmin: true)
        let server = HTTPServer(configuration: configuration, replying: { router.reply(to: $0) })
        try server.start()
        return Live(fs: fs, app: app, controller: controller, server: server, gate: gate)
    }

    @Test("on one listener with one server thread, /metrics is answered while an install is in progress; the install then answers as usual")
    func scrapeDuringInstall() throws {
        let live = try start()
        defer {
            live.gate.open()
            live.server.stop()
            live.app.stopActions()
        }
        let scraper = try RawClient(port: live.server.port)
        let installer = try RawClient(port: live.server.port)
        try installer.send(Self.install)
        #expect(live.gate.waitForArrivals(1), "the install reached the kernel")

        for _ in 0..<3 {
            let started = Date()
            try scraper.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            let scrape = try #require(try scraper.readResponse())
            #expect(scrape.status == 200)
            #expect(scrape.text.contains("ftrace_exporter_trigger_set_state{set=\"wakeup_latency\",state=\"absent\"} 1"))
            #expect(Date().timeIntervalSince(started) < timeBound(2))
        }
        #expect(try get(port: live.server.port, "/-/healthy").status == 200)
        // Refused requests are answered at once, without waiting for the action.
        let unauthorized = try get(port: live.server.port, "/api/v1/status", extraHeaders: "Authorization: Bearer wrong-token-wrong-token\r\n")
        #expect(unauthorized.status == 401)
        #expect(live.gate.arrivals == 1, "the install is still held at its first write")

        live.gate.open()
        let answer = try #require(try installer.readResponse())
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.header("Content-Type") == "application/json")
        #expect(answer.text.contains("\"name\":\"wakeup_latency\""))
        #expect(answer.text.contains("\"state\":\"installed\""))
        try scraper.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let after = try #require(try scraper.readResponse())
        #expect(after.text.contains("ftrace_exporter_trigger_set_state{set=\"wakeup_latency\",state=\"installed\"} 1"))
    }

    @Test("stop() while an install is in progress: the client gets 503 or a close, the install still completes, nothing is left waiting")
    func stopDuringInstall() throws {
        let live = try start(shutdownGraceSeconds: 1)
        let installer = try RawClient(port: live.server.port)
        try installer.send(Self.install)
        #expect(live.gate.waitForArrivals(1))
        let started = Date()
        live.server.stop()
        #expect(Date().timeIntervalSince(started) < timeBound(4))
        if let answer = try installer.readResponse() {
            #expect(answer.status == 503)
        }
        live.gate.open()
        live.app.stopActions()
        #expect(try live.controller.status(of: "wakeup_latency").state == .installed)
    }

    @Test("at stop, admin requests queued behind the action running are answered 503 and that action finishes")
    func stopActionsAnswersQueued() throws {
        let live = try start()
        defer { live.server.stop() }
        let installer = try RawClient(port: live.server.port)
        try installer.send(Self.install)
        #expect(live.gate.waitForArrivals(1))
        let queued = try RawClient(port: live.server.port)
        try queued.send("POST /api/v1/trigger-sets/irq_handler_duration/install HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.token)\r\nContent-Length: 0\r\n\r\n")
        usleep(100_000)  // reaches the action queue

        let stopped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            live.app.stopActions()
            stopped.signal()
        }
        let refused = try #require(try queued.readResponse())
        #expect(refused.status == 503)
        #expect(refused.text == "{\"error\":\"the exporter is stopping\"}\n")
        #expect(stopped.wait(timeout: .now() + 0.3) == .timedOut, "stopActions() waits for the install running")

        live.gate.open()
        #expect(try installer.readResponse()?.status == 200)
        #expect(stopped.wait(timeout: .now() + 10) == .success)
        #expect(try live.controller.status(of: "irq_handler_duration").state == .absent)
        let late = try exchange(port: live.server.port, "POST /api/v1/trigger-sets/irq_handler_duration/remove HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.token)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(late.status == 503)
    }
}
