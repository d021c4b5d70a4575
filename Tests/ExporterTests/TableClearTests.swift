import Cgroups
@testable import Exporter
import Exposition
import Foundation
import HistFormat
import Locking
import Testing
import TraceFS
import TraceFSTesting

/// A table keyed by cgroup fills with the entries of cgroups long gone; at the high-water mark
/// the exporter clears it and carries the counts of live cgroups on.
@Suite struct TableClearTests {
    struct Setup {
        let root: String
        let fs: FakeKernelTraceFS
        let config: ExporterConfig
        let controller: TriggerController
        let collector: HistCollector
        let metrics = ExporterMetrics()
        let refresher: Refresher
        let trigger: TriggerDefinition

        init(size: Int = 128, seriesLimit: Int = 2000) throws {
            root = "/dev/shm/table-clear-\(UUID().uuidString)"
            let yaml = CgroupLabelTests.yaml.replacingOccurrences(of: "size=8192", with: "size=\(size)")
                .replacingOccurrences(of: "bucket_key: lat\n", with: "bucket_key: lat\n          series_limit: \(seriesLimit)\n")
            config = try ConfigLoader.load(yaml: "cgroup_mount: \(root)\n" + yaml, file: "t.yml")
            fs = FakeKernelTraceFS()
            controller = TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
            // Every look at the clock is 11 s on: the mount is walked again for any unknown id.
            let ticks = Locked<UInt64>(0)
            collector = HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: {
                ticks.withLock { $0 += 11_000_000_000; return $0 }
            })
            refresher = Refresher(collector: collector, controller: controller, metrics: metrics, logger: Fixtures.quietLogger)
            trigger = config.triggerSets[0].triggers[0]
        }

        func cgroup(_ path: String) throws -> Int {
            try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
            return try #require(try FileManager.default.attributesOfItem(atPath: root + path)[.systemFileNumber] as? Int)
        }

        func setTable(_ lines: [String]) {
            #expect(fs.setEntries(lines, event: trigger.event, instance: config.traceInstance, matching: trigger.command))
        }

        func scrape() -> String {
            String(decoding: refresher.refreshSharing().bytes(format: .text004), as: UTF8.self)
        }

