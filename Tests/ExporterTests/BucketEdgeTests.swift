import Exporter
import Exposition
import Foundation
import HistFormat
import Testing
import TraceFS

/// Hand-built tables with values on both sides of every bucket edge.
@Suite struct BucketEdgeTests {
    func histogram(_ yamlMetric: String, command: String, entries: [String]) throws -> MetricValue {
        let yaml = """
            tracefs: {instance: ""}
            trigger_sets:
              - name: t
                triggers:
                  - event: synthetic/lat
                    command: "\(command)"
                    metric:
            \(yamlMetric.split(separator: "\n").map { "          " + $0 }.joined(separator: "\n"))
            """
        let config = try ConfigLoader.load(yaml: yaml, file: "test.yml")
        var text = "# event histogram\n#\n# trigger info: \(command):size=2048 [active]\n#\n\n"
        for e in entries { text += e + "\n" }
        text += "\nTotals:\n    Hits: 0\n    Entries: \(entries.count)\n    Dropped: 0\n"
        let block = try HistParser.parse(text).blocks[0]
        let families = HistMapping.map(block, with: config.triggerSets[0].triggers[0].metric!)
        return try #require(families.first?.allMetrics.first?.value)
    }

    @Test func exactKeysFoldIntoConfiguredBuckets() throws {
        let value = try histogram("""
            name: lat_seconds
            help: h
            type: histogram
            bucket_key: lat
            scale: 0.000001
            buckets: [0.000001, 0.000002, 0.000005]
            """, command: "hist:keys=lat", entries: [
                "{ lat:          0 } hitcount:          1",
                "{ lat:          1 } hitcount:          2",
                "{ lat:          2 } hitcount:          4",
                "{ lat:          3 } hitcount:          8",
                "{ lat:          5 } hitcount:         16",
                "{ lat:          6 } hitcount:         32",
            ])
        #expect(value == .histogram(buckets: [
            HistogramBucket(upperBound: 0.000001, cumulativeCount: 3),
            HistogramBucket(upperBound: 0.000002, cumulativeCount: 7),
            HistogramBucket(upperBound: 0.000005, cumulativeCount: 31),
        ], sum: 0.000306, count: 63))
    }

    @Test func log2BucketsEndAtTheirPowerOfTwo() throws {
        // ~ 2^k holds (2^(k-1), 2^k]: all of it is <= 2^k and none of it is <= 2^(k-1).
        let value = try histogram("""
            name: lat_seconds
            help: h
            type: histogram
            bucket_key: lat
            scale: 0.000001
            sum_value: lat
            buckets: [0.000002, 0.000008]
            """, command: "hist:keys=lat.log2:vals=hitcount,lat", entries: [
                "{ lat: ~ 2^0  } hitcount:          1  lat:          1",
                "{ lat: ~ 2^1  } hitcount:          2  lat:          4",
                "{ lat: ~ 2^2  } hitcount:          4  lat:         14",
                "{ lat: ~ 2^3  } hitcount:          8  lat:         64",
                "{ lat: ~ 2^4  } hitcount:         16  lat:        200",
            ])
        #expect(value == .histogram(buckets: [
            HistogramBucket(upperBound: 0.000002, cumulativeCount: 3),
            HistogramBucket(upperBound: 0.000008, cumulativeCount: 15),
        ], sum: 0.000283, count: 31))
    }

    @Test func defaultLog2BoundsAreEveryPowerOfTwo() throws {
        let value = try histogram("""
            name: lat_seconds
            help: h
            type: histogram
            bucket_key: lat
            scale: 0.000001
            sum_value: lat
            """, command: "hist:keys=lat.log2:vals=hitcount,lat", entries: [
                "{ lat: ~ 2^10 } hitcount:          3  lat:       3000",
            ])
        guard case .histogram(let buckets, let sum, let count) = value else { Issue.record("not a histogram"); return }
        #expect(buckets.count == 33)
        #expect(buckets[9] == HistogramBucket(upperBound: 0.000512, cumulativeCount: 0))
        #expect(buckets[10] == HistogramBucket(upperBound: 0.001024, cumulativeCount: 3))
        #expect(buckets.last == HistogramBucket(upperBound: 4294.967296, cumulativeCount: 3))
        #expect(sum == 0.003)
        #expect(count == 3)
    }

    @Test func linearBucketsEndAtTheirLastValue() throws {
        let value = try histogram("""
            name: lat_seconds
            help: h
            type: histogram
            bucket_key: lat
            scale: 0.000001
            sum_value: lat
            buckets: [0.000009, 0.000019, 0.000049]
            """, command: "hist:keys=lat.buckets=10:vals=hitcount,lat", entries: [
                "{ lat: ~ 0-9 } hitcount:          1  lat:          9",
                "{ lat: ~ 10-19 } hitcount:          2  lat:         20",
                "{ lat: ~ 20-29 } hitcount:          4  lat:         80",
                "{ lat: ~ 50-59 } hitcount:          8  lat:        400",
            ])
        #expect(value == .histogram(buckets: [
            HistogramBucket(upperBound: 0.000009, cumulativeCount: 1),
            HistogramBucket(upperBound: 0.000019, cumulativeCount: 3),
            HistogramBucket(upperBound: 0.000049, cumulativeCount: 7),
        ], sum: 0.000509, count: 15))
    }

    @Test func labelsSplitSeriesAndOtherKeysAreSummed() throws {
        let config = try ConfigLoader.load(yaml: """
            tracefs: {instance: ""}
            trigger_sets:
              - name: t
                triggers:
                  - event: synthetic/lat
                    command: "hist:keys=cpu,pid,lat.log2:vals=hitcount,lat"
                    metric: {name: lat_seconds, help: h, type: histogram, bucket_key: lat, sum_value: lat, scale: 0.000001,
                             buckets: [0.000004], labels: [{key: cpu, name: cpu}]}
            """, file: "t.yml")
        let text = """
            # event histogram
            #
            # trigger info: hist:keys=common_cpu,pid,lat.log2:vals=hitcount,lat:sort=hitcount:size=2048 [active]
            #

            { cpu:          1, pid:         10, lat: ~ 2^2  } hitcount:          2  lat:          7
            { cpu:          0, pid:         10, lat: ~ 2^2  } hitcount:          1  lat:          3
            { cpu:          0, pid:         11, lat: ~ 2^3  } hitcount:          5  lat:         30

            Totals:
                Hits: 8
                Entries: 3
                Dropped: 0

            """
        let block = try HistParser.parse(text).blocks[0]
        let family = try #require(HistMapping.map(block, with: config.triggerSets[0].triggers[0].metric!).first)
        #expect(family.allMetrics == [
            Metric(labels: [Label("cpu", "0")], value: .histogram(buckets: [HistogramBucket(upperBound: 0.000004, cumulativeCount: 1)], sum: 0.000033, count: 6)),
            Metric(labels: [Label("cpu", "1")], value: .histogram(buckets: [HistogramBucket(upperBound: 0.000004, cumulativeCount: 2)], sum: 0.000007, count: 2)),
        ])
    }

    @Test func seriesOverTheLimitAreCountedNotSilent() throws {
        let config = try ConfigLoader.load(yaml: """
            tracefs: {instance: ""}
            trigger_sets:
              - name: t
                triggers:
                  - event: raw_syscalls/sys_enter
                    command: "hist:keys=id.syscall"
                    metric: {name: syscalls, help: h, type: counter, series_limit: 2, labels: [{key: id, name: syscall}]}
            """, file: "t.yml")
        let text = histTable("hist:keys=id.syscall:vals=hitcount:sort=hitcount:size=2048", [
            "{ id: sys_read                      [  0] } hitcount:          1",
            "{ id: sys_write                     [  1] } hitcount:          1",
            "{ id: sys_open                      [  2] } hitcount:          1",
        ])
        let result = HistMapping.mapCounting(try HistParser.parse(text).blocks[0], with: config.triggerSets[0].triggers[0].metric!)
        #expect(result.families.first?.allMetrics.count == 2)
        #expect(result.seriesOverLimit == 1)
    }
}

