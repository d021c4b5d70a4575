@testable import Exporter
import Exposition
import Foundation
import Testing
import TraceFS
import TraceFSTesting

/// Every family the exporter really produces is documented in the README's metrics reference.
@Suite struct MetricsReferenceTests {
    static let rows: [(event: EventName, command: String, entry: String)] = [
        (EventName(system: "synthetic", event: "ftrace_exporter_wakeup_lat"), "hist:keys=cpu,lat.log2:vals=hitcount,lat",
         "{ cpu:          0, lat: ~ 2^3  } hitcount:          4  lat:         25"),
        (EventName(system: "synthetic", event: "ftrace_exporter_wakeup_rt_lat"), "hist:keys=cpu,lat.log2:vals=hitcount,lat",
         "{ cpu:          1, lat: ~ 2^4  } hitcount:          1  lat:         12"),
        (EventName(system: "synthetic", event: "ftrace_exporter_syscall_lat"), "hist:keys=id.syscall,lat.log2:vals=hitcount,lat:size=16384",
         "{ id: sys_read                      [  0], lat: ~ 2^10 } hitcount:          1  lat:       1000"),
        (EventName(system: "synthetic", event: "ftrace_exporter_block_lat"), "hist:keys=dev,lat.log2:vals=hitcount,lat",
         "{ dev:    8388608, lat: ~ 2^7  } hitcount:          1  lat:        100"),
        (EventName(system: "synthetic", event: "ftrace_exporter_irq_dur"), "hist:keys=irq,dur.log2:vals=hitcount,dur",
         "{ irq:         11, dur: ~ 2^10 } hitcount:          1  dur:       1000"),
        (EventName(system: "kmem", event: "kmalloc"), "hist:keys=call_site.sym:vals=bytes_req,bytes_alloc:size=4096",
         "{ call_site: [ffffffff81234567] seq_read_iter                                 } hitcount:          1  bytes_req:         64  bytes_alloc:         64"),
        (EventName(system: "sched", event: "sched_switch"), "hist:keys=cpu,prev_state:vals=hitcount:size=4096",
         "{ cpu:          0, prev_state:          1 } hitcount:          5"),
    ]

    @Test func everyFamilyIsDocumented() throws {
        let fs = FakeKernelTraceFS()
        let config = try DefaultConfig.load()
        let controller = TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
        for set in config.triggerSets { _ = try controller.install(set.name) }
        for row in Self.rows {
            #expect(fs.setEntries([row.entry], event: row.event, instance: .named("ftrace_exporter"), matching: row.command), "\(row.command)")
        }
        // A table someone else installed, for the discovery families.
        try fs.append("events/kmem/kmalloc/trigger", "hist:keys=common_pid.execname:vals=bytes_req")
        #expect(fs.setEntries(["{ common_pid: init            [         1] } hitcount:          3  bytes_req:         96"],
                              event: EventName(system: "kmem", event: "kmalloc"), instance: .topLevel,
                              matching: "hist:keys=common_pid.execname:vals=bytes_req"))
        let metrics = ExporterMetrics()
        metrics.countAdminRequest(action: "install", code: 200)
        let refresher = Refresher(
            collector: HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features()),
            controller: controller, metrics: metrics, logger: Fixtures.quietLogger)
        refresher.refreshSharing()
        refresher.refreshSharing()
        let text = String(decoding: try #require(refresher.current).text.bytes, as: UTF8.self)
        let exposed = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
        let readme = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var missing: [String] = []
        for name in exposed.sorted() {
            let documented = readme.contains("`\(name)`") || (name.hasPrefix("process_") && readme.contains("`process_*`"))
            if !documented { missing.append(name) }
        }
        #expect(missing.isEmpty, "undocumented families: \(missing)")
        for family in ["ftrace_wakeup_latency_seconds", "ftrace_syscall_latency_seconds", "ftrace_block_io_latency_seconds",
                       "ftrace_irq_handler_duration_seconds", "ftrace_kmalloc_calls_total", "ftrace_context_switches_total",
                       "ftrace_hist_hits_total", "ftrace_hist_value_total", "ftrace_exporter_admin_requests_total"] {
            #expect(exposed.contains(family), "\(family) is produced")
        }
        #expect(text.contains("ftrace_block_io_latency_seconds_count{device=\"8:0\"} 1"))
        #expect(text.contains("ftrace_syscall_latency_seconds_count{syscall=\"sys_read\"} 1"))
        try PromtoolCheck.passes(text)
    }
}
