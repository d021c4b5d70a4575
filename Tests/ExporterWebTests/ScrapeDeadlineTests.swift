import Exporter
@testable import ExporterWeb
import Foundation
import HTTPServer
import Testing
import TestKit
import TraceFS
import TraceFSTesting

/// When refreshing on scrape, a scrape waits for its refresh no longer than Prometheus waits
/// for the scrape.
@Suite struct ScrapeDeadlineTests {
    @Test func theWaitIsTheTimeoutLessTheOffsetOrHalfTheTimeout() {
        #expect(ScrapeDeadline.seconds(header: nil, offset: 0.5) == .success(nil))
        #expect(ScrapeDeadline.seconds(header: "10", offset: 0.5) == .success(9.5))
        #expect(ScrapeDeadline.seconds(header: "119.5", offset: 0) == .success(119.5))
        #expect(ScrapeDeadline.seconds(header: "0.6", offset: 0.5) == .success(0.3))
        #expect(ScrapeDeadline.seconds(header: "1e1", offset: 1) == .success(9))
    }

    @Test(arguments: ["", "abc", "0", "-1", "nan", "inf", "-inf", "10s", String(repeating: "1", count: 40)])
    func aValueThatIsNotAPositiveNumberOfSecondsIsRefused(_ value: String) {
        guard case .failure(let invalid) = ScrapeDeadline.seconds(header: value, offset: 0.5) else {
            Issue.record("'\(value)' taken")
            return
        }
        #expect("\(invalid)".hasPrefix("X-Prometheus-Scrape-Timeout-Seconds must be a positive number of seconds (got '"))
        #expect("\(invalid)".count < 140, "a long value is cut in the message")
    }

    /// Holds every read of tracefs while closed: a refresh started then takes until it opens.
    final class HeldReader: TraceFileReader, @unchecked Sendable {
        let inner: FakeKernelTraceFS
        private let condition = NSCondition()
        private var closed = false

        init(_ inner: FakeKernelTraceFS) { self.inner = inner }

        var root: String { inner.root }
        func close() { condition.withLock { closed = true } }
        func open() {
            condition.withLock {
                closed = false
                condition.broadcast()
            }
        }

        private func pass() {
            condition.withLock { while closed { condition.wait() } }
        }

        func read(_ relativePath: String) throws(TraceFSError) -> [UInt8] {
            pass()
            return try inner.read(relativePath)
        }

        func exists(_ relativePath: String) -> Bool {
            pass()
            return inner.exists(relativePath)
        }

        func list(_ relativePath: String) throws(TraceFSError) -> [String] {
            pass()
            return try inner.list(relativePath)
        }
    }

    struct OnScrape {
        let gated: HeldReader
        let refresher: Refresher
        let router: Router

        init() throws {
            let fs = FakeKernelTraceFS()
            gated = HeldReader(fs)
            let config = try DefaultConfig.load().overriding(refreshInterval: 0)
            let controller = TriggerController(fs: fs, config: config, logger: quietLogger)
            let collector = HistCollector(config: config, reader: gated, logger: quietLogger, features: fs.features(), clock: { 0 })
            let metrics = ExporterMetrics()
            refresher = Refresher(collector: collector, controller: controller, metrics: metrics, logger: quietLogger)
            let app = WebApplication(refresher: refresher, controller: controller, metrics: metrics,
                                     options: .init(tracefsRoot: fs.root, scrapeTimeoutOffset: 0.5), logger: quietLogger)
            router = app.router(includeAdmin: false)
        }

        func scrape(timeout: String?) -> (response: HTTPResponse, seconds: Double) {
            let headers = timeout.map { [(name: ScrapeDeadline.header, value: $0)] } ?? []
            let started = Date()
            let response = router.handle(HTTPRequest(method: "GET", path: "/metrics", query: nil, headers: headers, body: [], remoteAddress: "127.0.0.1:1"))
            return (response, Date().timeIntervalSince(started))
        }
    }

    static func text(_ response: HTTPResponse) -> String {
        switch response.body {
        case .empty: return ""
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .shared(let s): return String(decoding: s.bytes, as: UTF8.self)
        }
    }

    @Test func aScrapeWhoseRefreshIsLateIsServedThePreviousSnapshotInTime() throws {
        let s = try OnScrape()
        s.refresher.refreshSharing()
        s.gated.close()

        // Timeout 1 s, offset 0.5 s: served after about 0.5 s, from the first refresh.
        let late = s.scrape(timeout: "1")
        #expect(late.response.status == 200)
        #expect(late.seconds >= 0.45 && late.seconds < timeBound(5), "waited \(late.seconds) s")
        #expect(Self.text(late.response).contains("\nftrace_exporter_refreshes_total 1\n"))
        // Timeout 0.2 s: the offset would leave nothing, so half of it. It joins the refresh
        // under way rather than starting a second one.
        let second = s.scrape(timeout: "0.2")
        #expect(second.response.status == 200)
        #expect(second.seconds >= 0.08 && second.seconds < timeBound(4), "waited \(second.seconds) s")
        #expect(Self.text(second.response).contains("\nftrace_exporter_refreshes_total 1\n"))

        // The refresh that was late finishes and publishes; the next scrape refreshes again
        // and shows both misses, and that the second scrape started no refresh of its own.
        s.gated.open()
        let finished = Date().addingTimeInterval(20)
        while !(s.refresher.current.map { String(decoding: $0.text, as: UTF8.self) }?.contains("refreshes_total 2\n") ?? false), Date() < finished {
            Thread.sleep(forTimeInterval: 0.01)
        }
        let next = s.scrape(timeout: "10")
        #expect(next.response.status == 200)
        #expect(Self.text(next.response).contains("\nftrace_exporter_scrape_deadline_misses_total 2\n"))
        #expect(Self.text(next.response).contains("\nftrace_exporter_refreshes_total 3\n"))
    }

    @Test func withoutTheHeaderAScrapeWaitsForItsRefresh() throws {
        let s = try OnScrape()
        s.refresher.refreshSharing()
        s.gated.close()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { s.gated.open() }
        let waited = s.scrape(timeout: nil)
        #expect(waited.seconds >= 0.45)
        #expect(Self.text(waited.response).contains("\nftrace_exporter_refreshes_total 2\n"))
        #expect(Self.text(waited.response).contains("\nftrace_exporter_scrape_deadline_misses_total 0\n"))
    }

    @Test func aBadHeaderIsAnsweredWith400AndReadsNothing() throws {
        let s = try OnScrape()
        s.refresher.refreshSharing()
        let bad = s.scrape(timeout: "soon")
        #expect(bad.response.status == 400)
        #expect(Self.text(bad.response) == "X-Prometheus-Scrape-Timeout-Seconds must be a positive number of seconds (got 'soon')\n")
        #expect(!Self.text(s.scrape(timeout: "10").response).contains("refreshes_total 3\n"), "the refused scrape read nothing")
    }
}
