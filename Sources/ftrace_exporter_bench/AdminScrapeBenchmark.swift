#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch
import Exporter
import ExporterWeb
import HTTPServer
import Locking
import Logging
import TraceFS
import TraceFSTesting

/// A scrape's latency while installs and removals of a trigger set run in a loop on the same
/// listener, against the same scrape with no admin activity, in one run.
///
/// The exporter's web application and HTTP server run in this process over the in-memory kernel,
/// wired as the exporter wires them (thread pool, routes, refresh every 5 s); every write to the
/// kernel takes `writeDelayMilliseconds`, as the kernel's tracepoint patching does. One client
/// scrapes /metrics on one keep-alive connection every `scrapeIntervalMilliseconds`; in the busy
/// phases another installs and removes `irq_handler_duration` back to back, each request on a
/// new connection. Phases alternate idle, busy, busy, idle (`rounds` pairs) so that drift in
/// the machine's load falls on both sides.
struct AdminScrapeBenchmark {
    var secondsPerPhase = 5.0
    var rounds = 2
    var writeDelayMilliseconds = 100
    var scrapeIntervalMilliseconds = 5
    /// The exporter's pool (`HTTPServerConfiguration` default).
    var threadPoolSize = HTTPServerConfiguration().threadPoolSize
    /// Also measures the busy scrape with each action answered on the server thread that took
    /// it, as admin routes were answered before they answered later.
    var blockingReference = false

    static let token = "bench-token-0123456789abcdef"
    static let set = "irq_handler_duration"

    struct Phase {
        var scrapes: [UInt64] = []
        var installs: [UInt64] = []
        var removals: [UInt64] = []
    }

    func run() {
        let rig = Rig(writeDelayMilliseconds: writeDelayMilliseconds)
        print("== scrape latency while admin actions run on the same listener (127.0.0.1, in-process) ==")
        print("pool threads: \(threadPoolSize); kernel write delay: \(writeDelayMilliseconds) ms; scrape every \(scrapeIntervalMilliseconds) ms on one keep-alive connection; \(rounds * 2) phases of \(fixed(secondsPerPhase, 1)) s, idle and busy alternating")
        let answeringLater = serve(rig, holdServerThread: false)
        let body = LoopbackClient(port: answeringLater.port).exchange("GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n").bodyBytes
        print("scrape body: \(body) bytes (text 0.0.4, wakeup_latency: 8 CPUs x 20 buckets)")
        let (idle, busy) = measure(port: answeringLater.port)
        answeringLater.stop()
        report("actions answered later (the exporter)", idle: idle, busy: busy)

        let idleP99 = percentile(idle.scrapes, 0.99) / 1e6
        let busyP99 = percentile(busy.scrapes, 0.99) / 1e6
        if blockingReference {
            let blocking = serve(rig, holdServerThread: true)
            let (_, held) = measure(port: blocking.port, phases: [true])
            blocking.stop()
            report("reference: actions answered on the server thread", idle: nil, busy: held)
        }
        rig.stop()
        print("Figures (ours, baseline, ours/baseline time, goal, verdict):")
        print(BenchLine(
            figure: "scrape p99 ms, installs/removals looping on the same listener (vs none)", ours: busyP99,
            baseline: idleP99, goal: .atMost(1.5, "x"), goalOnRatio: true).text)
    }

    /// The exporter's routes on a server of their own. `holdServerThread`: each admin answer is
    /// waited for on the server thread, which is what answering later avoids.
    private func serve(_ rig: Rig, holdServerThread: Bool) -> HTTPServer {
        let router = rig.app.router(includeAdmin: true)
        var configuration = HTTPServerConfiguration(address: "127.0.0.1", port: 0, threadPoolSize: threadPoolSize)
        configuration.errorLog = { message in print("libmicrohttpd: \(message)") }
        let server = HTTPServer(configuration: configuration, replying: { request in
            let reply = router.reply(to: request)
            return holdServerThread && request.method == "POST" ? .now(reply.waitForResponse()) : reply
        })
        do { try server.start() } catch { fail("cannot start the server: \(error)") }
        return server
    }

    /// Runs the phases (true: busy) and returns the idle and busy samples, each merged.
    private func measure(port: UInt16, phases: [Bool]? = nil) -> (idle: Phase, busy: Phase) {
        let order = phases ?? (0..<rounds).flatMap { $0 % 2 == 0 ? [false, true] : [true, false] }
        let scraper = LoopbackClient(port: port)
        // Warm-up: the first scrapes encode the snapshot, the first action loads its code.
        _ = runPhase(scraper: scraper, port: port, busy: false, seconds: 0.3)
        _ = runPhase(scraper: scraper, port: port, busy: true, seconds: 0.1)
        var idle = Phase()
        var busy = Phase()
        for isBusy in order {
            let phase = runPhase(scraper: scraper, port: port, busy: isBusy, seconds: secondsPerPhase)
            if isBusy {
                busy.scrapes += phase.scrapes
                busy.installs += phase.installs
                busy.removals += phase.removals
            } else {
                idle.scrapes += phase.scrapes
            }
        }
        return (idle, busy)
    }

