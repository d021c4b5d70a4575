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

    /// Every configuration the repository shows a user: the deploy files, the one inside the
    /// Kubernetes ConfigMap, the README's example, and the test fixtures.
    static func exampleConfigs() throws -> [(name: String, yaml: String)] {
        let root = Fixtures.packageRoot
        var examples: [(String, String)] = []
        let systemd = root.appendingPathComponent("deploy/systemd")
        for name in try FileManager.default.contentsOfDirectory(atPath: systemd.path).sorted() where name.hasSuffix(".yml") {
            examples.append(("deploy/systemd/\(name)", try String(contentsOf: systemd.appendingPathComponent(name), encoding: .utf8)))
        }
        let configMap = try String(contentsOf: root.appendingPathComponent("deploy/kubernetes/configmap.yaml"), encoding: .utf8)
        examples.append(("deploy/kubernetes/configmap.yaml", try #require(literalBlock(of: "ftrace_exporter.yml", in: configMap))))
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        for block in fencedBlocks("yaml", in: readme) where block.contains("\ntrigger_sets:") || block.hasPrefix("trigger_sets:") {
            examples.append(("README.md", block))
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.configs.path).sorted() where name.hasSuffix(".yml") {
            examples.append(("Tests/Fixtures/configs/\(name)", try String(contentsOf: Fixtures.configs.appendingPathComponent(name), encoding: .utf8)))
        }
        return examples
    }

    /// The text of a `key: |` block scalar, without its indentation.
    static func literalBlock(of key: String, in yaml: String) -> String? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "\(key): |" }) else { return nil }
        let keyIndent = lines[start].prefix { $0 == " " }.count
        func isBlank(_ line: Substring) -> Bool { line.allSatisfy { $0 == " " } }
        // The block ends at the first line with text indented no deeper than its key.
        let body = lines[(start + 1)...].prefix { isBlank($0) || $0.prefix { $0 == " " }.count > keyIndent }
        guard let indent = body.first(where: { !isBlank($0) })?.prefix(while: { $0 == " " }).count else { return nil }
        return body.map { String($0.dropFirst(min(indent, $0.count))) }.joined(separator: "\n")
    }

    /// The bodies of the fenced code blocks of `language` in a markdown text.
    static func fencedBlocks(_ language: String, in markdown: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if let body = current {
                if line.hasPrefix("```") {
                    blocks.append(body.joined(separator: "\n") + "\n")
                    current = nil
                } else {
                    current!.append(line)
                }
            } else if line == "```" + language {
                current = []
            }
        }
        return blocks
    }

    @Test func everyExampleConfigLoads() throws {
        let examples = try Self.exampleConfigs()
        for place in ["deploy/systemd/", "deploy/kubernetes/", "README.md", "Tests/Fixtures/configs/"] {
            #expect(examples.contains { $0.name.hasPrefix(place) }, "no example configuration found in \(place)")
        }
        for example in examples {
            #expect(throws: Never.self, "\(example.name)") { try ConfigLoader.load(yaml: example.yaml, file: example.name) }
        }
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
        #expect(longest.refreshInterval.description == "106580d")
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

    /// The same trigger text on two events is two triggers to the kernel.
    @Test func theSameTriggerOnTwoEventsLoads() throws {
        let yaml = "trigger_sets:\n  - name: a\n    triggers:\n      - {event: s/x, command: \"hist:keys=a\"}\n  - name: b\n    triggers:\n      - {event: s/y, command: \"hist:keys=a\"}\n"
        #expect(try ConfigLoader.load(yaml: yaml, file: "c.yml").triggerSets.count == 2)
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
        // The kernel tells triggers apart without their size: the second set would remove the first's.
        ("trigger_sets:\n  - name: a\n    triggers:\n      - {event: s/x, command: \"hist:keys=a\"}\n  - name: b\n    triggers:\n      - {event: s/x, command: \"hist:keys=a:size=4096\"}\n",
         7, "trigger_sets[1].triggers[0]", "also in trigger set 'a'"),
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
        // The _sum must be the bucket key's own field.
        (wakeupSet.replacingOccurrences(of: "vals=hitcount,lat", with: "vals=hitcount,lat,delay")
            .replacingOccurrences(of: "sum_value: lat", with: "sum_value: delay"), 11,
         "trigger_sets[0].triggers[0].metric.sum_value", "sums another field than the bucket key 'lat'"),
        // Buckets count hits: a nohitcount table has none.
        (wakeupSet.replacingOccurrences(of: "vals=hitcount,lat", with: "vals=lat:nohitcount"), 9,
         "trigger_sets[0].triggers[0].metric.type", "remove :nohitcount"),
        // Synthetic event definitions, against the kernel's grammar and our prefix.
        (synthetic("bad event def((("), 4, "trigger_sets[0].synthetic_events[0]", "'def(((' is not a field name"),
        (synthetic("9x u64 lat"), 4, "trigger_sets[0].synthetic_events[0]", "not a valid event name"),
        (synthetic("ftrace_exporter_x def((("), 4, "trigger_sets[0].synthetic_events[0]", "is not a field"),
        (synthetic("ftrace_exporter_x"), 4, "trigger_sets[0].synthetic_events[0]", "<name> <type> <field>"),
        (synthetic("ftrace_exporter_x u64"), 4, "trigger_sets[0].synthetic_events[0]", "is not a field"),
        (synthetic("ftrace_exporter_x u64 lat pid_t pid"), 4, "trigger_sets[0].synthetic_events[0]", "separated by ';'"),
        (synthetic("ftrace_exporter_x u64 9lat"), 4, "trigger_sets[0].synthetic_events[0]", "not a field name"),
        (synthetic("ftrace_exporter_x u64 lat; u32 lat"), 4, "trigger_sets[0].synthetic_events[0]", "defined twice"),
        (synthetic("ftrace_exporter_x unsigned int v[8]; char s[]"), 4, "trigger_sets[0].synthetic_events[0]", "cannot be an array"),
        (synthetic("ftrace_exporter_x char[16] comm[16]"), 4, "trigger_sets[0].synthetic_events[0]", "array size twice"),
        (synthetic("ftrace_exporter_x char comm[16"), 4, "trigger_sets[0].synthetic_events[0]", "not a field name"),
        (synthetic("wakeup_lat u64 lat"), 4, "trigger_sets[0].synthetic_events[0]", "rename 'wakeup_lat' to 'ftrace_exporter_wakeup_lat'"),
        (synthetic("ftrace_exporter_x u64 lat # note"), 4, "trigger_sets[0].synthetic_events[0]", "comment"),
        (synthetic("!ftrace_exporter_x"), 4, "trigger_sets[0].synthetic_events[0]", "removal"),
        (synthetic("ftrace_exporter_x u64 lat", "ftrace_exporter_x u32 lat"), 5, "trigger_sets[0].synthetic_events[1]", "defined twice"),
        // What the kernel refuses in a trigger (hist-format.md §2.3, §2.6, §4).
        (command("hist:keys=a,b,c,d"), 5, "trigger_sets[0].triggers[0].command", "at most 3"),
        (command("hist:keys=prev_prio,next_pid,next_prio,stacktrace"), 5, "trigger_sets[0].triggers[0].command", "a stacktrace key counts"),
        (command("hist:keys=a:vals=hitcount,b,c,d"), 5, "trigger_sets[0].triggers[0].command", "at most 2"),
        (command("hist:keys=a:vals=b,c:sort=a,b,c"), 5, "trigger_sets[0].triggers[0].command", "Too many sort fields"),
        (command("hist:keys=a:sort=zz"), 5, "trigger_sets[0].triggers[0].command", "neither a key nor a value"),
        (command("hist:keys=pid:ts0=common_timestamp.usecs:sort=ts0"), 5, "trigger_sets[0].triggers[0].command", "neither a key nor a value"),
        (command("hist:keys=lat.log2:sort=lat.log2"), 5, "trigger_sets[0].triggers[0].command", "Invalid sort modifier"),
        (command("hist:keys=cpu,,"), 5, "trigger_sets[0].triggers[0].command", "keys= has an empty field"),
        (command("hist:keys=cpu:vals=hitcount,,lat"), 5, "trigger_sets[0].triggers[0].command", "vals= has an empty field"),
        (command("hist:keys=cpu if cpu =="), 5, "trigger_sets[0].triggers[0].command", "the filter 'if cpu ==' is not of the form"),
        (command("hist:keys=cpu if (prio < 100"), 5, "trigger_sets[0].triggers[0].command", "the filter"),
        (command("hist:keys=cpu if prio < 100 &&"), 5, "trigger_sets[0].triggers[0].command", "the filter"),
        (command("hist:keys=pid:size=1000000"), 5, "trigger_sets[0].triggers[0].command", "size=1000000: the kernel takes 65 to 131072"),
        (command("hist:keys=pid:size=131073"), 5, "trigger_sets[0].triggers[0].command", "refuses anything else with EINVAL"),
        (command("hist:keys=pid:size=64"), 5, "trigger_sets[0].triggers[0].command", "the kernel takes 65 to 131072"),
        // Rotation settings.
        ("rotation:\n  high_water_mark: 0\n", 2, "rotation.high_water_mark", "above 0 and at most 1"),
        ("rotation:\n  high_water_mark: 1.5\n", 2, "rotation.high_water_mark", "above 0 and at most 1"),
        ("rotation:\n  high_water_mark: half\n", 2, "rotation.high_water_mark", "not a fraction"),
        ("rotation:\n  check_interval: 10ms\n", 2, "rotation.check_interval", "100ms or more"),
        ("rotation:\n  enabled: sometimes\n", 2, "rotation.enabled", "true or false"),
        ("trigger_sets:\n  - name: a\n    triggers:\n      - event: s/x\n        command: \"hist:keys=a\"\n        metric:\n          name: m\n          help: h\n          type: counter\n          labels:\n            - {key: a, name: instance}\n",
         11, "trigger_sets[0].triggers[0].metric.labels[0].name", "Prometheus sets"),
        ("trigger_sets:\n  - name: a\n    triggers:\n      - event: s/x\n        command: \"hist:keys=a\"\n        metric:\n          name: m\n          help: h\n          type: counter\n          labels:\n            - {key: a, name: job}\n",
         11, "trigger_sets[0].triggers[0].metric.labels[0].name", "Prometheus sets"),
        // A family defined twice is placed at the second definition.
        ("trigger_sets:\n  - name: a\n    triggers:\n      - event: s/x\n        command: \"hist:keys=a\"\n        metric: {name: m, help: h, type: counter}\n      - event: s/y\n        command: \"hist:keys=a\"\n        metric: {name: m, help: h, type: counter}\n",
         9, "trigger_sets[0].triggers[1].metric.name", "also produced by trigger_sets[0].triggers[0].metric.name"),
        ("trigger_sets:\n  - name: a\n    triggers:\n      - {event: s/x, command: \"hist:keys=a\", metric: {name: x_calls, help: h, type: counter}}\n  - name: b\n    triggers:\n      - event: s/y\n        command: \"hist:keys=b\"\n        metric:\n          name: x\n          help: h\n          type: counter\n          values: [hitcount, {column: hitcount, suffix: calls}]\n",
         13, "trigger_sets[1].triggers[0].metric.values[1]", "also produced by trigger_sets[0].triggers[0].metric.name"),
    ]

    static func synthetic(_ definitions: String...) -> String {
        "trigger_sets:\n  - name: a\n    synthetic_events:\n" + definitions.map { "      - \"\($0)\"\n" }.joined()
            + "    triggers:\n      - {event: sched/sched_switch, command: \"hist:keys=next_pid\"}\n"
    }

    static func command(_ command: String) -> String {
        "trigger_sets:\n  - name: a\n    triggers:\n      - event: sched/sched_switch\n        command: \"\(command)\"\n"
    }

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

    @Test func whatTheKernelAcceptsLoads() throws {
        let definitions = [
            "ftrace_exporter_a u64 lat; pid_t pid; int prio; char comm[16]",
            "ftrace_exporter_b char[16] comm; char name[]; long[] stack; unsigned long[] s2; unsigned int x; gfp_t g; bool b",
            "ftrace_exporter_c u64 lat;",
            "ftrace_exporter_d\ts64 delta ;  u8 flag",
        ]
        let config = try ConfigLoader.load(yaml: Self.synthetic(definitions[0], definitions[1], definitions[2], definitions[3]), file: "c.yml")
        #expect(config.triggerSets[0].syntheticEvents.map(\.name) == ["ftrace_exporter_a", "ftrace_exporter_b", "ftrace_exporter_c", "ftrace_exporter_d"])
        #expect(config.triggerSets[0].syntheticEvents.map(\.text) == definitions)
        for command in [
            "hist:keys=prev_prio,stacktrace,next_pid", "hist:keys=a:vals=hitcount,b,c", "hist:keys=a:vals=b,c",
            "hist:keys=a,b:vals=c:sort=b,c.descending", "hist:keys=a:sort=hitcount.descending,a.ascending",
            "hist:keys=cpu:sort=common_cpu", "hist:keys=lat.log2:vals=hitcount,lat:sort=lat",
            "hist:keys=common_pid.execname:sort=common_pid", "hist:keys=bytes_alloc-bytes_req:sort=bytes_alloc-bytes_req",
            "hist:keys=pid:vals=hitcount,common_timestamp.usecs:sort=common_timestamp",
            "hist:keys=pid:size=65", "hist:keys=pid:size=131072", "hist:keys=pid:size=100",
            "hist:keys=pid if prio < 100", "hist:keys=next_pid if !(next_prio >= 100) && next_comm ~ 'kworker*'",
            "hist:keys=id if ret < -1 || ret == 0", "hist:keys=cpu if prev_state & 2",
        ] {
            #expect(throws: Never.self, "\(command)") { try ConfigLoader.load(yaml: Self.command(command), file: "c.yml") }
        }
    }

    @Test func rotationSettingsLoad() throws {
        let defaults = try ConfigLoader.load(yaml: "{}", file: "r.yml").rotation
        #expect(defaults == RotationConfig())
        #expect(defaults.enabled && defaults.highWaterMark == 0.5 && defaults.checkInterval == 1)
        let set = try ConfigLoader.load(yaml: "rotation:\n  enabled: false\n  high_water_mark: 0.75\n  check_interval: 250ms\n", file: "r.yml").rotation
        #expect(!set.enabled && set.highWaterMark == 0.75 && set.checkInterval == 0.25)
    }

    @Test func aKeyGivenTwiceIsPlacedWhereItIsRepeated() {
        let cases: [(String, Int, Int, String)] = [
            ("refresh_interval: 5s\nrefresh_interval: 6s\n", 2, 1, "refresh_interval"),
            ("refresh_interval: 5s\ndiscovery:\n  enabled: true\n  # a comment\n\n  enabled: false\n", 6, 3, "enabled"),
            ("trigger_sets:\n  - name: a\n    triggers: []\n    \"name\": b\n", 4, 5, "name"),
            ("discovery: {enabled: true, enabled: false}\n", 1, 13, "enabled"),
        ]
        for (yaml, line, column, key) in cases {
            do {
                _ = try ConfigLoader.load(yaml: yaml, file: "dupkey.yml")
                Issue.record("accepted \(yaml)")
            } catch {
                #expect(error.line == line && error.column == column, "\(error)")
                #expect(error.message.contains("'\(key)' is given twice"), "\(error)")
                #expect(error.description.hasPrefix("dupkey.yml:\(line):\(column): "), "\(error)")
            }
        }
    }

    /// The repetition is found by the parser, not by reading lines: a value over several lines
    /// between the two keys does not hide it.
    @Test func aKeyRepeatedAfterAMultiLineValueIsPlaced() {
        let yaml = "trigger_sets:\n  - name: a\n    triggers: [{event: s/x, command: \"hist:keys\n      =a\"}]\n    triggers: []\n"
        #expect(throws: ConfigError(file: "c.yml", line: 5, column: 5, field: "",
                                    message: "YAML: 'triggers' is given twice in the same mapping (first on line 3); a later value would silently replace the first, so remove one")) {
            try ConfigLoader.load(yaml: yaml, file: "c.yml")
        }
    }

    /// A text with no document (empty, or only comments) is no configuration: an empty file is
    /// more likely a truncated copy than a wish for no trigger sets.
    @Test func aTextWithNoDocumentIsRefused() {
        for yaml in ["", "# nothing here\n"] {
            #expect(throws: ConfigError(file: "c.yml", line: nil, column: nil, field: "",
                                        message: "expected a mapping with keys tracefs, refresh_interval, discovery, lifecycle, rotation, cgroup_mount, trigger_sets")) {
                try ConfigLoader.load(yaml: yaml, file: "c.yml")
            }
        }
    }

    /// libyaml's reader names a control character by its byte offset; the error gives its line
    /// and column like every other.
    @Test func aControlCharacterIsPlaced() {
        #expect(throws: ConfigError(file: "c.yml", line: 2, column: 5, field: "", message: "YAML syntax: control characters are not allowed")) {
            try ConfigLoader.load(yaml: "refresh_interval: 5s\ndisc\u{7}overy: {}\n", file: "c.yml")
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
