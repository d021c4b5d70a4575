/// Renders metric families as Prometheus text 0.0.4 or OpenMetrics 1.0.0.
///
/// The output follows what prometheus/common's `expfmt` writes for the same
/// input (`MetricFamilyToText`, `MetricFamilyToOpenMetrics`), so scrapers see
/// the same bytes a Go exporter would send:
///
/// Text 0.0.4: `# HELP` then `# TYPE`, both under the sample name. Counters
/// are written as `<name>_total`, info families as gauges named
/// `<name>_info` with value 1, unknown families as `untyped`. Values and `le`
/// use Go's `%g` shortest form (`formatGoFloat`), except that zero (either
/// sign) is written `0`, as `expfmt`'s `writeFloat` does.
///
/// OpenMetrics 1.0.0: `# TYPE`, `# UNIT`, `# HELP` in the order the
/// specification recommends, all under the base name. Floats get `.0`
/// appended when Go's form has neither `.` nor `e` (`17.0`, `1e+06`, and
/// `le="1.0"`, the specification's canonical `le` rendering); bucket and
/// `_count` values are integers, as the specification requires; info
/// samples are `<name>_info{…} 1`. The exposition ends with `# EOF`.
///
/// In both formats a family with no metrics of its own type is left out
/// entirely, as client_golang's registry drops empty families before
/// encoding. Names are written as given: they must already be valid.
public enum ExpositionEncoder {
    /// Appends the families in the order given (the caller sorts), one
    /// metadata block per family. OpenMetrics output ends with `# EOF\n`.
    public static func encode(_ families: [MetricFamily], format: ExpositionFormat, into output: inout [UInt8]) {
        var buffer = ByteWriter(capacity: estimatedSize(of: families))
        defer { buffer.deallocate() }
        // One metric's rendered label pairs, reused for each of its lines.
        var labelPairs = ByteWriter(capacity: 256)
        defer { labelPairs.deallocate() }
        var bounds = BoundCache()
        for family in families where family.hasWritableSeries {
            switch format {
            case .text004: appendTextMetadata(of: family, into: &buffer)
            case .openMetrics100: appendOpenMetricsMetadata(of: family, into: &buffer)
            }
            appendSamples(of: family, format: format, labelPairs: &labelPairs, bounds: &bounds, into: &buffer)
            for block in family.blocks where block.count > 0 && block.samples.belong(to: family.type) {
                appendBlock(block, of: family, format: format, labelPairs: &labelPairs, into: &buffer)
            }
        }
        if format == .openMetrics100 {
            buffer.write("# EOF\n")
        }
        output.append(contentsOf: buffer.bytes)
    }

    /// Returns the encoded families; see `encode(_:format:into:)`.
    public static func encode(_ families: [MetricFamily], format: ExpositionFormat) -> [UInt8] {
        var buffer: [UInt8] = []
        encode(families, format: format, into: &buffer)
        return buffer
    }
}

// MARK: - Metadata

extension ExpositionEncoder {
    /// Text 0.0.4 names the metadata after the samples, so counters and info
    /// families carry their suffix here too.
    private static func appendTextMetadata(of family: MetricFamily, into buffer: inout some ByteSink) {
        let nameSuffix: String
        let typeWord: String
        switch family.type {
        case .counter: (nameSuffix, typeWord) = ("_total", "counter")
        case .gauge: (nameSuffix, typeWord) = ("", "gauge")
        case .histogram: (nameSuffix, typeWord) = ("", "histogram")
        case .info: (nameSuffix, typeWord) = ("_info", "gauge")
        case .unknown: (nameSuffix, typeWord) = ("", "untyped")
        }
        buffer.write("# HELP ")
        buffer.writeUTF8(family.name)
        buffer.writeUTF8(nameSuffix)
        buffer.append(UInt8(ascii: " "))
        appendEscaped(family.help, escapingQuotes: false, into: &buffer)
        buffer.write("\n# TYPE ")
        buffer.writeUTF8(family.name)
        buffer.writeUTF8(nameSuffix)
        buffer.append(UInt8(ascii: " "))
        buffer.writeUTF8(typeWord)
        buffer.append(UInt8(ascii: "\n"))
    }

