import Testing
@testable import Exposition

/// A family's series written from blocks are the bytes of the same series written as metrics.
struct SeriesBlockTests {
    /// Values that need escaping, a shared first column and a changing last one, so the
    /// encoder's reuse of a row's leading pairs is exercised.
    private func block(prefix: [Label], samples: BlockSamples) -> SeriesBlock {
        SeriesBlock(
            prefix: prefix, names: ["comm", "call_site"],
            values: [["bash", "kworker/0:1", "quote\"back\\slash\nline"], ["kmalloc+0x10", "a", "b"]],
            rows: [0, 1, 0, 2, 1, 0, 2, 0, 2, 2], samples: samples)
    }

    private let histogram = BlockSamples.histograms(
        upperBounds: [1e-06, 2e-06, 4e-06], cumulativeCounts: [1, 2, 3, 0, 0, 7, 5, 5, 5, 1, 1, 1, 0, 1, 1],
        sums: [1.5e-06, 2.8e-05, 0, 3e-06, 1.25e-06], counts: [3, 9, 5, 1, 2])

    private func expectSameBytes(_ family: MetricFamily) {
        var asMetrics = family
        asMetrics.metrics = family.allMetrics
        asMetrics.blocks = []
        for format in [ExpositionFormat.text004, .openMetrics100] {
            let fromBlocks = String(decoding: ExpositionEncoder.encode([family], format: format), as: UTF8.self)
            let fromMetrics = String(decoding: ExpositionEncoder.encode([asMetrics], format: format), as: UTF8.self)
            #expect(fromBlocks == fromMetrics, "\(format)")
            #expect(fromBlocks.contains("quote\\\"back\\\\slash\\nline"), "\(fromBlocks)")
        }
    }

    @Test(arguments: [MetricType.counter, .gauge, .unknown])
    func scalarBlocksWriteAsTheirMetrics(type: MetricType) {
        let samples = BlockSamples.scalars([1, 0, 2.5e+06, -3, 1234567])
        expectSameBytes(MetricFamily(name: "ftrace_x", help: "h", type: type, metrics: [], blocks: [block(prefix: [], samples: samples)]))
        expectSameBytes(MetricFamily(name: "ftrace_x", help: "h", type: type, metrics: [], blocks: [
            block(prefix: [Label("event", "a"), Label("table", "1")], samples: samples),
            block(prefix: [Label("event", "b"), Label("table", "1")], samples: samples),
        ]))
    }

    @Test func histogramBlocksWriteAsTheirMetrics() {
        expectSameBytes(MetricFamily(name: "ftrace_lat_seconds", help: "h", type: .histogram, unit: "seconds", metrics: [],
                                     blocks: [block(prefix: [], samples: histogram)]))
        expectSameBytes(MetricFamily(name: "ftrace_lat_seconds", help: "h", type: .histogram, metrics: [],
                                     blocks: [block(prefix: [Label("cpu", "1")], samples: histogram)]))
        let infinite = BlockSamples.histograms(upperBounds: [1, .infinity], cumulativeCounts: [1, 2], sums: [3], counts: [2])
        expectSameBytes(MetricFamily(name: "ftrace_y", help: "h", type: .histogram, metrics: [], blocks: [
            SeriesBlock(prefix: [], names: ["comm"], values: [["quote\"back\\slash\nline"]], rows: [0], samples: infinite),
        ]))
    }

    /// A block whose samples do not fit the family's type is left out, as a mistyped metric
    /// is; a family with nothing else to write is left out whole.
    @Test func mistypedBlocksAreLeftOut() {
        let family = MetricFamily(name: "ftrace_x", help: "h", type: .histogram, metrics: [],
                                  blocks: [block(prefix: [], samples: .scalars([1, 2, 3, 4, 5]))])
        #expect(ExpositionEncoder.encode([family], format: .text004).isEmpty)
        #expect(family.allMetrics.isEmpty)
    }

    @Test func blocksAreSeparateOnlyWhenTheirPrefixesDiffer() {
        let samples = BlockSamples.scalars([1, 2, 3, 4, 5])
        let a = block(prefix: [Label("event", "a")], samples: samples)
        let b = block(prefix: [Label("event", "b")], samples: samples)
        let unprefixed = block(prefix: [], samples: samples)
        #expect(a.isSeparate(from: b))
        #expect(!a.isSeparate(from: a))
        #expect(!a.isSeparate(from: unprefixed))
        #expect(block(prefix: [Label("cpu", "a")], samples: samples).isSeparate(from: a))
    }
}
