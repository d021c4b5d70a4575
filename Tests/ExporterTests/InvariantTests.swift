import Exporter
import Exposition
import Foundation
import HistFormat
import Logging
import Testing
import TraceFS

/// What must hold for every captured table, whatever the mapping code does.
@Suite struct InvariantTests {
    static let corpusTrees = Fixtures.treeNames().filter { $0.first?.isNumber == true }

    /// The printed entries of these two captures sum to 2 fewer hits than their Totals,
    /// because Hits is read after the entries on a busy system (hist-format.md §2.1).
    static let capturedWhileBusy: Set<String> = ["46-sched-switch-stacktrace-not-last-key", "47-sched-switch-key-then-stacktrace"]

    static func discoveryWithPids() throws -> ExporterConfig {
        var config = try DefaultConfig.load()
        config.discovery.pidLabels = true
        return config
    }

    /// Parses the tree's hist files directly, as ground truth.
    static func tables(_ tree: String) throws -> [String: HistBlock] {
        let fs = Fixtures.tree(tree)
        var tables: [String: HistBlock] = [:]
        for instance in [TraceInstance.topLevel] + fs.instances() {
            for event in try fs.events(in: instance) {
                let bytes = try fs.readHist(event, in: instance)
                for block in try HistParser.parse(bytes).blocks {
                    tables["\(instance.label)|\(event)|\(block.triggerInfo.text)"] = block
                }
            }
        }
        return tables
    }

    /// Every tree paired with a configuration that maps some of its tables: the built-in
    /// configuration's captures, and the corpus trees the golden tests pair with a file.
    static let configuredCases: [String] = GoldenTests.cases
        .filter { tree, config in config != nil || tree.hasPrefix("default-config") }
        .map { $0.0 + "|" + ($0.1 ?? "") }

    static func configuredCase(_ pair: String) throws -> (tree: String, config: ExporterConfig) {
        let parts = pair.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return (parts[0], try parts[1].isEmpty ? DefaultConfig.load() : Fixtures.config(parts[1]))
    }

