import Exporter
@testable import ExporterWeb
import Foundation
import HTTPServer
import Testing
import TestKit
import TraceFS
import TraceFSTesting

/// The exporter's routes as a pure function of the request, over the in-memory kernel.
@Suite struct WebApplicationTests {
    static let token = "correct-horse-battery-staple"

    struct App {
        let fs: FakeKernelTraceFS
        let app: WebApplication
        let refresher: Refresher
        let router: Router
    }

    func make(admin: Bool = true, fs: FakeKernelTraceFS = FakeKernelTraceFS(), refreshInterval: Double = 3600) throws -> App {
        let config = try DefaultConfig.load().overriding(refreshInterval: refreshInterval)
        let controller = TriggerController(fs: fs, config: config, logger: quietLogger)
        let collector = HistCollector(config: config, reader: fs, logger: quietLogger, features: fs.features(), clock: { 0 })
        let metrics = ExporterMetrics()
        let refresher = Refresher(collector: collector, controller: controller, metrics: metrics, logger: quietLogger)
        let app = WebApplication(
            refresher: refresher, controller: controller, metrics: metrics,
            options: .init(adminAuth: admin ? AdminAuth(token: Array(Self.token.utf8)) : nil, tracefsRoot: fs.root),
            logger: quietLogger)
        return App(fs: fs, app: app, refresher: refresher, router: app.router(includeAdmin: true))
    }

    func request(_ method: String, _ path: String, token: String? = WebApplicationTests.token, headers: [(String, String)] = []) -> HTTPRequest {
        var all = headers.map { (name: $0.0.lowercased(), value: $0.1) }
        if let token { all.append((name: "authorization", value: "Bearer \(token)")) }
        return HTTPRequest(method: method, path: path, query: nil, headers: all, body: [], remoteAddress: "127.0.0.1:1")
    }

    func body(_ response: HTTPResponse) -> String {
        switch response.body {
        case .empty: return ""
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .shared(let s): return String(decoding: s.bytes, as: UTF8.self)
        }
    }

    @Test func readyOnlyAfterTheFirstRefresh() throws {
        let a = try make()
        #expect(a.router.handle(request("GET", "/-/ready")).status == 503)
        #expect(a.router.handle(request("GET", "/-/healthy")).status == 200)
        a.refresher.refreshSharing()
        #expect(a.router.handle(request("GET", "/-/ready")).status == 200)
    }

    /// A set whose events this kernel lacks is not merely `absent`: it is counted as unsupported
    /// (for the alert and the dashboard), with the missing event in its JSON.
    @Test func setsThisKernelCannotRunAreShownAsUnsupported() throws {
        let a = try make(fs: FakeKernelTraceFS(events: FakeKernelTraceFS.defaultEvents.filter { $0.system != "block" }))
        a.refresher.refreshSharing()
        let text = body(a.router.handle(request("GET", "/metrics", token: nil)))
        #expect(text.contains("ftrace_exporter_trigger_set_supported{set=\"block_io_latency\"} 0\n"), "\(text)")
        #expect(text.contains("ftrace_exporter_trigger_set_supported{set=\"wakeup_latency\"} 1\n"))
        let json = body(a.router.handle(request("GET", "/api/v1/trigger-sets/block_io_latency")))
        #expect(json.contains("\"supported\":false"))
        #expect(json.contains("no event block/block_rq_issue"), "\(json)")
    }

