import Exporter
import Foundation
import Testing

@Suite struct ConfigTests {
    @Test func builtInConfigurationLoads() throws {
        let config = try DefaultConfig.load()
        #expect(config.instance == "ftrace_exporter")
        #expect(config.refreshInterval.value == 5)
        #expect(config.discovery.enabled)
        let set = try #require(config.triggerSet(named: "wakeup_latency"))
        #expect(set.installOnStart)
        #expect(set.triggers.map(\.event.description) == ["sched/sched_waking", "sched/sched_switch", "synthetic/ftrace_exporter_wakeup_lat"])
        let metric = try #require(set.triggers[2].metric)
        #expect(metric.name == "ftrace_wakeup_latency_seconds")
        #expect(metric.kind == .histogram)
        #expect(metric.sumValue == "lat")
    }

    @Test func everyExampleConfigLoads() throws {
        let dir = Fixtures.packageRoot.appendingPathComponent("deploy")
        let examples = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".yml") && $0.contains("config") }
        for name in examples { _ = try ConfigSource.load(path: dir.appendingPathComponent(name).path) }
        _ = try Fixtures.config("corpus-mappings.yml")
    }

    @Test func durations() throws {
        for (text, seconds) in [("0", 0.0), ("250ms", 0.25), ("5s", 5), ("1m30s", 90), ("2h", 7200)] {
            let config = try ConfigLoader.load(yaml: "refresh_interval: \(text)\n", file: "c.yml")
            #expect(config.refreshInterval.value == seconds)
        }
    }

    @Test func durationsPastWhatPrometheusAcceptsAreRefused() throws {
        // Prometheus durations are int64 nanoseconds; longer ones overflowed the conversions to
        // nanoseconds and whole seconds the exporter makes when it refreshes and reports.
        for field in ["refresh_interval: ", "discovery:\n  rescan_interval: "] {
            for text in ["293y", "1000y", "106752d", "9223372037s", "99999999999999999999ms",
                         String(repeating: "9", count: 400) + "y"] {
                #expect(throws: ConfigError.self, "\(field)\(text)") { try ConfigLoader.load(yaml: field + text + "\n", file: "c.yml") }
            }
        }
        let longest = try ConfigLoader.load(yaml: "refresh_interval: 292y\ndiscovery:\n  rescan_interval: 106751d\n", file: "c.yml")
        #expect(longest.refreshInterval.value == 292 * 31_536_000)
        #expect(longest.refreshInterval.description == "9208512000s")
        let fs = Fixtures.tree("empty-hist")
        let collector = HistCollector(config: longest, reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 })
        #expect(!collector.collect().isEmpty)
        #expect(parseDurationFlag("293y") == nil)
    }

    @Test func aBucketBoundPastEveryKernelValueIsRefused() {
        let yaml = """
            trigger_sets:
              - name: sizes
                triggers:
                  - event: kmem/kmalloc
                    command: "hist:keys=bytes_req.buckets=10:vals=hitcount,bytes_req"
                    metric: {name: kmalloc_bytes, help: h, type: histogram, bucket_key: bytes_req, sum_value: bytes_req, buckets: [9, BOUND]}

            """
        for bound in ["1e20", "18446744073709551615", "1e300"] {
            #expect(throws: ConfigError.self, "\(bound)") {
                try ConfigLoader.load(yaml: yaml.replacingOccurrences(of: "BOUND", with: bound), file: "c.yml")
            }
        }
        #expect(throws: Never.self) { try ConfigLoader.load(yaml: yaml.replacingOccurrences(of: "BOUND", with: "999999999999999"), file: "c.yml") }
    }

    static let wakeupSet = """
        trigger_sets:
          - name: lat
            triggers:
              - event: synthetic/lat
                command: "hist:keys=cpu,lat.log2:vals=hitcount,lat"
                metric:
                  name: lat_seconds
                  help: Latency.
                  type: histogram
                  bucket_key: lat
                  sum_value: lat
                  scale: 0.000001
        """

    @Test func aValidSetLoads() throws {
        let config = try ConfigLoader.load(yaml: Self.wakeupSet, file: "c.yml")
        #expect(config.triggerSets.count == 1)
    }

    /// (YAML, line, field, part of the message)
    static let invalid: [(String, Int?, String, String)] = [
        ("tracefs:\n  pth: /x\n", 2, "tracefs.pth", "unknown field"),
        ("refresh_interval: soon\n", 1, "refresh_interval", "not a duration"),
        ("discovery:\n  enabled: maybe\n", 2, "discovery.enabled", "expected true or false"),
        ("discovery:\n  series_limit: 0\n", 2, "discovery.series_limit", "at least 1"),
        ("tracefs:\n  instance: ../etc\n", 2, "tracefs.instance", "letters, digits"),
        ("trigger_sets:\n  - name: a b\n    triggers: []\n", 2, "trigger_sets[0].name", "letters, digits"),
        ("trigger_sets:\n  - name: a\n    triggers: []\n", 3, "trigger_sets[0].triggers", "at least one trigger"),
        ("trigger_sets:\n  - name: a\n    triggers:\n      - event: sched\n        command: hist:keys=pid\n", 4,
         "trigger_sets[0].triggers[0].event", "system/event"),
        ("trigger_sets:\n  - name: a\n    triggers:\n      - event: sched/x\n        command: \"hist:vals=pid\"\n", 5,
         "trigger_sets[0].triggers[0].command", "no keys"),
        ("trigger_sets:\n  - name: a\n    triggers:\n      - event: sched/x\n        command: \"hist:keys=pid:clear\"\n", 5,
         "trigger_sets[0].triggers[0].command", "admin API"),
        ("trigger_sets:\n  - name: a\n    triggers:\n      - event: sched/x\n        command: \"!hist:keys=pid\"\n", 5,
         "trigger_sets[0].triggers[0].command", "removal is derived"),
        ("trigger_sets:\n  - name: a\n    triggers:\n      - {event: s/x, command: \"hist:keys=a\"}\n  - name: a\n    triggers:\n      - {event: s/y, command: \"hist:keys=a\"}\n",
         5, "trigger_sets[1].name", "defined twice"),
        (wakeupSet.replacingOccurrences(of: "          sum_value: lat\n", with: ""), 10,
         "trigger_sets[0].triggers[0].metric.bucket_key", "vals=hitcount,lat"),
        (wakeupSet.replacingOccurrences(of: "bucket_key: lat", with: "bucket_key: latency"), 10,
         "trigger_sets[0].triggers[0].metric.bucket_key", "not a key of this trigger"),
        (wakeupSet.replacingOccurrences(of: "type: histogram", with: "type: summary"), 9,
         "trigger_sets[0].triggers[0].metric.type", "histogram, counter or gauge"),
        (wakeupSet.replacingOccurrences(of: "name: lat_seconds", with: "name: 9lat"), 7,
         "trigger_sets[0].triggers[0].metric.name", "not a valid Prometheus metric name"),
        (wakeupSet.replacingOccurrences(of: "scale: 0.000001", with: "scale: 0.000001\n          buckets: [0.000003]"), 13,
         "trigger_sets[0].triggers[0].metric.buckets[0]", "power of two"),
        (wakeupSet.replacingOccurrences(of: "scale: 0.000001", with: "scale: -1"), 12,
         "trigger_sets[0].triggers[0].metric.scale", "greater than 0"),
        (wakeupSet.replacingOccurrences(of: "scale: 0.000001", with: "scale: 1\n          labels: [{key: cpu, name: le}]"), 13,
         "trigger_sets[0].triggers[0].metric.labels[0].name", "reserved"),
        (wakeupSet.replacingOccurrences(of: "sum_value: lat", with: "sum_value: hitcount"), 11,
         "trigger_sets[0].triggers[0].metric.sum_value", "not a plain value column"),
        ("trigger_sets:\n  - name: a\n    triggers:\n      - event: kmem/kmalloc\n        command: \"hist:keys=call_site.sym\"\n        metric: {name: x_total, help: h, type: counter}\n",
         6, "trigger_sets[0].triggers[0].metric.name", "'_total' appended"),
        ("trigger_sets: [\n", nil, "", "YAML syntax"),
    ]

    @Test(arguments: invalid.indices)
    func invalidFieldsAreNamed(_ index: Int) {
        let (yaml, line, field, message) = Self.invalid[index]
        do {
            _ = try ConfigLoader.load(yaml: yaml, file: "bad.yml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.file == "bad.yml")
            if let line { #expect(error.line == line, "\(error)") } else { #expect(error.line != nil) }
            #expect(error.field == field, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("bad.yml:"))
        }
    }

    @Test func aSyntaxErrorAtTheEndOfTheTextIsPlacedOnItsLastLine() {
        // libyaml ends a last line without a newline for it, so its mark lies on a line the file
        // does not have.
        let yaml = "refresh_interval: 5s\ntrigger_sets:\n  - name: a\n    instal"
        #expect(throws: ConfigError(file: "c.yml", line: 4, column: 11, field: "", message: "YAML syntax: could not find expected ':'")) {
            try ConfigLoader.load(yaml: yaml, file: "c.yml")
        }
        #expect(throws: ConfigError(file: "c.yml", line: 4, column: 11, field: "", message: "YAML syntax: could not find expected ':'")) {
            try ConfigLoader.load(yaml: yaml.replacingOccurrences(of: "\n", with: "\r"), file: "c.yml")
        }
        #expect(throws: ConfigError(file: "c.yml", line: 4, column: 11, field: "", message: "YAML syntax: could not find expected ':'")) {
            try ConfigLoader.load(yaml: yaml.replacingOccurrences(of: "\n", with: "\r\n"), file: "c.yml")
        }
        #expect(throws: ConfigError(file: "web.yml", line: 3, column: 6, field: "", message: "YAML syntax: could not find expected ':'")) {
            try WebConfigLoader.load(yaml: "rate_limit:\n  interval: 1s\n  bur", file: "web.yml")
        }
    }

    @Test func missingFileIsAClearError() {
        do {
            _ = try ConfigSource.load(path: "/nonexistent/ftrace_exporter.yml")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.contains("/nonexistent/ftrace_exporter.yml"))
            #expect(error.description.contains("ENOENT"))
        }
    }
}