        func tableText() throws -> String {
            String(decoding: try fs.readHist(trigger.event, in: config.traceInstance), as: UTF8.self)
        }
    }

    static func line(_ id: Int, _ exponent: Int, _ hits: Int, _ lat: Int) -> String {
        "{ cgroup: \(id), lat: ~ 2^\(exponent) } hitcount: \(hits)  lat: \(lat)"
    }

    static func sample(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func aFullTableIsClearedAndItsLiveCountsCarryOn() throws {
        let s = try Setup()
        defer { try? FileManager.default.removeItem(atPath: s.root) }
        #expect(try s.controller.install("by_cgroup").state == .installed)
        let scope = CgroupLabelTests.scope
        let live = try s.cgroup(scope)
        let gone = try s.cgroup("/system.slice/gone.service")
        let count = "ftrace_wakeup_latency_by_cgroup_seconds_count{cgroup=\"\(scope)\",pod_uid=\"\(CgroupLabelTests.uid)\",container_id=\"\(CgroupLabelTests.container)\"}"
        let goneCount = "ftrace_wakeup_latency_by_cgroup_seconds_count{cgroup=\"/system.slice/gone.service\",pod_uid=\"\",container_id=\"\"}"
        s.setTable([Self.line(live, 8, 3, 700), Self.line(gone, 1, 1, 1)])
        #expect(Self.sample(s.scrape(), goneCount) == 1)
        try FileManager.default.removeItem(atPath: s.root + "/system.slice/gone.service")
        // Half of size 128 is the mark: 64 entries, 63 of the cgroup removed.
        s.setTable([Self.line(live, 8, 3, 700)] + (1...63).map { Self.line(gone, $0, 1, $0) })
        let first = s.scrape()
        #expect(Self.sample(first, count) == 3)
        #expect(Self.sample(first, goneCount) == 63, "named until the next walk of the mount")

        // The refresh that saw the table at the mark cleared it after reading.
        let cleared = try s.tableText()
        #expect(cleared.contains("Entries: 0"), "cleared: \(cleared)")
        // New events after the clear add to what was carried.
        s.setTable([Self.line(live, 8, 2, 500), Self.line(live, 12, 1, 3000)])
        let second = s.scrape()
        #expect(Self.sample(second, count) == 6, "3 carried + 3 since: \(second)")
        #expect(Self.sample(second, "ftrace_wakeup_latency_by_cgroup_seconds_sum{cgroup=\"\(scope)\",pod_uid=\"\(CgroupLabelTests.uid)\",container_id=\"\(CgroupLabelTests.container)\"}") == 0.0042)
        #expect(Self.sample(second, goneCount) == nil, "the removed cgroup's series is gone")
        let labels = #"set="by_cgroup",system="synthetic",event="ftrace_exporter_cg_lat""#
        #expect(second.contains("ftrace_exporter_table_clears_total{\(labels),result=\"confirmed\"} 1"), "\(second)")
        #expect(second.contains("ftrace_exporter_table_clear_dropped_entries_total{\(labels)} 63"))
        #expect(second.split(separator: "\n").contains { $0.hasPrefix("ftrace_hist_carried_entries{") && $0.hasSuffix(" 1") })
    }

    @Test func aTableEmptiedByAnotherHandStartsAgain() throws {
        let s = try Setup()
        defer { try? FileManager.default.removeItem(atPath: s.root) }
        #expect(try s.controller.install("by_cgroup").state == .installed)
        let live = try s.cgroup("/system.slice/cron.service")
        let gone = try s.cgroup("/system.slice/gone.service")
        s.setTable([Self.line(live, 8, 3, 700)] + (1...63).map { Self.line(gone, $0, 1, $0) })
        _ = s.scrape()
        s.setTable([Self.line(live, 8, 5, 900)])
        let count = "ftrace_wakeup_latency_by_cgroup_seconds_count{cgroup=\"/system.slice/cron.service\",pod_uid=\"\",container_id=\"\"}"
        #expect(Self.sample(s.scrape(), count) == 8)
        // An admin clear (or a re-install) sets Hits back below what the exporter last saw.
        _ = try s.controller.control("by_cgroup", .clear)
        s.setTable([Self.line(live, 8, 1, 100)])
        #expect(Self.sample(s.scrape(), count) == 1, "nothing carried over a clear the exporter did not make")
    }

    @Test func aTableBelowTheMarkIsNotCleared() throws {
        let s = try Setup()
        defer { try? FileManager.default.removeItem(atPath: s.root) }
        #expect(try s.controller.install("by_cgroup").state == .installed)
        let live = try s.cgroup("/system.slice/cron.service")
        s.setTable((1...7).map { Self.line(live, $0, 1, 1 << $0) })
        let text = s.scrape()
        #expect(try s.tableText().contains("Entries: 7"))
        #expect(text.contains(#"ftrace_exporter_table_clears_total{set="by_cgroup",system="synthetic",event="ftrace_exporter_cg_lat",result="confirmed"} 0"#))
    }

    @Test func entriesOfTwoReadingsAddUp() throws {
        let head = "# event histogram\n#\n# trigger info: hist:keys=cgroup,lat.log2:vals=hitcount,lat:sort=hitcount:size=16 [active]\n#\n\n"
        func entries(_ lines: [String]) throws -> HistEntries {
            try #require(try HistParser.parse(head + lines.joined(separator: "\n") + "\n\nTotals:\n    Hits: 1\n    Entries: 1\n    Dropped: 0\n").blocks.first).entries
        }
        let a = try entries([Self.line(1, 8, 3, 700), Self.line(2, 9, 1, 400)])
        let b = try entries([Self.line(1, 8, 2, 500), Self.line(3, 2, 4, 12)])
        let sum = a.adding(b)
        #expect(sum.count == 3)
        #expect(sum[0].hitcount == 5 && sum[0].values.first?.reading == .number(1200))
        #expect(sum[1].hitcount == 1 && sum[2].hitcount == 4)
        #expect(sum.filter { $0.hitcount! > 1 }.count == 2)
    }
}