    private static func appendOpenMetricsMetadata(of family: MetricFamily, into buffer: inout some ByteSink) {
        let typeWord: String
        switch family.type {
        case .counter: typeWord = "counter"
        case .gauge: typeWord = "gauge"
        case .histogram: typeWord = "histogram"
        case .info: typeWord = "info"
        case .unknown: typeWord = "unknown"
        }
        buffer.write("# TYPE ")
        buffer.writeUTF8(family.name)
        buffer.append(UInt8(ascii: " "))
        buffer.writeUTF8(typeWord)
        buffer.append(UInt8(ascii: "\n"))
        if let unit = family.unit, isWritableUnit(unit, of: family) {
            buffer.write("# UNIT ")
            buffer.writeUTF8(family.name)
            buffer.append(UInt8(ascii: " "))
            buffer.writeUTF8(unit)
            buffer.append(UInt8(ascii: "\n"))
        }
        buffer.write("# HELP ")
        buffer.writeUTF8(family.name)
        buffer.append(UInt8(ascii: " "))
        appendEscaped(family.help, escapingQuotes: true, into: &buffer)
        buffer.append(UInt8(ascii: "\n"))
    }

    /// OpenMetrics parsers reject a UNIT that is not the name's suffix, and
    /// the specification forbids one on info families; an empty UNIT means
    /// the same as none.
    private static func isWritableUnit(_ unit: String, of family: MetricFamily) -> Bool {
        guard !unit.isEmpty, family.type != .info else { return false }
        let nameBytes = family.name.utf8
        let unitBytes = unit.utf8
        guard nameBytes.count > unitBytes.count + 1 else { return false }
        let suffixStart = nameBytes.index(nameBytes.endIndex, offsetBy: -(unitBytes.count + 1))
        return nameBytes[suffixStart] == UInt8(ascii: "_")
            && nameBytes[nameBytes.index(after: suffixStart)...].elementsEqual(unitBytes)
    }
}

// MARK: - Samples

extension ExpositionEncoder {
    private static func appendSamples(
        of family: MetricFamily, format: ExpositionFormat, labelPairs: inout ByteWriter, bounds: inout BoundCache,
        into buffer: inout some ByteSink
    ) {
        // The sample names, rendered once per family rather than once per line.
        let name = Array(family.name.utf8)
        let isHistogram = family.type == .histogram
        let bucketPrefix = isHistogram ? name + Array("_bucket{".utf8) : []
        // Consecutive metrics (sorted by their labels) usually share their first labels:
        // those are rendered once and kept while they stay the same.
        var previous: [Label] = []
        var pairEnds: [Int] = []
        for metric in family.metrics where metric.value.belongs(to: family.type) {
            let labels = metric.labels
            var shared = 0
            let limit = min(labels.count, previous.count)
            // Byte equality, not String equality: canonically equivalent texts differ in bytes.
            while shared < limit && utf8Equal(labels[shared].name, previous[shared].name)
                && utf8Equal(labels[shared].value, previous[shared].value)
            {
                shared += 1
            }
            labelPairs.truncate(to: shared == 0 ? 0 : pairEnds[shared - 1])
            pairEnds.removeSubrange(shared...)
            for index in shared..<labels.count {
                appendLabelPair(labels[index], first: index == 0, into: &labelPairs)
                pairEnds.append(labelPairs.count)
            }
            previous = labels
            switch metric.value {
            case .counter(let value):
                appendSeries(name, "_total", labelPairs, into: &buffer)
                appendValue(value, format: format, into: &buffer)
            case .gauge(let value), .unknown(let value):
                appendSeries(name, "", labelPairs, into: &buffer)
                appendValue(value, format: format, into: &buffer)
            case .info:
                appendSeries(name, "_info", labelPairs, into: &buffer)
                buffer.append(UInt8(ascii: "1"))
            case .histogram(let buckets, let sum, let count):
                var sawInfiniteBound = false
                for (index, bucket) in buckets.enumerated() {
                    appendBucketSeries(bucketPrefix, labelPairs, into: &buffer)
                    bounds.append(bucket.upperBound, at: index, format: format, into: &buffer)
                    buffer.write("\"} ")
                    appendCount(bucket.cumulativeCount, format: format, into: &buffer)
                    buffer.append(UInt8(ascii: "\n"))
                    if bucket.upperBound == .infinity { sawInfiniteBound = true }
                }
                if !sawInfiniteBound {
                    appendBucketSeries(bucketPrefix, labelPairs, into: &buffer)
                    appendValue(.infinity, format: format, into: &buffer)
                    buffer.write("\"} ")
                    appendCount(count, format: format, into: &buffer)
                    buffer.append(UInt8(ascii: "\n"))
                }
                appendSeries(name, "_sum", labelPairs, into: &buffer)
                appendValue(sum, format: format, into: &buffer)
                buffer.append(UInt8(ascii: "\n"))
                appendSeries(name, "_count", labelPairs, into: &buffer)
                appendCount(count, format: format, into: &buffer)
            }
            buffer.append(UInt8(ascii: "\n"))
        }
    }

