// MARK: - Series blocks

extension ExpositionEncoder {
    /// Writes the series of `block` as `appendSamples` writes metrics, byte for byte: each
    /// distinct label value is escaped once into its `,name="value"` pair, and a row's label
    /// pairs are rebuilt only from the first column whose id differs from the row before.
    static func appendBlock(
        _ block: SeriesBlock, of family: MetricFamily, format: ExpositionFormat, labelPairs: inout ByteWriter,
        into buffer: inout some ByteSink
    ) {
        let name = Array(family.name.utf8)
        let width = block.names.count
        var pairs = ByteWriter(capacity: 64 * max(1, block.values.reduce(0) { $0 + $1.count }))
        defer { pairs.deallocate() }
        // Pair k (column c's value v, k = firstPair[c] + v) is pairs[pairOffsets[k] ..< pairOffsets[k + 1]].
        var firstPair: [Int] = []
        var pairOffsets: [Int] = [0]
        firstPair.reserveCapacity(width)
        for (column, values) in block.values.enumerated() {
            firstPair.append(pairOffsets.count - 1)
            for value in values {
                appendLabelPair(Label(block.names[column], value), first: false, into: &pairs)
                pairOffsets.append(pairs.count)
            }
        }
        labelPairs.reset()
        for (index, label) in block.prefix.enumerated() {
            appendLabelPair(label, first: index == 0, into: &labelPairs)
        }
        let prefixEnd = labelPairs.count
        // With no prefix the first pair goes without its comma.
        let skipFirstComma = prefixEnd == 0 ? 1 : 0
        var columnEnds = [Int](repeating: prefixEnd, count: width)

        let histogram = HistogramLines(block.samples, name: name, format: format)
        block.rows.withUnsafeBufferPointer { rows in
            for row in 0..<block.count {
                let base = row * width
                var changed = 0
                if row > 0 {
                    while changed < width && rows[base + changed] == rows[base - width + changed] { changed += 1 }
                }
                if changed < width || row == 0 {
                    labelPairs.truncate(to: changed == 0 ? prefixEnd : columnEnds[changed - 1])
                    for column in changed..<width {
                        let k = firstPair[column] + Int(rows[base + column])
                        let skip = column == 0 ? skipFirstComma : 0
                        let start = pairOffsets[k] + skip
                        labelPairs.append(contentsOf: UnsafeBufferPointer(start: pairs.base + start, count: pairOffsets[k + 1] - start))
                        columnEnds[column] = labelPairs.count
                    }
                }
                let samples = block.samples
                switch (samples.kind, family.type) {
                case (.scalars, .counter):
                    appendSeries(name, "_total", labelPairs, into: &buffer)
                    appendValue(samples.values[row], format: format, into: &buffer)
                case (.scalars, _):
                    appendSeries(name, "", labelPairs, into: &buffer)
                    appendValue(samples.values[row], format: format, into: &buffer)
                case (.histograms, _):
                    histogram.append(row: row, cumulative: samples.cumulativeCounts, sum: samples.sums[row], count: samples.counts[row],
                                     labelPairs: labelPairs, into: &buffer)
                }
                buffer.append(UInt8(ascii: "\n"))
            }
        }
    }

    /// What every histogram series of a block shares: the bucket sample prefix and each
    /// bound rendered once.
    private struct HistogramLines {
        let name: [UInt8]
        let bucketPrefix: [UInt8]
        let renderedBounds: [[UInt8]]
        let format: ExpositionFormat
        let writesInfinity: Bool

        init(_ samples: BlockSamples, name: [UInt8], format: ExpositionFormat) {
            self.name = name
            self.format = format
            bucketPrefix = name + Array("_bucket{".utf8)
            guard samples.kind == .histograms else {
                renderedBounds = []
                writesInfinity = false
                return
            }
            let bounds = samples.upperBounds
            renderedBounds = RenderedBounds.shared.render(bounds, format: format)
            writesInfinity = !bounds.contains(.infinity)
        }

        func append(row: Int, cumulative: [Double], sum: Double, count: Double, labelPairs: ByteWriter, into buffer: inout some ByteSink) {
            let base = row * renderedBounds.count
            for (index, bound) in renderedBounds.enumerated() {
                ExpositionEncoder.appendBucketSeries(bucketPrefix, labelPairs, into: &buffer)
                buffer.writeBytes(bound)
                buffer.write("\"} ")
                ExpositionEncoder.appendCount(cumulative[base + index], format: format, into: &buffer)
                buffer.append(UInt8(ascii: "\n"))
            }
            if writesInfinity {
                ExpositionEncoder.appendBucketSeries(bucketPrefix, labelPairs, into: &buffer)
                ExpositionEncoder.appendValue(.infinity, format: format, into: &buffer)
                buffer.write("\"} ")
                ExpositionEncoder.appendCount(count, format: format, into: &buffer)
                buffer.append(UInt8(ascii: "\n"))
            }
            ExpositionEncoder.appendSeries(name, "_sum", labelPairs, into: &buffer)
            ExpositionEncoder.appendValue(sum, format: format, into: &buffer)
            buffer.append(UInt8(ascii: "\n"))
            ExpositionEncoder.appendSeries(name, "_count", labelPairs, into: &buffer)
            ExpositionEncoder.appendCount(count, format: format, into: &buffer)
        }
    }

    /// A generous guess at a block's encoded size, from the average length of each column's values.
    static func estimatedSize(of block: SeriesBlock, nameSize: Int) -> Int {
        var labelsSize = 2
        for label in block.prefix { labelsSize += label.name.utf8.count + label.value.utf8.count + 4 }
        for (column, values) in block.values.enumerated() where !values.isEmpty {
            let total = values.reduce(0) { $0 + $1.utf8.count }
            labelsSize += block.names[column].utf8.count + 4 + (total + values.count - 1) / values.count
        }
        let lineSize = nameSize + labelsSize + 32
        let samples = block.samples
        switch samples.kind {
        case .scalars: return lineSize * samples.values.count
        case .histograms: return samples.counts.count * (lineSize * (samples.upperBounds.count + 3) + 16 * (samples.upperBounds.count + 1))
        }
    }
}
