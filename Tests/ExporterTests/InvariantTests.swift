import Exporter
import Exposition
import Foundation
import HistFormat
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

    @Test(arguments: corpusTrees)
    func hitsAndSeriesMatchTheKernelTotals(_ tree: String) throws {
        let fs = Fixtures.tree(tree)
        let collector = HistCollector(config: try Self.discoveryWithPids(), reader: fs, logger: Fixtures.quietLogger,
                                      features: fs.features(), clock: { 0 })
        let families = collector.collect()
        let hits = families.first { $0.name == "ftrace_hist_hits" }?.metrics ?? []
        let info = families.first { $0.name == "ftrace_hist" }?.metrics ?? []
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
}
