/// The kind of a metric family, which decides its TYPE line and the sample
/// names its metrics are written under.
public enum MetricType: Sendable {
    /// A monotonically non-decreasing total; samples carry the `_total` suffix.
    case counter
    /// A value that may go up and down.
    case gauge
    /// Cumulative buckets plus `_sum` and `_count`.
    case histogram
    /// Constant textual facts carried in labels; the value is always 1.
    case info
    /// A value of unknown semantics (`untyped` in text 0.0.4).
    case unknown
}

/// One label pair. Names must already be valid Prometheus label names
/// (`[a-zA-Z_][a-zA-Z0-9_]*`); values may be any UTF-8 and are escaped on output.
public struct Label: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One histogram bucket: how many observations were less than or equal to
/// `upperBound`, counting all lower buckets too.
public struct HistogramBucket: Sendable, Equatable {
    public var upperBound: Double
    public var cumulativeCount: Double

    public init(upperBound: Double, cumulativeCount: Double) {
        self.upperBound = upperBound
        self.cumulativeCount = cumulativeCount
    }
}

/// The value of one metric. Its case must match the type of the family it
/// belongs to; the encoder leaves out metrics whose case does not, because a
/// single mistyped sample would make the whole exposition invalid.
public enum MetricValue: Sendable, Equatable {
    /// The running total. The family name is the base name, without `_total`.
    case counter(Double)
    case gauge(Double)
    /// An info metric; its value is always 1 and its content is in the labels.
    case info
    case unknown(Double)
    /// Cumulative buckets in ascending order of upper bound, without the
    /// `+Inf` bucket: the encoder adds `le="+Inf"` with `count` itself
    /// (unless a bucket with an infinite bound is already present).
    case histogram(buckets: [HistogramBucket], sum: Double, count: Double)
}

/// One labelled series of a family.
public struct Metric: Sendable, Equatable {
    /// Written in the order given; a histogram's `le` always comes last.
    public var labels: [Label]
    public var value: MetricValue

    public init(labels: [Label], value: MetricValue) {
        self.labels = labels
        self.value = value
    }
}

/// A named group of metrics sharing help text and type.
public struct MetricFamily: Sendable, Equatable {
    /// The base name: counters without `_total`, info families without
    /// `_info`, histograms without `_bucket`/`_sum`/`_count`. Must be a valid
    /// Prometheus metric name; the encoder writes it unquoted.
    public var name: String
    public var help: String
    public var type: MetricType
    /// The OpenMetrics unit. It is written as a `# UNIT` line only when it is
    /// non-empty, `name` ends with `"_" + unit`, and the family is not an info
    /// family, because OpenMetrics parsers reject the exposition otherwise.
    /// Text 0.0.4 has no unit line.
    public var unit: String?
    public var metrics: [Metric]
    /// More series, held as columns, written after `metrics`. Whoever builds the family keeps
    /// its series in label order across both: blocks that are separate from each other
    /// (`SeriesBlock.isSeparate`), sorted by prefix, and no metrics among them.
    public var blocks: [SeriesBlock]

    public init(name: String, help: String, type: MetricType, unit: String? = nil, metrics: [Metric], blocks: [SeriesBlock] = []) {
        self.name = name
        self.help = help
        self.type = type
        self.unit = unit
        self.metrics = metrics
        self.blocks = blocks
    }
}