    /// The exposition's samples by series (`name{labels}`), as encoded.
    static func samples(_ exposition: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test func everyConfiguredTreeIsChecked() {
        #expect(Self.configuredCases.contains("default-config|"))
        #expect(Self.configuredCases.contains("default-config-6.12|"))
        #expect(Self.configuredCases.contains { $0.hasSuffix("|corpus-mappings.yml") })
    }

    /// For every mapped table: histogram buckets are cumulative, `+Inf` equals `_count`, and
    /// the counts (and hitcount counters) add up to the table's `Totals: Hits`.
    @Test(arguments: configuredCases)
    func mappedTablesAgreeWithTheKernelTotals(_ pair: String) throws {
        let (tree, config) = try Self.configuredCase(pair)
        let fs = Fixtures.tree(tree)
        let collector = HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 })
        let families = collector.collect()
        let samples = Self.samples(Fixtures.exposition(tree: tree, config: config))
        var mappedTables = 0
        for set in config.triggerSets {
            for trigger in set.triggers {
                guard let mapping = trigger.metric, let bytes = try? fs.readHist(trigger.event, in: config.traceInstance),
                      let block = try HistParser.parse(bytes).blocks.first(where: { $0.triggerInfo.identity == trigger.info.identity })
                else { continue }
                mappedTables += 1
                let place = "\(tree) \(trigger.event) \(mapping.name)"
                // A series limit leaves hits out on purpose; none of these tables reaches it.
                #expect(HistMapping.mapCounting(block, with: mapping).seriesOverLimit == 0, "\(place)")
                let hits = Double(block.totals.hits)
                switch mapping.kind {
                case .histogram:
                    let metrics = try #require(families.first { $0.name == mapping.name }, "\(place)").allMetrics
                    #expect(!metrics.isEmpty || block.entries.isEmpty, "\(place)")
                    var total = 0.0
                    for metric in metrics {
                        guard case .histogram(let buckets, _, let count) = metric.value else {
                            Issue.record("\(place): not a histogram")
                            continue
                        }
                        total += count
                        for (lower, upper) in zip(buckets, buckets.dropFirst()) {
                            #expect(lower.upperBound < upper.upperBound, "\(place): le in order")
                            #expect(lower.cumulativeCount <= upper.cumulativeCount, "\(place): cumulative")
                        }
                        #expect((buckets.last?.cumulativeCount ?? 0) <= count, "\(place): no bucket above _count")
                        let labels = metric.labels.map { "\($0.name)=\"\($0.value)\"" }
                        let inf = "\(mapping.name)_bucket{" + (labels + ["le=\"+Inf\""]).joined(separator: ",") + "}"
                        let countName = "\(mapping.name)_count" + (labels.isEmpty ? "" : "{" + labels.joined(separator: ",") + "}")
                        #expect(samples[inf] != nil && samples[inf] == samples[countName], "\(place): +Inf bucket == _count for \(labels)")
                        #expect(samples[countName] == count, "\(place): \(countName)")
                    }
                    #expect(total == hits, "\(place): _count over all series == Totals: Hits")
                case .counter:
                    for value in mapping.values where value.column == "hitcount" {
                        let metrics = try #require(families.first { $0.name == value.familyName }, "\(place)").allMetrics
                        let total = metrics.reduce(0.0) { acc, m in if case .counter(let v) = m.value { return acc + v }; return acc }
                        #expect(total == hits, "\(place): \(value.familyName)_total over all series == Totals: Hits")
                    }
                case .gauge:
                    break
                }
            }
        }
        #expect(mappedTables > 0, "\(pair): no mapped table in the tree")
    }

    @Test(arguments: corpusTrees)
    func hitsAndSeriesMatchTheKernelTotals(_ tree: String) throws {
        let fs = Fixtures.tree(tree)
        let collector = HistCollector(config: try Self.discoveryWithPids(), reader: fs, logger: Fixtures.quietLogger,
                                      features: fs.features(), clock: { 0 })
        let families = collector.collect()
        let hits = families.first { $0.name == "ftrace_hist_hits" }?.allMetrics ?? []
        let info = families.first { $0.name == "ftrace_hist" }?.allMetrics ?? []
        let truth = try Self.tables(tree)
        #expect(info.count == truth.count, "one info series per table")
        for infoMetric in info {
            let labels = Dictionary(uniqueKeysWithValues: infoMetric.labels.map { ($0.name, $0.value) })
            let key = "\(labels["tracefs_instance"]!)|\(labels["system"]!)/\(labels["event"]!)|\(labels["trigger"]!)"
            let block = try #require(truth[key], "table \(key)")
            let series = hits.filter { m in m.labels.contains(Label("table", labels["table"]!))
                && m.labels.contains(Label("tracefs_instance", labels["tracefs_instance"]!))
                && m.labels.contains(Label("event", labels["event"]!)) }
            let sum = series.reduce(0.0) { acc, m in if case .counter(let v) = m.value { return acc + v }; return acc }
            if Self.capturedWhileBusy.contains(tree) {
                #expect(sum <= Double(block.totals.hits))
            } else {
                #expect(sum == Double(block.totals.hits), "\(tree) \(key): exported hits")
            }
            let merges = block.triggerInfo.keys.contains {
                [.stacktrace, .fieldStacktrace, .symbol].contains($0.keyKind)
            }
            if merges {
                // Labels name functions: call sites in the same function, and stacks through
                // the same functions at other offsets, are one series.
                #expect(series.count <= Int(block.totals.entries))
            } else {
                #expect(series.count == Int(block.totals.entries), "\(tree) \(key): one series per entry")
            }
        }
    }

    /// The discovery-wide `series_limit`: past it, series are left out, every one of them
    /// counted in its table's `ftrace_hist_series_over_limit`, and a warning is logged once,
    /// not at every refresh.
    @Test func theDiscoverySeriesLimitCountsWhatItLeavesOutAndWarnsOnce() throws {
        let tree = "44-sched-switch-four-hist-blocks-named-paused-filter"
        let entries = try Self.tables(tree).values.reduce(0) { $0 + Int($1.totals.entries) }
        let fs = Fixtures.tree(tree)
        for limit in [1, 20, entries - 1, entries, entries + 1] {
            var config = try Self.discoveryWithPids()
            config.discovery.seriesLimit = limit
            let log = LogLines()
            let collector = HistCollector(config: config, reader: fs, logger: log.logger, features: fs.features(), clock: { 0 })
            for _ in 0..<3 {
                let families = collector.collect()
                let series = families.first { $0.name == "ftrace_hist_hits" }?.allMetrics.count ?? 0
                let over = (families.first { $0.name == "ftrace_hist_series_over_limit" }?.allMetrics ?? []).reduce(0.0) { acc, m in
                    if case .gauge(let v) = m.value { return acc + v }
                    return acc
                }
                #expect(series == min(limit, entries), "limit \(limit)")
                #expect(series + Int(over) == entries, "limit \(limit): every entry exported or counted")
            }
            let warnings = log.lines.filter { $0.contains("level=warn ") && $0.contains("discovery series limit reached") }
            #expect(warnings.count == (limit < entries ? 1 : 0), "limit \(limit): \(log.lines)")
            if limit < entries {
                #expect(warnings.first?.contains("series_limit=\(limit)") == true, "\(warnings)")
                #expect(warnings.first?.contains("left_out=\(entries - limit)") == true, "\(warnings)")
            }
        }
    }
}

/// Log lines kept in memory, as the exporter writes them (logfmt).
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []

    var lines: [String] { lock.withLock { kept } }

    var logger: Logger {
        var logger = Logger(label: "test") { label in
            StructuredLogHandler(label: label, level: .debug, format: .logfmt) { [self] line in lock.withLock { kept.append(line) } }
        }
        logger.logLevel = .debug
        return logger
    }
}
