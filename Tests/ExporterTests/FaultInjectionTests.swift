@testable import Exporter
import Exposition
import Foundation
import HistFormat
import Testing
import TraceFS
import TraceFSTesting

/// Faults from the kernel and from outside: the exporter keeps serving, reports the fault,
/// and leaves the kernel in a known state.
@Suite struct FaultInjectionTests {
    static let instance = "instances/ftrace_exporter/"

    func controller(_ fs: FakeKernelTraceFS, repair: Bool = false) throws -> TriggerController {
        var config = try DefaultConfig.load()
        config.lifecycle.repair = repair
        return TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
    }

    @Test(arguments: [EBUSY, EEXIST, ENOENT, EINVAL, EACCES])
    func aRemovalFailingAtEveryStepIsReportedAndCanBeRetried(_ errno: Int32) throws {
        let steps = [
            "\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger",
            "\(Self.instance)events/sched/sched_switch/trigger",
            "\(Self.instance)events/sched/sched_waking/trigger",
            "synthetic_events",
        ]
        for step in steps {
            let fs = FakeKernelTraceFS()
            let c = try controller(fs)
            try c.install("wakeup_latency")
            fs.failNext(step, with: errno)
            #expect(throws: ControlError.self, "\(step)") { try c.remove("wakeup_latency") }
            #expect(try c.status(of: "wakeup_latency").state == .partial || step.hasSuffix("ftrace_exporter_wakeup_lat/trigger"))
            // The fault passes; removing again finishes the job.
            #expect(try c.remove("wakeup_latency").state == .absent, "\(step) \(errno)")
            #expect(fs.exists("instances/ftrace_exporter"), "the instance is kept while the exporter runs")
            #expect(c.removeOwned().isEmpty)
            #expect(!fs.exists("instances/ftrace_exporter"), "and goes at stop")
        }
    }

    @Test func permissionDeniedNamesTheCause() throws {
        let fs = FakeKernelTraceFS()
        fs.failAll("synthetic_events", with: EACCES)
        let c = try controller(fs)
        do {
            try c.install("wakeup_latency")
            Issue.record("installed without permission")
        } catch {
            #expect(error.httpStatus == 500)
            #expect(error.description.contains("EACCES"))
            #expect(error.description.lowercased().contains("permission denied"))
        }
        #expect(!fs.exists("instances/ftrace_exporter"), "the instance made for the install is rolled back")
    }

    @Test func ourTriggersRemovedFromOutsideAreReportedAndRepairedOnlyWhenConfigured() throws {
        for repair in [false, true] {
            let fs = FakeKernelTraceFS()
            let c = try controller(fs, repair: repair)
            try c.install("wakeup_latency")
            try fs.append("\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger", "!hist:keys=cpu,lat.log2:vals=hitcount,lat")
            #expect(try c.status(of: "wakeup_latency").state == .partial)
            let repaired = c.repairOwned()
            #expect(repaired == (repair ? ["wakeup_latency"] : []))
            #expect(try c.status(of: "wakeup_latency").state == (repair ? .installed : .partial))
        }
    }