    @Test func installThenScrapeShowsTheMappedHistogram() throws {
        let a = try make()
        let install = a.router.handle(request("POST", "/api/v1/trigger-sets/wakeup_latency/install"))
        #expect(install.status == 200, "\(body(install))")
        #expect(body(install).contains("\"state\":\"installed\""))
        #expect(a.fs.setEntries([
            "{ cpu:          0, lat: ~ 2^3  } hitcount:          4  lat:         25",
            "{ cpu:          1, lat: ~ 2^7  } hitcount:          1  lat:        100",
        ], event: EventName(system: "synthetic", event: "ftrace_exporter_wakeup_lat"), instance: .named("ftrace_exporter"),
           matching: "hist:keys=cpu,lat.log2:vals=hitcount,lat"))
        a.refresher.refreshSharing()
        let scrape = a.router.handle(request("GET", "/metrics", token: nil))
        #expect(scrape.status == 200)
        #expect(scrape.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let text = body(scrape)
        #expect(text.contains("ftrace_wakeup_latency_seconds_bucket{cpu=\"0\",le=\"8e-06\"} 4"))
        #expect(text.contains("ftrace_wakeup_latency_seconds_count{cpu=\"1\"} 1"))
        #expect(text.contains("ftrace_wakeup_latency_seconds_sum{cpu=\"0\"} 2.5e-05"))
        #expect(text.contains("ftrace_exporter_trigger_set_state{set=\"wakeup_latency\",state=\"installed\"} 1"))
        #expect(text.contains("ftrace_exporter_admin_requests_total{action=\"install\",code=\"200\"} 1"))
    }

    /// An admin action rebuilds the snapshot before it answers, without reading the tables
    /// again: the next scrape shows the set installed (its tables' series come with the next
    /// refresh), and a removed set's series are gone from it, with no refresh in between.
    @Test func theScrapeAfterAnAdminActionShowsIt() throws {
        let a = try make()
        a.refresher.refreshSharing()
        let state = "ftrace_exporter_trigger_set_state{set=\"irq_handler_duration\",state=\"installed\"} 1"
        let series = "trigger_set=\"irq_handler_duration\""
        #expect(!body(a.router.handle(request("GET", "/metrics", token: nil))).contains(state))
        let reads = a.fs.readCount
        #expect(a.router.handle(request("POST", "/api/v1/trigger-sets/irq_handler_duration/install")).status == 200)
        #expect(a.fs.readLog[reads...].allSatisfy { !$0.hasSuffix("/hist") }, "no table is read for the rebuild")
        #expect(body(a.router.handle(request("GET", "/metrics", token: nil))).contains(state))
        a.refresher.refreshSharing()
        #expect(body(a.router.handle(request("GET", "/metrics", token: nil))).contains(series))
        #expect(a.router.handle(request("POST", "/api/v1/trigger-sets/irq_handler_duration/remove")).status == 200)
        let removed = body(a.router.handle(request("GET", "/metrics", token: nil)))
        #expect(!removed.contains(state))
        #expect(!removed.contains(series))
        #expect(a.router.handle(request("POST", "/api/v1/trigger-sets/irq_handler_duration/install")).status == 200)
        a.refresher.refreshSharing()
        #expect(a.router.handle(request("POST", "/api/v1/remove-all")).status == 200)
        #expect(!body(a.router.handle(request("GET", "/metrics", token: nil))).contains(series))
    }

    /// The bodies scrapers asked for are made for the snapshot an action rebuilt, by the action,
    /// so the first scrape after it does not encode or compress them itself.
    @Test func anAdminActionMakesTheBodiesScrapersAskedFor() throws {
        let a = try make()
        a.refresher.refreshSharing()
        let gzip = [("Accept-Encoding", "gzip")]
        #expect(a.router.handle(request("GET", "/metrics", token: nil, headers: gzip)).status == 200)
        #expect(a.router.handle(request("POST", "/api/v1/trigger-sets/irq_handler_duration/install")).status == 200)
        let rebuilt = try #require(a.refresher.current)
        #expect(a.app.bodies.isMade(for: rebuilt, format: .text004, gzip: true))
        #expect(!a.app.bodies.isMade(for: rebuilt, format: .text004, gzip: false))
        #expect(!a.app.bodies.isMade(for: rebuilt, format: .openMetrics100, gzip: true))
    }

    /// A refresh makes the bodies scrapers asked for on its own thread: scrapes of the snapshot it
    /// publishes find them made, and no server thread encodes or compresses after a refresh.
    @Test func aRefreshMakesTheBodiesScrapersAskedFor() throws {
        let a = try make()
        a.refresher.refreshSharing()
        let openMetricsGzip = [("Accept", "application/openmetrics-text;version=1.0.0"), ("Accept-Encoding", "gzip")]
        let first = a.router.handle(request("GET", "/metrics", token: nil, headers: openMetricsGzip))
        #expect(first.header("Content-Encoding") == "gzip")
        a.refresher.refreshSharing()
        let refreshed = try #require(a.refresher.current)
        #expect(a.app.bodies.isMade(for: refreshed, format: .openMetrics100, gzip: true))
        #expect(!a.app.bodies.isMade(for: refreshed, format: .text004, gzip: false))
    }

    /// The bodies of the snapshot being served stay while the next one's are made, and go
    /// once a newer snapshot is published: two snapshots' bodies at most.
    @Test func theBodiesOfTwoSnapshotsAreKept() throws {
        let a = try make()
        a.refresher.refreshSharing()
        let gzip = [("Accept-Encoding", "gzip")]
        #expect(a.router.handle(request("GET", "/metrics", token: nil, headers: gzip)).status == 200)
        let served = try #require(a.refresher.current)
        a.refresher.refreshSharing()
        let next = try #require(a.refresher.current)
        #expect(a.app.bodies.isMade(for: served, format: .text004, gzip: true))
        #expect(a.app.bodies.isMade(for: next, format: .text004, gzip: true))
        a.refresher.refreshSharing()
        #expect(!a.app.bodies.isMade(for: served, format: .text004, gzip: true))
        #expect(a.app.bodies.isMade(for: next, format: .text004, gzip: true))
    }

    /// The landing page links the admin API only on a listener that serves it: with its own
    /// listener (the shipped units), the metrics listener would answer those links 404.
    @Test func theLandingPageLinksTheAdminAPIOnlyWhereItIsServed() throws {
        let a = try make()
        let link = "<a href=\"/api/v1/status\">"
        let together = a.app.router(includeAdmin: true)
        #expect(body(together.handle(request("GET", "/", token: nil))).contains(link))
        #expect(together.handle(request("GET", "/api/v1/status")).status == 200)
        let apart = a.app.router(includeAdmin: false)
        let page = body(apart.handle(request("GET", "/", token: nil)))
        #expect(!page.contains(link))
        #expect(page.contains("its own listener"))
        #expect(apart.handle(request("GET", "/api/v1/status")).status == 404)
        let off = try make(admin: false)
        #expect(body(off.app.router(includeAdmin: true).handle(request("GET", "/", token: nil))).contains("admin API is off"))
    }

    @Test func negotiationAndCompression() throws {
        let a = try make()
        a.refresher.refreshSharing()
        let om = a.router.handle(request("GET", "/metrics", token: nil, headers: [("Accept", "application/openmetrics-text; version=1.0.0")]))
        #expect(om.header("Content-Type") == "application/openmetrics-text; version=1.0.0; charset=utf-8")
        #expect(body(om).hasSuffix("# EOF\n"))
        let gz = a.router.handle(request("GET", "/metrics", token: nil, headers: [("Accept-Encoding", "gzip")]))
        #expect(gz.header("Content-Encoding") == "gzip")
        guard case .shared(let compressed) = gz.body, case .shared(let plain) = a.router.handle(request("GET", "/metrics", token: nil)).body else {
            Issue.record("metrics not served from the shared snapshot")
            return
        }
        #expect(compressed.bytes.starts(with: [0x1f, 0x8b]))
        #expect(compressed.count < plain.count)
    }

    @Test func scrapesServeTheSameSnapshotUntilTheNextRefresh() throws {
        let a = try make()
        a.refresher.refreshSharing()
        guard case .shared(let first) = a.router.handle(request("GET", "/metrics", token: nil)).body,
              case .shared(let second) = a.router.handle(request("GET", "/metrics", token: nil)).body
        else { Issue.record("not shared"); return }
        #expect(first === second, "no copy or re-encoding per request")
    }

    @Test func refreshOnScrapeSharesOneReadAcrossConcurrentScrapes() throws {
        let fs = FakeKernelTraceFS()
        let gated = GatedReader(fs)
        let config = try DefaultConfig.load().overriding(refreshInterval: 0)
        let controller = TriggerController(fs: fs, config: config, logger: quietLogger)
        let collector = HistCollector(config: config, reader: gated, logger: quietLogger, features: fs.features(), clock: { 0 })
        let refresher = Refresher(collector: collector, controller: controller, metrics: ExporterMetrics(), logger: quietLogger)
        // The first scrape starts a refresh and is held inside it while 15 more arrive.
        gated.close()
        let done = DispatchGroup()
        for _ in 0..<16 {
            done.enter()
            // Real threads: the dispatch pool grows slowly when its threads block.
            Thread.detachNewThread {
                _ = refresher.snapshotForScrape()
                done.leave()
            }
        }
        let deadline = Date().addingTimeInterval(20)
        while refresher.scrapesSharingARefresh < 15 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(refresher.scrapesSharingARefresh == 15)
        gated.open()
        done.wait()
        #expect(gated.refreshesStarted == 1, "16 concurrent scrapes, one read of the kernel")
    }

    @Test func authentication() throws {
        let a = try make()
        for token in [nil, "wrong", String(Self.token.dropLast()), Self.token + "x", ""] as [String?] {
            let r = a.router.handle(request("GET", "/api/v1/status", token: token))
            #expect(r.status == 401, "\(token ?? "<none>")")
            #expect(r.header("WWW-Authenticate") != nil)
        }
        #expect(a.router.handle(request("GET", "/api/v1/status")).status == 200)
        var basic = request("GET", "/api/v1/status", token: nil)
        basic.headers.append((name: "authorization", value: "Basic \(Self.token)"))
        #expect(a.router.handle(basic).status == 401)
    }

    @Test func adminOffAnswers503AndWritesNothing() throws {
        let a = try make(admin: false)
        let r = a.router.handle(request("POST", "/api/v1/trigger-sets/wakeup_latency/install"))
        #expect(r.status == 503)
        #expect(body(r).contains("--admin.token-file"))
        #expect(a.fs.writes.isEmpty)
    }

    @Test func unknownSetsAndHostileNames() throws {
        let a = try make()
        for name in ["nope", "%2e%2e", "..%2Fwakeup_latency", "wakeup_latency%0A", "wakeup_latency:pause", "!wakeup_latency",
                     "hist:keys=pid", "wakeup%20latency"] {
            let r = a.router.handle(request("POST", "/api/v1/trigger-sets/\(name)/install"))
            #expect(r.status == 404, "\(name)")
        }
        #expect(a.fs.writes.isEmpty)
    }

    @Test func methodsAndPaths() throws {
        let a = try make()
        let wrong = a.router.handle(request("GET", "/api/v1/trigger-sets/wakeup_latency/install"))
        #expect(wrong.status == 405)
        #expect(wrong.header("Allow") == "POST")
        let post = a.router.handle(request("POST", "/metrics"))
        #expect(post.status == 405)
        #expect(a.router.handle(request("GET", "/nope")).status == 404)
        #expect(a.router.handle(request("GET", "/")).status == 200)
        #expect(body(a.router.handle(request("GET", "/"))).contains("wakeup_latency"))
    }

    @Test("errors under /api/v1/ are JSON too: unknown paths, wrong methods, actions on absent sets")
    func adminErrorsAreJSON() throws {
        let a = try make()
        for (method, path, status) in [("GET", "/api/v1/nothing", 404), ("DELETE", "/api/v1/trigger-sets", 405),
                                       ("POST", "/api/v1/trigger-sets/wakeup_latency/pause", 409)] {
            let r = a.router.handle(request(method, path))
            #expect(r.status == status, "\(method) \(path)")
            #expect(r.header("Content-Type") == "application/json", "\(method) \(path)")
            #expect(body(r).hasPrefix("{\"error\":"), "\(body(r))")
        }
        // The server's refusals (413, 431) go through the same formatter.
        let refused = a.router.errorResponse(413, "request body too large", path: "/api/v1/trigger-sets/x/install")
        #expect(refused.header("Content-Type") == "application/json")
        #expect(body(refused) == "{\"error\":\"request body too large\"}\n")
        #expect(a.router.errorResponse(413, "request body too large", path: "/metrics").header("Content-Type")?.hasPrefix("text/plain") == true)
        // Every admin request is counted, those no route takes as action "unknown".
        _ = a.router.handle(request("POST", "/api/v1/trigger-sets/wakeup_latency/bogus"))
        a.refresher.refreshSharing()
        let text = body(a.router.handle(request("GET", "/metrics", token: nil)))
        for code in [404, 405, 413] {
            #expect(text.contains("ftrace_exporter_admin_requests_total{action=\"unknown\",code=\"\(code)\"} 1")
                    || code == 404 && text.contains("ftrace_exporter_admin_requests_total{action=\"unknown\",code=\"404\"} 2"), "\(code)")
        }
    }

    @Test("each set says whether this kernel supports it, and why not")
    func setsReportSupport() throws {
        let fs = FakeKernelTraceFS(events: FakeKernelTraceFS.defaultEvents.filter { $0.system != "irq" })
        let a = try make(fs: fs)
        let list = body(a.router.handle(request("GET", "/api/v1/trigger-sets")))
        #expect(list.contains("\"supported\":true"))
        let irq = body(a.router.handle(request("GET", "/api/v1/trigger-sets/irq_handler_duration")))
        #expect(irq.contains("\"supported\":false"), "\(irq)")
        #expect(irq.contains("no event irq/irq_handler_entry"), "\(irq)")
        let install = a.router.handle(request("POST", "/api/v1/trigger-sets/irq_handler_duration/install"))
        #expect(install.status == 503)
        #expect(a.fs.writes.isEmpty)
    }

    @Test("a reload applies the new refresh interval at once and rebuilds the snapshot")
    func reloadReschedulesTheRefresh() throws {
        let a = try make(refreshInterval: 3600)
        a.refresher.start()
        defer { a.refresher.stop() }
        let first = try #require(a.refresher.current)
        var faster = try DefaultConfig.load().overriding(refreshInterval: 0.05)
        faster.triggerSets.removeAll { $0.name == "context_switches" }
        a.refresher.reload(collector: HistCollector(config: faster, reader: a.fs, logger: quietLogger, features: a.fs.features()))
        #expect(a.refresher.refreshInterval == 0.05)
        #expect(a.refresher.current !== first, "rebuilt at once")
        let rebuilt = try #require(a.refresher.current)
        let deadline = Date().addingTimeInterval(10)
        while a.refresher.current === rebuilt && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(a.refresher.current !== rebuilt, "the new 50 ms timer refreshes")
        #expect(body(a.router.handle(request("GET", "/metrics", token: nil))).contains("taken every 50ms"))
    }

    @Test("the refresh-error counter of each table we read starts at 0, so the first error is an increase")
    func refreshErrorsStartAtZero() throws {
        let a = try make()
        #expect(a.router.handle(request("POST", "/api/v1/trigger-sets/wakeup_latency/install")).status == 200)
        a.refresher.refreshSharing()
        let text = body(a.router.handle(request("GET", "/metrics", token: nil)))
        for event in ["sched\",event=\"sched_waking", "sched\",event=\"sched_switch", "synthetic\",event=\"ftrace_exporter_wakeup_lat"] {
            #expect(text.contains("ftrace_exporter_refresh_errors_total{tracefs_instance=\"ftrace_exporter\",system=\"\(event)\"} 0"), "\(event)")
        }
    }

    @Test func kernelWithoutHistTriggers() throws {
        let a = try make(fs: FakeKernelTraceFS(features: .noHistTriggers))
        let status = a.router.handle(request("GET", "/api/v1/status"))
        #expect(body(status).contains("\"hist_triggers\":false"))
        #expect(body(status).contains("CONFIG_HIST_TRIGGERS"))
        let install = a.router.handle(request("POST", "/api/v1/trigger-sets/wakeup_latency/install"))
        #expect(install.status == 503)
        a.refresher.refreshSharing()
        #expect(body(a.router.handle(request("GET", "/metrics", token: nil))).contains("ftrace_kernel_feature{feature=\"hist_triggers\"} 0"))
    }

    @Test func rejectedTriggerReportsTheKernelErrorAsJSON() throws {
        let fs = FakeKernelTraceFS()
        fs.failNext("instances/ftrace_exporter/events/sched/sched_switch/trigger", with: EINVAL, errorLog: "Couldn't find variable")
        let a = try make(fs: fs)
        let r = a.router.handle(request("POST", "/api/v1/trigger-sets/wakeup_latency/install"))
        #expect(r.status == 422)
        let text = body(r)
        #expect(text.contains("\"errno\":\"EINVAL\""))
        #expect(text.contains("Couldn't find variable"))
        #expect(text.contains("\"rolled_back\""))
    }

    @Test func removeAllIsTheEmergencyStop() throws {
        let a = try make()
        #expect(a.router.handle(request("POST", "/api/v1/trigger-sets/wakeup_latency/install")).status == 200)
        let r = a.router.handle(request("POST", "/api/v1/remove-all"))
        #expect(r.status == 200)
        #expect(!a.fs.exists("instances/ftrace_exporter/events/synthetic/ftrace_exporter_wakeup_lat"), "the set is gone")
        #expect(a.fs.exists("instances/ftrace_exporter"), "the instance is kept (and locked) while the exporter runs")
    }
}

/// A reader that can hold the first read of a refresh until the test lets it go.
final class GatedReader: TraceFileReader, @unchecked Sendable {
    let inner: FakeKernelTraceFS
    private let lock = NSLock()
    private let gate = DispatchSemaphore(value: 0)
    private var closed = false
    private(set) var refreshesStarted = 0

    init(_ inner: FakeKernelTraceFS) { self.inner = inner }

    var root: String { inner.root }
    func close() { lock.withLock { closed = true } }
    func open() {
        lock.withLock { closed = false }
        gate.signal()
    }

    func read(_ relativePath: String) throws(TraceFSError) -> [UInt8] { try inner.read(relativePath) }
    func exists(_ relativePath: String) -> Bool { inner.exists(relativePath) }

    /// Every refresh starts by listing instances: count it there, and hold it while closed.
    func list(_ relativePath: String) throws(TraceFSError) -> [String] {
        if relativePath == "instances" {
            let wait = lock.withLock { () -> Bool in
                refreshesStarted += 1
                return closed
            }
            if wait { gate.wait() }
        }
        return try inner.list(relativePath)
    }
}
