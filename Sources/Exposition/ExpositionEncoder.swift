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
    public static func encode(_ families: [MetricFamily], format: ExpositionFormat, into buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + estimatedSize(of: families))
        // One metric's rendered label pairs, reused for each of its lines.
        var labelPairs: [UInt8] = []
        labelPairs.reserveCapacity(256)
        for family in families where family.metrics.contains(where: { $0.value.belongs(to: family.type) }) {
            switch format {
            case .text004: appendTextMetadata(of: family, into: &buffer)
            case .openMetrics100: appendOpenMetricsMetadata(of: family, into: &buffer)
            }
            appendSamples(of: family, format: format, labelPairs: &labelPairs, into: &buffer)
        }
        if format == .openMetrics100 {
            buffer.append(contentsOf: "# EOF\n".utf8)
        }
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
    private static func appendTextMetadata(of family: MetricFamily, into buffer: inout [UInt8]) {
        let nameSuffix: String
        let typeWord: String
        switch family.type {
        case .counter: (nameSuffix, typeWord) = ("_total", "counter")
        case .gauge: (nameSuffix, typeWord) = ("", "gauge")
        case .histogram: (nameSuffix, typeWord) = ("", "histogram")
        case .info: (nameSuffix, typeWord) = ("_info", "gauge")
        case .unknown: (nameSuffix, typeWord) = ("", "untyped")
        }
        buffer.append(contentsOf: "# HELP ".utf8)
        buffer.append(contentsOf: family.name.utf8)
        buffer.append(contentsOf: nameSuffix.utf8)
        buffer.append(UInt8(ascii: " "))
        appendEscaped(family.help, escapingQuotes: false, into: &buffer)
        buffer.append(contentsOf: "\n# TYPE ".utf8)
        buffer.append(contentsOf: family.name.utf8)
        buffer.append(contentsOf: nameSuffix.utf8)
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: typeWord.utf8)
        buffer.append(UInt8(ascii: "\n"))
    }

    private static func appendOpenMetricsMetadata(of family: MetricFamily, into buffer: inout [UInt8]) {
        let typeWord: String
        switch family.type {
        case .counter: typeWord = "counter"
        case .gauge: typeWord = "gauge"
        case .histogram: typeWord = "histogram"
        case .info: typeWord = "info"
        case .unknown: typeWord = "unknown"
        }
        buffer.append(contentsOf: "# TYPE ".utf8)
        buffer.append(contentsOf: family.name.utf8)
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: typeWord.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if let unit = family.unit, isWritableUnit(unit, of: family) {
            buffer.append(contentsOf: "# UNIT ".utf8)
            buffer.append(contentsOf: family.name.utf8)
            buffer.append(UInt8(ascii: " "))
            buffer.append(contentsOf: unit.utf8)
            buffer.append(UInt8(ascii: "\n"))
        }
        buffer.append(contentsOf: "# HELP ".utf8)
        buffer.append(contentsOf: family.name.utf8)
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
        of family: MetricFamily, format: ExpositionFormat, labelPairs: inout [UInt8], into buffer: inout [UInt8]
    ) {
        for metric in family.metrics where metric.value.belongs(to: family.type) {
            labelPairs.removeAll(keepingCapacity: true)
            appendLabelPairs(metric.labels, into: &labelPairs)
            switch metric.value {
            case .counter(let value):
                appendSeries(family.name, "_total", labelPairs, into: &buffer)
                appendValue(value, format: format, into: &buffer)
            case .gauge(let value), .unknown(let value):
                appendSeries(family.name, "", labelPairs, into: &buffer)
                appendValue(value, format: format, into: &buffer)
            case .info:
                appendSeries(family.name, "_info", labelPairs, into: &buffer)
                buffer.append(UInt8(ascii: "1"))
            case .histogram(let buckets, let sum, let count):
                var sawInfiniteBound = false
                for bucket in buckets {
                    appendBucketSeries(family.name, labelPairs, upperBound: bucket.upperBound, format: format, into: &buffer)
                    appendCount(bucket.cumulativeCount, format: format, into: &buffer)
                    buffer.append(UInt8(ascii: "\n"))
                    if bucket.upperBound == .infinity { sawInfiniteBound = true }
                }
                if !sawInfiniteBound {
                    appendBucketSeries(family.name, labelPairs, upperBound: .infinity, format: format, into: &buffer)
                    appendCount(count, format: format, into: &buffer)
                    buffer.append(UInt8(ascii: "\n"))
                }
                appendSeries(family.name, "_sum", labelPairs, into: &buffer)
                appendValue(sum, format: format, into: &buffer)
                buffer.append(UInt8(ascii: "\n"))
                appendSeries(family.name, "_count", labelPairs, into: &buffer)
                appendCount(count, format: format, into: &buffer)
            }
            buffer.append(UInt8(ascii: "\n"))
        }
    }

    /// Writes `name+suffix`, the label pairs in braces (no braces when there
    /// are none), and the space before the value.
    private static func appendSeries(
        _ name: String, _ suffix: String, _ labelPairs: [UInt8], into buffer: inout [UInt8]
    ) {
        buffer.append(contentsOf: name.utf8)
        buffer.append(contentsOf: suffix.utf8)
        if !labelPairs.isEmpty {
            buffer.append(UInt8(ascii: "{"))
            buffer.append(contentsOf: labelPairs)
            buffer.append(UInt8(ascii: "}"))
        }
        buffer.append(UInt8(ascii: " "))
    }

    /// Writes `name_bucket` with the label pairs and a trailing `le`, and the
    /// space before the value.
    private static func appendBucketSeries(
        _ name: String, _ labelPairs: [UInt8], upperBound: Double, format: ExpositionFormat,
        into buffer: inout [UInt8]
    ) {
        buffer.append(contentsOf: name.utf8)
        buffer.append(contentsOf: "_bucket{".utf8)
        if !labelPairs.isEmpty {
            buffer.append(contentsOf: labelPairs)
            buffer.append(UInt8(ascii: ","))
        }
        buffer.append(contentsOf: "le=\"".utf8)
        appendValue(upperBound, format: format, into: &buffer)
        buffer.append(contentsOf: "\"} ".utf8)
    }

    /// `name="escaped value"` pairs joined by commas, in the order given.
    private static func appendLabelPairs(_ labels: [Label], into buffer: inout [UInt8]) {
        for (index, label) in labels.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            buffer.append(contentsOf: label.name.utf8)
            buffer.append(contentsOf: "=\"".utf8)
            appendEscaped(label.value, escapingQuotes: true, into: &buffer)
            buffer.append(UInt8(ascii: "\""))
        }
    }

    /// Sample values and `le` bounds.
    private static func appendValue(_ value: Double, format: ExpositionFormat, into buffer: inout [UInt8]) {
        switch format {
        case .text004: appendTextValue(value, into: &buffer)
        case .openMetrics100: appendOpenMetricsFloat(value, into: &buffer)
        }
    }

    /// Bucket and `_count` values.
    private static func appendCount(_ value: Double, format: ExpositionFormat, into buffer: inout [UInt8]) {
        switch format {
        case .text004: appendTextValue(value, into: &buffer)
        case .openMetrics100: appendOpenMetricsInteger(value, into: &buffer)
        }
    }

    /// `expfmt`'s `writeFloat`: Go's shortest `%g`, but a negative zero is
    /// written `0` because its fast path compares with `== 0`.
    static func appendTextValue(_ value: Double, into buffer: inout [UInt8]) {
        if value == 0 {
            buffer.append(UInt8(ascii: "0"))
        } else {
            appendGoFloat(value, into: &buffer)
        }
    }

    /// `expfmt`'s `writeOpenMetricsFloat`: Go's shortest `%g`, with `.0`
    /// added when that has neither a point nor an exponent, so every value
    /// reads as a float and `le` values take the canonical form.
    static func appendOpenMetricsFloat(_ value: Double, into buffer: inout [UInt8]) {
        if value == 0 {
            buffer.append(contentsOf: "0.0".utf8)
            return
        }
        let start = buffer.count
        appendGoFloat(value, into: &buffer)
        guard value.isFinite else { return }
        let hasPointOrExponent = buffer[start...].contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") }
        if !hasPointOrExponent {
            buffer.append(contentsOf: ".0".utf8)
        }
    }

    /// OpenMetrics requires bucket and count values to be integers, which
    /// `expfmt` writes with `AppendUint`. A value that is not a whole number
    /// within 64 bits cannot be written as one and falls back to float form.
    static func appendOpenMetricsInteger(_ value: Double, into buffer: inout [UInt8]) {
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
    static func appendEscaped(_ text: String, escapingQuotes: Bool, into buffer: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            var unescapedStart = 0
            for index in bytes.indices {
                let escapeLetter: UInt8
                switch bytes[index] {
                case UInt8(ascii: "\\"): escapeLetter = UInt8(ascii: "\\")
                case UInt8(ascii: "\n"): escapeLetter = UInt8(ascii: "n")
                case UInt8(ascii: "\"") where escapingQuotes: escapeLetter = UInt8(ascii: "\"")
                default: continue
                }
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[unescapedStart..<index]))
                buffer.append(UInt8(ascii: "\\"))
                buffer.append(escapeLetter)
                unescapedStart = index + 1
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[unescapedStart...]))
        }
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