    private func runPhase(scraper: LoopbackClient, port: UInt16, busy: Bool, seconds: Double) -> Phase {
        let stop = Locked(false)
        let actions = Locked(Phase())
        let admin = DispatchGroup()
        if busy {
            DispatchQueue.global().async(group: admin) {
                while !stop.withLock({ $0 }) {
                    let install = Self.post(port: port, action: "install")
                    let removal = Self.post(port: port, action: "remove")
                    actions.withLock {
                        $0.installs.append(install)
                        $0.removals.append(removal)
                    }
                }
            }
        }
        var phase = Phase()
        let interval = UInt64(scrapeIntervalMilliseconds) * 1_000_000
        let end = now() + UInt64(seconds * 1e9)
        var next = now()
        while next < end {
            let started = now()
            let response = scraper.exchange("GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n")
            phase.scrapes.append(now() - started)
            if response.status != 200 { fail("a scrape answered \(response.status)") }
            next += interval
            let current = now()
            if next > current { usleep(UInt32((next - current) / 1000)) } else { next = current }
        }
        stop.withLock { $0 = true }
        admin.wait()
        let done = actions.withLock { $0 }
        phase.installs = done.installs
        phase.removals = done.removals
        return phase
    }

    /// One admin action on a new connection; its duration in nanoseconds.
    private static func post(port: UInt16, action: String) -> UInt64 {
        let client = LoopbackClient(port: port)
        let started = now()
        let response = client.exchange(
            "POST /api/v1/trigger-sets/\(set)/\(action) HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer \(token)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        if response.status != 200 { fail("\(action) answered \(response.status)") }
        return now() - started
    }

    private func report(_ title: String, idle: Phase?, busy: Phase) {
        func line(_ name: String, _ samples: [UInt64]) -> String {
            let over100 = samples.filter { $0 > 100_000_000 }.count
            return "\(padRight(name, 26)) n=\(padLeft(String(samples.count), 5))  p50 \(padLeft(fixed(percentile(samples, 0.5) / 1e6, 3), 9)) ms  p99 \(padLeft(fixed(percentile(samples, 0.99) / 1e6, 3), 9)) ms  max \(padLeft(fixed(Double(samples.max() ?? 0) / 1e6, 3), 9)) ms  over 100 ms: \(over100)"
        }
        print(title + ":")
        if let idle { print("  " + line("scrape, no admin activity", idle.scrapes)) }
        print("  " + line("scrape, actions looping", busy.scrapes))
        print("  " + line("install", busy.installs))
        print("  " + line("remove", busy.removals))
    }
}

/// The nearest-rank percentile of `samples`, in their unit.
func percentile(_ samples: [UInt64], _ fraction: Double) -> Double {
    guard !samples.isEmpty else { return .nan }
    let sorted = samples.sorted()
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return Double(sorted[min(max(rank, 0), sorted.count - 1)])
}

/// The exporter's state over the in-memory kernel: `wakeup_latency` installed with a
/// realistic table (8 CPUs, 20 log2 buckets each), refreshed in the background every 5 s.
final class Rig: Sendable {
    let fs: FakeKernelTraceFS
    let app: WebApplication
    let refresher: Refresher

    init(writeDelayMilliseconds: Int) {
        let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        fs = FakeKernelTraceFS()
        let config: ExporterConfig
        do { config = try DefaultConfig.load() } catch { fail("the built-in configuration does not load: \(error)") }
        let controller = TriggerController(fs: fs, config: config, logger: quiet)
        let failures = controller.startUp()
        if !failures.isEmpty { fail("start-up failed: \(failures.map { "\($0.set): \($0.error)" })") }
        var lines: [String] = []
        for cpu in 0..<8 {
            for bucket in 3..<23 {
                lines.append("{ cpu: \(padLeft(String(cpu), 10)), lat: ~ 2^\(bucket)  } hitcount: \(padLeft(String(1000 + cpu * 31 + bucket), 10))  lat: \(padLeft(String((1 << bucket) * 3 / 4), 10))")
            }
        }
        guard fs.setEntries(lines, event: EventName(system: "synthetic", event: "ftrace_exporter_wakeup_lat"), instance: .named("ftrace_exporter"),
                            matching: "hist:keys=cpu,lat.log2:vals=hitcount,lat")
        else { fail("the wakeup table is not installed") }
        let collector = HistCollector(config: config, reader: fs, logger: quiet, features: fs.features())
        let metrics = ExporterMetrics()
        refresher = Refresher(collector: collector, controller: controller, metrics: metrics, logger: quiet)
        app = WebApplication(
            refresher: refresher, controller: controller, metrics: metrics,
            options: .init(adminAuth: AdminAuth(token: Array(AdminScrapeBenchmark.token.utf8)), tracefsRoot: fs.root), logger: quiet)
        refresher.start()
        let delay = UInt32(writeDelayMilliseconds * 1000)
        fs.beforeEachAppend { _, _ in usleep(delay) }
    }

    func stop() {
        refresher.stop()
        app.stopActions()
    }
}