    /// Writes `name+suffix`, the label pairs in braces (no braces when there
    /// are none), and the space before the value.
    static func appendSeries(
        _ name: [UInt8], _ suffix: StaticString, _ labelPairs: ByteWriter, into buffer: inout some ByteSink
    ) {
        buffer.writeBytes(name)
        buffer.write(suffix)
        if labelPairs.count > 0 {
            buffer.append(UInt8(ascii: "{"))
            buffer.append(contentsOf: labelPairs.bytes)
            buffer.append(UInt8(ascii: "}"))
        }
        buffer.append(UInt8(ascii: " "))
    }

    /// Writes `name_bucket{`, the label pairs and `le="`; the bound, `"} ` and the
    /// value follow.
    static func appendBucketSeries(_ bucketPrefix: [UInt8], _ labelPairs: ByteWriter, into buffer: inout some ByteSink) {
        buffer.writeBytes(bucketPrefix)
        if labelPairs.count > 0 {
            buffer.append(contentsOf: labelPairs.bytes)
            buffer.append(UInt8(ascii: ","))
        }
        buffer.write("le=\"")
    }

    /// The rendered `le` bounds of the last histogram written: the metrics of a family
    /// nearly always share their bounds, and a non-integral bound (`1e-06`) costs a
    /// shortest-digits conversion each time.
    struct BoundCache {
        private var bounds: [UInt64] = []
        private var rendered: [[UInt8]] = []
        private var format: ExpositionFormat?

        mutating func append(_ bound: Double, at index: Int, format: ExpositionFormat, into buffer: inout some ByteSink) {
            if format != self.format {
                bounds.removeAll()
                rendered.removeAll()
                self.format = format
            }
            if index < bounds.count && bounds[index] == bound.bitPattern {
                buffer.writeBytes(rendered[index])
                return
            }
            var bytes: [UInt8] = []
            ExpositionEncoder.appendValue(bound, format: format, into: &bytes)
            buffer.writeBytes(bytes)
            if index < bounds.count {
                bounds[index] = bound.bitPattern
                rendered[index] = bytes
            } else if index == bounds.count {
                bounds.append(bound.bitPattern)
                rendered.append(bytes)
            }
        }
    }

    /// One `name="escaped value"` pair, after a comma unless it is the first.
    @inline(__always)
    static func appendLabelPair(_ label: Label, first: Bool, into buffer: inout some ByteSink) {
        if !first { buffer.append(UInt8(ascii: ",")) }
        buffer.writeUTF8(label.name)
        buffer.write("=\"")
        appendEscaped(label.value, escapingQuotes: true, into: &buffer)
        buffer.append(UInt8(ascii: "\""))
    }

    /// Sample values and `le` bounds.
    static func appendValue(_ value: Double, format: ExpositionFormat, into buffer: inout some ByteSink) {
        switch format {
        case .text004: appendTextValue(value, into: &buffer)
        case .openMetrics100: appendOpenMetricsFloat(value, into: &buffer)
        }
    }

    /// Bucket and `_count` values.
    static func appendCount(_ value: Double, format: ExpositionFormat, into buffer: inout some ByteSink) {
        switch format {
        case .text004: appendTextValue(value, into: &buffer)
        case .openMetrics100: appendOpenMetricsInteger(value, into: &buffer)
        }
    }

    /// `expfmt`'s `writeFloat`: Go's shortest `%g`, but a negative zero is
    /// written `0` because its fast path compares with `== 0`.
    static func appendTextValue(_ value: Double, into buffer: inout some ByteSink) {
        if value == 0 {
            buffer.append(UInt8(ascii: "0"))
        } else {
            appendGoFloatBytes(value, into: &buffer)
        }
    }

    /// `expfmt`'s `writeOpenMetricsFloat`: Go's shortest `%g`, with `.0`
    /// added when that has neither a point nor an exponent, so every value
    /// reads as a float and `le` values take the canonical form.
    static func appendOpenMetricsFloat(_ value: Double, into buffer: inout some ByteSink) {
        if value == 0 {
            buffer.write("0.0")
            return
        }
        let start = buffer.count
        appendGoFloatBytes(value, into: &buffer)
        guard value.isFinite else { return }
        if !buffer.containsPointOrExponent(from: start) {
            buffer.write(".0")
        }
    }

