@testable import Exporter
import Exposition
import Foundation
import Platform
import Testing
import TraceFS
import TraceFSTesting

/// The README's metrics reference and the exporter's output agree both ways: every family the
/// exporter produces is documented, and every family the reference lists is produced, with the
/// type it documents.
@Suite struct MetricsReferenceTests {
    /// Families the reference lists that the in-memory kernel below cannot produce, with the
    /// reason; the VM scenarios see them on real kernels.
    static let onlyOnRealKernels: [String: String] = [
        "ftrace_offcpu_intervals_total": "offcpu_time_stacks carries stacks in a synthetic event, which the 6.1 model lacks",
        "ftrace_offcpu_seconds_total": "offcpu_time_stacks carries stacks in a synthetic event, which the 6.1 model lacks",
        "ftrace_wakeup_latency_by_cgroup_seconds": "wakeup_latency_by_cgroup needs tracepoint probes, which the 6.1 model lacks",
        "ftrace_hist_unnamed_cgroup_entries": "only tables with a decode: cgroup label have it: wakeup_latency_by_cgroup's",
        "ftrace_hist_carried_entries": "only tables keyed by cgroup have it: wakeup_latency_by_cgroup's",
    ]

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
        (EventName(system: "raw_syscalls", event: "sys_exit"), "hist:keys=id.syscall,ret:vals=hitcount:size=4096 if ret < 0",
         "{ id: sys_openat                    [257], ret: 18446744073709551614 } hitcount:          3"),
        (EventName(system: "synthetic", event: "ftrace_exporter_func_lat"), "hist:keys=func.sym,lat.log2:vals=hitcount,lat:size=4096",
         "{ func: [ffffffffb6791190] vfs_fsync_range                              , lat: ~ 2^16 } hitcount:          4  lat:     160834"),
        (EventName(system: "sched", event: "sched_switch"),
         "hist:keys=stacktrace,prev_state:vals=hitcount:sort=hitcount.descending:size=8192 if prev_state & 3", """
            { stacktrace:
                     __schedule+0x4f8/0xa00
                     schedule+0x5a/0xd0
                     do_nanosleep+0x6c/0x160
            , prev_state:          1} hitcount:          3
            """),
    ]

    /// The exposition with every preset installed and holding data, a discovered table with an
    /// `onmax()` handler, and an admin request counted.
    static func exposition() throws -> String {
        let fs = FakeKernelTraceFS()
        let config = try DefaultConfig.load()
        let controller = TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
        for set in config.triggerSets where controller.unsupportedReason(for: set) == nil { _ = try controller.install(set.name) }
        for row in rows {
            #expect(fs.setEntries([row.entry], event: row.event, instance: .named("ftrace_exporter"), matching: row.command), "\(row.command)")
        }
        // Tables someone else installed, for the discovery families: a counting one, and a
        // wakeup-latency pair whose onmax() keeps the worst latency per pid (handler values).
        try fs.append("events/kmem/kmalloc/trigger", "hist:keys=common_pid.execname:vals=bytes_req")
        #expect(fs.setEntries(["{ common_pid: init            [         1] } hitcount:          3  bytes_req:         96"],
                              event: EventName(system: "kmem", event: "kmalloc"), instance: .topLevel,
                              matching: "hist:keys=common_pid.execname:vals=bytes_req"))
        try fs.append("events/sched/sched_waking/trigger", "hist:keys=pid:ts0=common_timestamp.usecs")
        let onmax = "hist:keys=next_pid:wakeup_lat=common_timestamp.usecs-$ts0:onmax($wakeup_lat).save(next_comm,prev_pid)"
        try fs.append("events/sched/sched_switch/trigger", onmax)
        #expect(fs.setEntries(["""
            { next_pid:        679 } hitcount:          1
            \tmax:        477  next_comm: sleep                             prev_pid:         15
            """], event: EventName(system: "sched", event: "sched_switch"), instance: .topLevel, matching: onmax))
        let metrics = ExporterMetrics()
        metrics.countAdminRequest(action: "install", code: 200)
        metrics.countRotation(set: "wakeup_latency", seconds: 0.004)
        let refresher = Refresher(
            collector: HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features()),
            controller: controller, metrics: metrics, logger: Fixtures.quietLogger)
        refresher.refreshSharing()
        refresher.refreshSharing()
        return String(decoding: try #require(refresher.current).text, as: UTF8.self)
    }

    /// Family name -> TYPE, from an exposition in text 0.0.4.
    static func types(_ text: String) -> [String: String] {
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
        }
        return types
    }

    /// Family name -> documented type, from every `| family | type | ...` table under "## Metrics".
    static func documentedFamilies() throws -> [String: String] {
        var families: [String: String] = [:]
        for table in Readme.tables(in: try Readme().section("## Metrics")) where table.header.prefix(2) == ["family", "type"] {
            for row in table.rows {
                guard let name = Readme.codeSpans(row[0]).first else { continue }
                // "gauge (info)": an info metric is a gauge in text 0.0.4.
                families[name] = String(row[1].prefix { $0 != " " })
            }
        }
        return families
    }

    @Test func everyFamilyIsDocumented() throws {
        let text = try Self.exposition()
        let exposed = Set(Self.types(text).keys)
        let readme = try Readme().text
        var missing: [String] = []
        for name in exposed.sorted() {
            let documented = readme.contains("`\(name)`") || (name.hasPrefix("process_") && readme.contains("`process_*`"))
            if !documented { missing.append(name) }
        }
        #expect(missing.isEmpty, "undocumented families: \(missing)")
        #expect(text.contains("ftrace_block_io_latency_seconds_count{device=\"8:0\"} 1"))
        #expect(text.contains("ftrace_syscall_latency_seconds_count{syscall=\"sys_read\"} 1"))
        #expect(text.contains("handler=\"max\"} 477"), "the onmax() value of the discovered table")
        try PromtoolCheck.passes(text)
    }

    @Test func everyDocumentedFamilyIsProducedWithItsType() throws {
        let documented = try Self.documentedFamilies()
        #expect(documented.count >= 30, "the metrics reference tables were found (\(documented.count) families)")
        let exposed = Self.types(try Self.exposition())
        for (name, type) in documented.sorted(by: { $0.key < $1.key }) {
            if let reason = Self.onlyOnRealKernels[name] {
                #expect(exposed[name] == nil, "\(name) is listed as real-kernel only (\(reason)) but the in-memory kernel produces it")
                continue
            }
            if name.hasSuffix("*") {
                let prefix = String(name.dropLast())
                #expect(exposed.keys.contains { $0.hasPrefix(prefix) }, "no \(name) family is produced")
                continue
            }
            // A sanitizer's allocator stands in for glibc's and reports no heap figures.
            if name.hasPrefix("ftrace_exporter_heap_") && Heap.statistics() == nil {
                #expect(exposed[name] == nil, "\(name) without glibc's heap figures")
                continue
            }
            guard let actual = exposed[name] else {
                Issue.record("\(name) is in README's metrics reference but not produced")
                continue
            }
            #expect(actual == type, "\(name): README says \(type), the exporter says \(actual)")
        }
        for name in Self.onlyOnRealKernels.keys { #expect(documented[name] != nil, "\(name) is no longer documented") }
    }
}
