import Exposition
import Testing
@testable import Exporter

/// Families gathered from several tables come out with their series in label order, whether
/// their blocks can be written one after the other or have to be merged.
struct FamilyBuilderTests {
    private func block(_ prefix: [Label], _ comms: [String], _ values: [Double]) -> SeriesBlock {
        SeriesBlock(prefix: prefix, names: ["comm"], values: [comms], rows: comms.indices.map(Int32.init), samples: .scalars(values))
    }

    private func sortedLabels(_ family: MetricFamily) -> Bool {
        let all = family.allMetrics
        return zip(all, all.dropFirst()).allSatisfy { !labelsPrecede($1.labels, $0.labels) }
    }

    @Test func separateBlocksStayBlocksInPrefixOrder() throws {
        var builder = FamilyBuilder()
        builder.add(MetricFamily(name: "f", help: "", type: .counter, metrics: [], blocks: [block([Label("event", "b")], ["x", "y"], [1, 2])]))
        builder.add(MetricFamily(name: "f", help: "", type: .counter, metrics: [], blocks: [block([Label("event", "a")], ["z"], [3])]))
        let family = try #require(builder.build().first)
        #expect(family.metrics.isEmpty)
        #expect(family.blocks.map { $0.prefix[0].value } == ["a", "b"])
        #expect(sortedLabels(family))
    }

    /// Two tables mapped into one family without a label to tell them apart: their series
    /// interleave, so they are merged as metrics.
    @Test func interleavingBlocksAreMerged() throws {
        var builder = FamilyBuilder()
        builder.add(MetricFamily(name: "f", help: "", type: .counter, metrics: [], blocks: [block([], ["a", "c"], [1, 2])]))
        builder.add(MetricFamily(name: "f", help: "", type: .counter, metrics: [], blocks: [block([], ["b", "d"], [3, 4])]))
        let family = try #require(builder.build().first)
        #expect(family.blocks.isEmpty)
        #expect(family.metrics.map { $0.labels[0].value } == ["a", "b", "c", "d"])
        #expect(family.metrics.map(\.value) == [.counter(1), .counter(3), .counter(2), .counter(4)])
    }

    @Test func metricsAmongBlocksAreMerged() throws {
        var builder = FamilyBuilder()
        builder.add(MetricFamily(name: "f", help: "", type: .counter, metrics: [], blocks: [block([Label("event", "b")], ["x"], [1])]))
        builder.add("f", help: "", type: .counter, labels: [Label("event", "a")], value: .counter(5))
        let family = try #require(builder.build().first)
        #expect(family.blocks.isEmpty)
        #expect(family.metrics.map { $0.labels[0].value } == ["a", "b"])
        #expect(sortedLabels(family))
    }
}