    /// OpenMetrics requires bucket and count values to be integers, which
    /// `expfmt` writes with `AppendUint`. A value that is not a whole number
    /// within 64 bits cannot be written as one and falls back to float form.
    static func appendOpenMetricsInteger(_ value: Double, into buffer: inout some ByteSink) {
        guard value.magnitude < 18_446_744_073_709_551_616.0,
              Double(UInt64(value.magnitude)) == value.magnitude
        else {
            appendOpenMetricsFloat(value, into: &buffer)
            return
        }
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
        }
        appendDecimal(UInt64(value.magnitude), into: &buffer)
    }

}

// MARK: - Shared pieces

extension ExpositionEncoder {
    /// Backslash and line feed are always escaped; the double quote only
    /// where the grammar needs it (label values in both formats, and HELP in
    /// OpenMetrics, whose HELP is an escaped string like a label value).
    /// Every other byte, including multi-byte UTF-8, passes through.
    static func appendEscaped(_ text: String, escapingQuotes: Bool, into buffer: inout some ByteSink) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var unescapedStart = 0
            var index = 0
            let count = bytes.count
            while index < count {
                // Eight bytes at a time while none of them needs escaping (the usual case).
                while index + 8 <= count {
                    let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                    if !mayNeedEscaping(word, escapingQuotes: escapingQuotes) {
                        index += 8
                    } else {
                        break
                    }
                }
                let end = min(index + 8, count)
                while index < end {
                    let escapeLetter: UInt8
                    switch base[index] {
                    case UInt8(ascii: "\\"): escapeLetter = UInt8(ascii: "\\")
                    case UInt8(ascii: "\n"): escapeLetter = UInt8(ascii: "n")
                    case UInt8(ascii: "\"") where escapingQuotes: escapeLetter = UInt8(ascii: "\"")
                    default:
                        index += 1
                        continue
                    }
                    buffer.append(contentsOf: UnsafeBufferPointer(start: base + unescapedStart, count: index - unescapedStart))
                    buffer.append(UInt8(ascii: "\\"))
                    buffer.append(escapeLetter)
                    index += 1
                    unescapedStart = index
                }
            }
            buffer.append(contentsOf: UnsafeBufferPointer(start: base + unescapedStart, count: count - unescapedStart))
        }
    }

    /// Whether any byte of `word` is a backslash, a line feed or (when quotes are
    /// escaped) a double quote: the classic "has a zero byte" test on `word ^ pattern`.
    /// It may report a byte that needs nothing (never the reverse); the byte loop decides.
    @inline(__always)
    private static func mayNeedEscaping(_ word: UInt64, escapingQuotes: Bool) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasByte(_ pattern: UInt64) -> Bool {
            let x = word ^ pattern
            return (x &- ones) & ~x & highs != 0
        }
        return hasByte(ones &* 0x5C) || hasByte(ones &* 0x0A) || (escapingQuotes && hasByte(ones &* 0x22))
    }

    /// A generous guess at the encoded size, so the buffer grows once.
    private static func estimatedSize(of families: [MetricFamily]) -> Int {
        var total = 16
        for family in families {
            let nameSize = family.name.utf8.count
            total += 64 + 3 * nameSize + family.help.utf8.count + (family.unit?.utf8.count ?? 0)
            for metric in family.metrics {
                var labelsSize = 2
                for label in metric.labels {
                    labelsSize += label.name.utf8.count + label.value.utf8.count + 4
                }
                let lineSize = nameSize + labelsSize + 32
                if case .histogram(let buckets, _, _) = metric.value {
                    total += lineSize * (buckets.count + 3) + 16 * (buckets.count + 1)
                } else {
                    total += lineSize
                }
            }
            for block in family.blocks {
                total += estimatedSize(of: block, nameSize: nameSize)
            }
        }
        return total
    }
}

extension MetricValue {
    /// Whether this value can be written in a family of `type`.
    func belongs(to type: MetricType) -> Bool {
        switch (self, type) {
        case (.counter, .counter), (.gauge, .gauge), (.info, .info),
             (.unknown, .unknown), (.histogram, .histogram):
            return true
        default:
            return false
        }
    }
}
