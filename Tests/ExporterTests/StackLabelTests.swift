import Exporter
import Exposition
import Testing

/// Discovered stack tables: summed over their stacks by default, a series per stack with
/// `discovery.stack_labels: true`.
@Suite struct StackLabelTests {
    static func hits(_ tree: String, stackLabels: Bool) throws -> [Metric] {
        var config = try DefaultConfig.load()
        config.discovery.stackLabels = stackLabels
        let fs = Fixtures.tree(tree)
        let collector = HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 })
        return collector.collect().first { $0.name == "ftrace_hist_hits" }?.allMetrics ?? []
    }

    static func total(_ metrics: [Metric]) -> Double {
        metrics.reduce(0) { acc, m in if case .counter(let v) = m.value { return acc + v }; return acc }
    }

    @Test func theSwitchIsReadFromTheDiscoverySection() throws {
        #expect(try ConfigLoader.load(yaml: "discovery:\n  stack_labels: true\n", file: "c.yml").discovery.stackLabels)
        #expect(try !ConfigLoader.load(yaml: "discovery:\n  enabled: true\n", file: "c.yml").discovery.stackLabels)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "discovery:\n  stack_labels: sometimes\n", file: "c.yml") }
    }

    /// `keys=prev_prio,stacktrace`: one series per priority, holding every stack's hits.
    @Test func byDefaultAStackTableIsSummedOverItsStacks() throws {
        let summed = try Self.hits("47-sched-switch-key-then-stacktrace", stackLabels: false)
        let labelled = try Self.hits("47-sched-switch-key-then-stacktrace", stackLabels: true)
        #expect(summed.allSatisfy { !$0.labels.contains { $0.name == "stack" } })
        #expect(labelled.allSatisfy { $0.labels.contains { $0.name == "stack" } })
        #expect(labelled.count > summed.count)
        #expect(Self.total(summed) == Self.total(labelled))
        let sets = summed.map { $0.labels.map { "\($0.name)=\($0.value)" }.joined(separator: ",") }
        #expect(Set(sets).count == sets.count, "no duplicate series")
        #expect(Set(summed.compactMap { $0.labels.first { $0.name == "prev_prio" }?.value }).count == summed.count)
    }

    @Test func aTableKeyedOnlyByItsStackIsOneSeries() throws {
        let summed = try Self.hits("34-sched-switch-stacktrace", stackLabels: false)
        #expect(summed.count == 1)
        #expect(Self.total(summed) == Self.total(try Self.hits("34-sched-switch-stacktrace", stackLabels: true)))
    }
}
