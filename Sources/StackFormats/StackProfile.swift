/// What one column of sample values counts, and in what unit (pprof's `ValueType`), such as
/// `samples`/`count` for a hit count or `delay`/`nanoseconds` for a summed delay.
public struct SampleType: Hashable, Sendable {
    public var type: String
    public var unit: String

    public init(type: String, unit: String) {
        self.type = type
        self.unit = unit
    }

    /// A table's hit count: one sample per event.
    public static let samples = SampleType(type: "samples", unit: "count")
}

/// One stack and its values, as a hist table's entry holds them.
public struct StackSample: Sendable {
    /// Frames innermost first, as the kernel prints them (`func+0xoff/0xsize [module]`).
    public var frames: [String]
    /// One value per sample type.
    public var values: [Int64]

    public init(frames: [String], values: [Int64]) {
        self.frames = frames
        self.values = values
    }
}

/// Samples merged by stack: offsets dropped, equal stacks summed, in a deterministic order.
/// Every output format renders from this.
public struct StackProfile: Sendable {
    /// One distinct stack: function names root first, and its summed values.
    public struct Stack: Equatable, Sendable {
        public var frames: [String]
        public var values: [Int64]

        public init(frames: [String], values: [Int64]) {
            self.frames = frames
            self.values = values
        }
    }

    public let sampleTypes: [SampleType]
    /// Sorted by frames, compared root first, so the output does not depend on the table's order.
    public let stacks: [Stack]
    /// What one unit of `period` is (pprof's `period_type`); nil leaves it out.
    public var periodType: SampleType?
    public var period: Int64 = 0
    /// When the table was read, in nanoseconds since the epoch; nil leaves it out.
    public var timeNanos: Int64?
    /// How long the table counted, in nanoseconds; nil leaves it out.
    public var durationNanos: Int64?

    /// Frames past this depth (the kernel records at most a few dozen) are left out at the leaf
    /// end, where a cut keeps the stack's callers.
    public static let maximumDepth = 256

    /// `samples` values beyond `sampleTypes.count` are ignored, missing ones count as 0; sums
    /// saturate at the ends of Int64 instead of wrapping.
    public init(sampleTypes: [SampleType], samples: some Sequence<StackSample>) {
        self.sampleTypes = sampleTypes
        let width = sampleTypes.count
        var index: [[String]: Int] = [:]
        var merged: [Stack] = []
        for sample in samples {
            let frames = sample.frames.suffix(Self.maximumDepth).reversed().map(StackFrame.functionName)
            let position: Int
            if let known = index[frames] {
                position = known
            } else {
                position = merged.count
                index[frames] = position
                merged.append(Stack(frames: frames, values: Array(repeating: 0, count: width)))
            }
            for column in 0..<min(width, sample.values.count) {
                merged[position].values[column] = Self.saturatingSum(merged[position].values[column], sample.values[column])
            }
        }
        stacks = merged.sorted { $0.frames.lexicographicallyPrecedes($1.frames) }
    }

    /// The sum of one value column over every stack.
    public func total(_ column: Int) -> Int64 {
        stacks.reduce(0) { Self.saturatingSum($0, $1.values[column]) }
    }

    static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard overflow else { return sum }
        return b > 0 ? .max : .min
    }
}