/// A value column a mapping reads but the table lacks must not read as 0.
@Suite struct MissingColumnTests {
    static let yaml = """
        tracefs: {instance: ""}
        discovery: {enabled: false}
        trigger_sets:
          - name: t
            triggers:
              - event: synthetic/ftrace_exporter_lat
                command: "hist:keys=lat.log2:vals=hitcount,lat"
                metric: {name: lat_seconds, help: h, type: histogram, bucket_key: lat, sum_value: lat, scale: 0.000001}
              - event: kmem/kmalloc
                command: "hist:keys=call_site.sym:vals=bytes_req"
                metric: {name: kmalloc, help: h, type: counter, values: [hitcount, {column: bytes_req, suffix: bytes}]}
        """

    /// A tracefs tree holding the two tables, with `lines` as the histogram's entries.
    static func tree(histogram lines: [String], counter: [String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString)")
        let tables: [(String, String, [String])] = [
            ("synthetic/ftrace_exporter_lat", "hist:keys=lat.log2:vals=hitcount,lat:sort=hitcount:size=2048", lines),
            ("kmem/kmalloc", "hist:keys=call_site.sym:vals=hitcount,bytes_req:sort=hitcount:size=2048", counter),
        ]
        for (event, info, entries) in tables {
            let dir = root.appendingPathComponent("events/\(event)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try histTable(info, entries).write(to: dir.appendingPathComponent("hist"), atomically: true, encoding: .utf8)
            try (info + " [active]\n").write(to: dir.appendingPathComponent("trigger"), atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func aMissingSumColumnFailsTheTableInsteadOfASumOfZero() throws {
        let config = try ConfigLoader.load(yaml: Self.yaml, file: "t.yml")
        let complete = [
            "{ lat: ~ 2^3  } hitcount:          2  lat:         13",
            "{ lat: ~ 2^5  } hitcount:          1  lat:         30",
        ]
        let calls = ["{ call_site: [ffffffff81234567] seq_read_iter                                 } hitcount:          3  bytes_req:        192"]
        for (histogram, counter, missing) in [
            (complete, calls, nil),
            ([complete[0], "{ lat: ~ 2^5  } hitcount:          1"], calls, "lat"),
            (complete, ["{ call_site: [ffffffff81234567] seq_read_iter                                 } hitcount:          3"], "bytes_req"),
        ] as [([String], [String], String?)] {
            let root = try Self.tree(histogram: histogram, counter: counter)
            defer { try? FileManager.default.removeItem(at: root) }
            let fs = TraceFS(root: root.path)
            let log = LogLines()
            let collector = HistCollector(config: config, reader: fs, logger: log.logger, features: fs.features(), clock: { 0 })
            let collection = collector.collectReporting()
            let (families, failures) = (collection.families, collection.failures)
            let failing: EventName = missing == "lat"
                ? EventName(system: "synthetic", event: "ftrace_exporter_lat") : EventName(system: "kmem", event: "kmalloc")
            let success = families.first { $0.name == "ftrace_hist_read_success" }?.allMetrics ?? []
            func readSuccess(_ event: EventName) -> MetricValue? {
                success.first { $0.labels.contains(Label("event", event.event)) }?.value
            }
            guard let missing else {
                #expect(failures.isEmpty)
                #expect(families.contains { $0.name == "lat_seconds" } && families.contains { $0.name == "kmalloc_bytes" })
                continue
            }
            #expect(failures.map(\.event) == [failing], "\(missing)")
            #expect(readSuccess(failing) == .gauge(0), "\(missing)")
            let family = missing == "lat" ? "lat_seconds" : "kmalloc_bytes"
            #expect(!families.contains { $0.name == family }, "\(missing): no family rather than a wrong one")
            // The other table of the refresh is unaffected.
            let other = missing == "lat" ? "kmalloc_bytes" : "lat_seconds"
            #expect(families.contains { $0.name == other }, "\(missing)")
            let error = try #require(log.lines.first { $0.contains("level=error") }, "\(log.lines)")
            #expect(error.contains("column=\(missing)") && error.contains("\(root.path)/events/\(failing)/hist"), "\(error)")
        }
    }

    @Test func theMappingNamesTheMissingColumn() throws {
        let config = try ConfigLoader.load(yaml: Self.yaml, file: "t.yml")
        let block = try HistParser.parse(histTable("hist:keys=lat.log2:vals=hitcount,lat:sort=hitcount:size=2048", [
            "{ lat: ~ 2^3  } hitcount:          2",
        ])).blocks[0]
        #expect(HistMapping.missingColumn(block, for: config.triggerSets[0].triggers[0].metric!) == "lat")
    }

    @Test func aGaugeOfTheHitcountIsTheHitcount() throws {
        // A UInt64 hitcount once became a gauge through Double(bitPattern:).
        let config = try ConfigLoader.load(yaml: """
            tracefs: {instance: ""}
            trigger_sets:
              - name: t
                triggers:
                  - event: sched/sched_switch
                    command: "hist:keys=next_pid"
                    metric: {name: switches_to, help: h, type: gauge, labels: [{key: next_pid, name: pid}]}
            """, file: "t.yml")
        let block = try HistParser.parse(histTable("hist:keys=next_pid:vals=hitcount:sort=hitcount:size=2048", [
            "{ next_pid:         15 } hitcount:         34",
        ])).blocks[0]
        let family = try #require(HistMapping.map(block, with: config.triggerSets[0].triggers[0].metric!).first)
        #expect(family.allMetrics == [Metric(labels: [Label("pid", "15")], value: .gauge(34))])
    }
}

func histTable(_ info: String, _ lines: [String]) -> String {
    "# event histogram\n#\n# trigger info: \(info) [active]\n#\n\n" + lines.map { $0 + "\n" }.joined()
        + "\nTotals:\n    Hits: \(lines.count)\n    Entries: \(lines.count)\n    Dropped: 0\n"
}