    @Test func driftIsVisibleInMetricsAndStatus() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        let path = "\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger"
        try fs.append(path, "!hist:keys=cpu,lat.log2:vals=hitcount,lat")
        try fs.append(path, "hist:keys=cpu,lat.log2:vals=hitcount,lat if lat > 5")
        let config = c.config
        let refresher = Refresher(
            collector: HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 }),
            controller: c, metrics: ExporterMetrics(), logger: Fixtures.quietLogger)
        let text = String(decoding: refresher.refreshSharing().text, as: UTF8.self)
        #expect(text.contains("ftrace_exporter_trigger_set_state{set=\"wakeup_latency\",state=\"drifted\"} 1"))
        #expect(try c.status(of: "wakeup_latency").foreignTriggers.first?.contains("if lat > 5") == true)
    }

    @Test func ourInstanceDeletedFromOutside() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        // Someone tears everything down by hand, in the order the kernel requires.
        for write in InstallPlan.remove(try #require(c.config.triggerSet(named: "wakeup_latency")), instance: .named("ftrace_exporter")) {
            if case .append(let text) = write.action { try fs.append(write.path, text) }
        }
        try fs.removeDirectory("instances/ftrace_exporter")
        #expect(try c.status(of: "wakeup_latency").state == .absent)
        let collector = HistCollector(config: c.config, reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 })
        let result = collector.collectReporting()
        #expect(result.failures.isEmpty, "a missing instance is 'not installed', not a read failure")
        #expect(try c.install("wakeup_latency").state == .installed, "and it can be installed again")
    }

    @Test func killedInTheMiddleOfAnInstallThenRestarted() throws {
        // A crash after the synthetic event and the first trigger were written.
        let fs = FakeKernelTraceFS()
        try fs.makeDirectory("instances/ftrace_exporter")
        try fs.append("synthetic_events", "ftrace_exporter_wakeup_lat u64 lat")
        try fs.append("\(Self.instance)events/sched/sched_waking/trigger", "hist:keys=pid:fte_wakeup_ts=common_timestamp.usecs")
        let c = try controller(fs)
        #expect(try c.status(of: "wakeup_latency").state == .partial)
        #expect(c.startUp().isEmpty)
        #expect(try c.status(of: "wakeup_latency").state == .installed)
        #expect(fs.writes.allSatisfy { $0.result == 0 }, "nothing written twice: \(fs.writes.filter { $0.result != 0 })")
        let lines = String(decoding: try fs.read("\(Self.instance)events/sched/sched_waking/trigger"), as: UTF8.self)
            .split(separator: "\n").filter { $0.hasPrefix("hist:") }
        #expect(lines.count == 1)
    }

    @Test func sigtermDuringAnInstallWaitsForItThenRemovesEverything() throws {
        let fs = FakeKernelTraceFS()
        let slow = SlowWrites(fs, delay: 0.05)
        let c = TriggerController(fs: slow, config: try DefaultConfig.load(), logger: Fixtures.quietLogger)
        let installing = DispatchGroup()
        installing.enter()
        Thread.detachNewThread {
            _ = try? c.install("wakeup_latency")
            installing.leave()
        }
        while fs.writes.isEmpty { Thread.sleep(forTimeInterval: 0.005) }
        // What the SIGTERM handler does, while the install is still writing.
        let failures = c.removeOwned()
        installing.wait()
        #expect(failures.isEmpty)
        _ = c.removeOwned()
        #expect(try c.status(of: "wakeup_latency").state == .absent)
        #expect(!fs.exists("instances/ftrace_exporter"))
    }

    @Test func histFilesCutOrGrowingDuringAReadAreReportedAndTheRestIsServed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cut-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.trees.appendingPathComponent("16-kmalloc-two-triggers-one-file"), to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("instances"), withIntermediateDirectories: true)
        let hist = dir.appendingPathComponent("events/kmem/kmalloc/hist")
        let full = try Data(contentsOf: hist)
        try full.prefix(full.count / 2).write(to: hist)
        let fs = TraceFS(root: dir.path)
        let collector = HistCollector(config: try DefaultConfig.load(), reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 })
        let cut = collector.collectReporting()
        #expect(cut.failures == [HistCollector.TableFile(instance: .topLevel, event: EventName(system: "kmem", event: "kmalloc"))])
        let text = String(decoding: ExpositionEncoder.encode(cut.families, format: .text004), as: UTF8.self)
        #expect(text.contains("ftrace_hist_read_success{tracefs_instance=\"\",system=\"kmem\",event=\"kmalloc\"} 0"))
        // A table that grew between two reads parses whole again.
        try (full + full.suffix(0)).write(to: hist)
        #expect(collector.collectReporting().failures.isEmpty)
    }

    @Test func tracefsVanishingMidRunKeepsTheExporterServing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gone-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.trees.appendingPathComponent("default-config"), to: dir)
        let fs = TraceFS(root: dir.path)
        let config = try DefaultConfig.load()
        let controller = TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
        let metrics = ExporterMetrics()
        let refresher = Refresher(
            collector: HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features()),
            controller: controller, metrics: metrics, logger: Fixtures.quietLogger)
        let before = String(decoding: refresher.refreshSharing().text, as: UTF8.self)
        #expect(before.contains("ftrace_wakeup_latency_seconds_count"))
        #expect(before.contains("\nftrace_tracefs_available 1\n"))
        try FileManager.default.removeItem(at: dir)
        let after = String(decoding: refresher.refreshSharing().text, as: UTF8.self)
        #expect(after.contains("ftrace_exporter_build_info"))
        #expect(after.contains("\nftrace_tracefs_available 0\n"))
        #expect(!after.contains("ftrace_wakeup_latency_seconds_count"))
        do {
            try controller.install("wakeup_latency")
            Issue.record("installed into a vanished tracefs")
        } catch {
            #expect(error.httpStatus == 503)
            #expect(error.description.contains("tracefs is not available"))
        }
    }

    @Test func aTableAtTheKernelMaximumStaysWithinAMemoryBound() throws {
        var text = "# event histogram\n#\n# trigger info: hist:keys=common_cpu,lat.log2:vals=hitcount,lat:sort=hitcount:size=131072 [active]\n#\n\n"
        var hits: UInt64 = 0
        for i in 0..<131072 {
            let cpu = i / 32
            let exponent = i % 32
            let pad = exponent < 10 ? " " : ""
            text += "{ cpu: \(String(repeating: " ", count: max(0, 10 - String(cpu).count)))\(cpu), lat: ~ 2^\(exponent)\(pad) } hitcount:          3  lat:        \(3 << exponent)\n"
            hits += 3
        }
        text += "\nTotals:\n    Hits: \(hits)\n    Entries: 131072\n    Dropped: 0\n"
        let before = residentBytes()
        let file = try HistParser.parse(text)
        #expect(file.blocks[0].entries.count == 131072)
        let mapping = try #require(try DefaultConfig.load().triggerSet(named: "wakeup_latency")?.triggers[2].metric)
        let families = HistMapping.map(file.blocks[0], with: mapping)
        let bytes = ExpositionEncoder.encode(families, format: .text004)
        #expect(families[0].allMetrics.count == 4096)
        let growth = residentBytes() - before
        #expect(growth < 512 << 20, "parsing, mapping and encoding the largest table grew RSS by \(growth >> 20) MiB")
        #expect(bytes.count > 0)
    }
}

/// Reads VmRSS of this process.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
}

/// Adds a delay to every write, to catch an install in the middle.
final class SlowWrites: TraceFileSystem, @unchecked Sendable {
    let inner: FakeKernelTraceFS
    let delay: Double
    init(_ inner: FakeKernelTraceFS, delay: Double) {
        self.inner = inner
        self.delay = delay
    }
    var root: String { inner.root }
    func read(_ p: String) throws(TraceFSError) -> [UInt8] { try inner.read(p) }
    func list(_ p: String) throws(TraceFSError) -> [String] { try inner.list(p) }
    func exists(_ p: String) -> Bool { inner.exists(p) }
    func append(_ p: String, _ t: String) throws(TraceFSError) {
        Thread.sleep(forTimeInterval: delay)
        try inner.append(p, t)
    }
    func truncate(_ p: String) throws(TraceFSError) { try inner.truncate(p) }
    func makeDirectory(_ p: String) throws(TraceFSError) { try inner.makeDirectory(p) }
    func removeDirectory(_ p: String) throws(TraceFSError) { try inner.removeDirectory(p) }
}
