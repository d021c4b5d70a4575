/// Series of one family held as columns, as a table's mapping makes them: each label's
/// distinct values once, and each series a row of value ids. A table of thousands of entries
/// repeats a few hundred label values; kept this way, the mapping builds no label array per
/// series and the encoder escapes each value once and compares rows as integers.
public struct SeriesBlock: Sendable, Equatable {
    /// Labels every series of the block has, before the columns.
    public var prefix: [Label]
    /// The names of the labels after the prefix, in order.
    public var names: [String]
    /// Per column, its distinct values; rows refer to them by position.
    public var values: [[String]]
    /// `names.count` value ids per series, series in the order of their labels.
    public var rows: [Int32]
    public var samples: BlockSamples

    public init(prefix: [Label], names: [String], values: [[String]], rows: [Int32], samples: BlockSamples) {
        precondition(names.count == values.count, "one value list per column")
        precondition(names.isEmpty ? samples.count <= 1 : rows.count == names.count * samples.count, "one row per sample")
        self.prefix = prefix
        self.names = names
        self.values = values
        self.rows = rows
        self.samples = samples
    }

    /// How many series the block holds.
    public var count: Int { samples.count }

    /// The labels of series `row`.
    public func labels(of row: Int) -> [Label] {
        var labels = prefix
        labels.reserveCapacity(prefix.count + names.count)
        for (column, name) in names.enumerated() {
            labels.append(Label(name, values[column][Int(rows[row * names.count + column])]))
        }
        return labels
    }

    /// The series as metrics of a family of `type`, in order; none where the samples do not
    /// fit the type.
    public func metrics(as type: MetricType) -> [Metric] {
        (0..<count).compactMap { row in samples.value(of: row, as: type).map { Metric(labels: labels(of: row), value: $0) } }
    }

    /// Whether every series of the block comes before every series of `other` in label
    /// order, or every one after, whatever the columns hold: the prefixes differ within
    /// their common length. Blocks that are separate so can be written one after the other.
    public func isSeparate(from other: SeriesBlock) -> Bool {
        zip(prefix, other.prefix).contains { $0.name != $1.name || $0.value != $1.value }
    }
}

/// The values of a block's series. A struct with a kind rather than an enum with array
/// payloads: such an enum keeps its case in the spare bits of an array pointer, where
/// LeakSanitizer cannot see the pointer and reports the array as leaked.
public struct BlockSamples: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case scalars, histograms }

    public let kind: Kind
    /// Scalars: one per series, counter totals, gauge or unknown values, as the family's type says.
    public let values: [Double]
    /// Histograms: the upper bounds (without `+Inf`, which the count is), and per series the
    /// cumulative count at each bound (`upperBounds.count` per series), the sum and the count.
    public let upperBounds: [Double]
    public let cumulativeCounts: [Double]
    public let sums: [Double]
    public let counts: [Double]

    public static func scalars(_ values: [Double]) -> BlockSamples {
        BlockSamples(kind: .scalars, values: values, upperBounds: [], cumulativeCounts: [], sums: [], counts: [])
    }

    public static func histograms(upperBounds: [Double], cumulativeCounts: [Double], sums: [Double], counts: [Double]) -> BlockSamples {
        BlockSamples(kind: .histograms, values: [], upperBounds: upperBounds, cumulativeCounts: cumulativeCounts, sums: sums, counts: counts)
    }

    public var count: Int { kind == .scalars ? values.count : counts.count }

    /// Whether these samples can be written in a family of `type`.
    func belong(to type: MetricType) -> Bool {
        switch (kind, type) {
        case (.scalars, .counter), (.scalars, .gauge), (.scalars, .unknown), (.histograms, .histogram): return true
        default: return false
        }
    }

    func value(of row: Int, as type: MetricType) -> MetricValue? {
        switch (kind, type) {
        case (.scalars, .counter): return .counter(values[row])
        case (.scalars, .gauge): return .gauge(values[row])
        case (.scalars, .unknown): return .unknown(values[row])
        case (.histograms, .histogram):
            let base = row * upperBounds.count
            let buckets = upperBounds.indices.map { HistogramBucket(upperBound: upperBounds[$0], cumulativeCount: cumulativeCounts[base + $0]) }
            return .histogram(buckets: buckets, sum: sums[row], count: counts[row])
        default: return nil
        }
    }
}

extension MetricFamily {
    /// Every series of the family as a metric, `metrics` first, then each block's.
    public var allMetrics: [Metric] {
        metrics + blocks.flatMap { $0.metrics(as: type) }
    }

    /// Whether the family has a series its type can write.
    var hasWritableSeries: Bool {
        metrics.contains { $0.value.belongs(to: type) } || blocks.contains { $0.count > 0 && $0.samples.belong(to: type) }
    }
}
