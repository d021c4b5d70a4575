import Cgroups
import Exposition
import HistFormat

/// Maps one table to the families its `metric:` block asks for.
struct ConfiguredTableMapper {
    let mapping: MetricMapping
    /// Where `decode: cgroup` keys find their cgroups; without it they name none.
    var cgroupPaths: CgroupPaths? = nil
    /// Where a table keyed by cgroup keeps the label sets beyond its limit, rolled up into
    /// `other`; without it they are left out.
    var rollUp: SeriesRollUp? = nil

    struct Output {
        var families: [MetricFamily]
        /// Label sets left out (or rolled up into `other`) because the table's series limit
        /// was reached.
        var seriesOverLimit: Int
        /// Entries left out because their cgroup id names no cgroup.
        var unnamedCgroupEntries = 0
        /// A column the mapping reads that an entry lacks. The families are then wrong (a
        /// missing sum reads as 0), and the table is reported as failing instead.
        var missingColumn: String? = nil
    }

    func map(_ block: HistBlock) -> Output {
        // Read-backs say `common_cpu` where the configured command said `cpu`.
        let keyIndex = Dictionary(block.triggerInfo.keys.enumerated().map { ($1.canonicalName, $0) }, uniquingKeysWith: { a, _ in a })
        switch mapping.kind {
        case .histogram: return mapHistogram(block, keyIndex)
        case .counter: return mapCounters(block, keyIndex)
        case .gauge: return mapGauge(block, keyIndex)
        }
    }

    /// The configured labels whose key the table has, with the key's position: resolved
    /// once per table rather than once per entry.
    func labelKeys(_ keyIndex: [String: Int]) -> [(position: Int, label: LabelMapping)] {
        mapping.labels.compactMap { l in keyIndex[FieldSpec(name: l.key).canonicalName].map { ($0, l) } }
    }

    /// Entries grouped by label set, at most the limit of them (the first label sets seen):
    /// the label columns, and each group's rows and value in the order of their labels.
    struct Groups<T> {
        var names: [String]
        var columnValues: [[String]]
        /// Label ids, `names.count` per group.
        var rows: [Int32]
        var values: [T]
        var overLimit: Int
        var unnamedEntries: Int

        /// Keeps the label sets the roll-up gives their own series, and adds `other`.
        mutating func rollUp(into rollUp: SeriesRollUp, limit: Int, add: (inout T, T) -> Void) {
            let width = names.count
            let labels = values.indices.map { g in (0..<width).map { c in columnValues[c][Int(rows[g * width + c])] } }
            let (own, other) = rollUp.split(Array(zip(labels, values)).map { (labels: $0.0, value: $0.1) }, limit: limit, add: add)
            var keptRows: [Int32] = []
            var keptValues: [T] = []
            for g in values.indices where own[g] {
                keptRows.append(contentsOf: rows[g * width..<(g + 1) * width])
                keptValues.append(values[g])
            }
            if let other {
                for c in 0..<width {
                    let value = [LabelMapping.podUIDLabel, LabelMapping.containerIDLabel].contains(names[c]) ? "" : SeriesRollUp.otherValue
                    if let id = columnValues[c].firstIndex(of: value) {
                        keptRows.append(Int32(id))
                    } else {
                        keptRows.append(Int32(columnValues[c].count))
                        columnValues[c].append(value)
                    }
                }
                keptValues.append(other)
            }
            rows = keptRows
            values = keptValues
            overLimit = rollUp.rolledCount
        }

        /// A block of the groups `kept` (positions in `values`) with these samples.
        func block(_ samples: BlockSamples, kept: [Int]? = nil) -> SeriesBlock {
            guard let kept else { return SeriesBlock(prefix: [], names: names, values: columnValues, rows: rows, samples: samples) }
            let width = names.count
            let keptRows = kept.flatMap { rows[$0 * width..<($0 + 1) * width] }
            return SeriesBlock(prefix: [], names: names, values: columnValues, rows: keptRows, samples: samples)
        }
    }

    /// With a roll-up and `add`, the label sets beyond the limit are summed into `other`.
    func grouped<T>(
        _ block: HistBlock, _ keyIndex: [String: Int], initial: () -> T, add: ((inout T, T) -> Void)? = nil,
        _ fold: (inout T, HistEntry) -> Void
    ) -> Groups<T> {
        var columns: [TableSeries.Column] = []
        let labels = labelKeys(keyIndex)
        let cgroupPositions = labels.filter { $0.label.decoder == .cgroup }.map(\.position)
        let cgroups = cgroupPositions.isEmpty ? nil
            : cgroupPaths.map { CgroupNames.resolving(block, positions: cgroupPositions, through: $0) } ?? CgroupNames([:])
        for (position, label) in labels {
            if label.decoder == .cgroup, let cgroups {
                columns.append(TableSeries.Column(name: label.name, keyPosition: position, source: .cgroup(.path, cgroups)))
                columns.append(TableSeries.Column(name: LabelMapping.podUIDLabel, keyPosition: position, source: .cgroup(.podUID, cgroups)))
                columns.append(TableSeries.Column(name: LabelMapping.containerIDLabel, keyPosition: position, source: .cgroup(.containerID, cgroups)))
                continue
            }
            columns.append(TableSeries.Column(name: label.name, keyPosition: position, source: .value(label.decoder)))
            if let pidName = label.pidLabel, block.triggerInfo.keys[position].keyKind == .execname {
                columns.append(TableSeries.Column(name: pidName, keyPosition: position, source: .pid))
            }
        }
        let rollingUp = rollUp != nil && add != nil
        let limit = rollingUp ? Int.max : mapping.seriesLimit
        var table = TableSeries(columns, expected: min(block.entries.count, limit))
        var values: [T] = []
        for entry in block.entries {
            guard let series = table.series(of: entry, limit: limit) else { continue }
            if series == values.count { values.append(initial()) }
            fold(&values[series], entry)
        }
        let order = table.sorted()
        var groups = Groups(names: table.names, columnValues: table.values, rows: table.rows(in: order),
                            values: order.map { values[$0] }, overLimit: table.overLimitCount, unnamedEntries: table.unnamedEntries)
        if rollingUp, let rollUp, let add { groups.rollUp(into: rollUp, limit: mapping.seriesLimit, add: add) }
        return groups
    }

    // MARK: Histograms

    struct HistogramAccumulator {
        var counts: [Double]
        var rawSum: Double = 0
        var count: Double = 0

        static func add(_ a: inout HistogramAccumulator, _ b: HistogramAccumulator) {
            for i in a.counts.indices where i < b.counts.count { a.counts[i] += b.counts[i] }
            a.rawSum += b.rawSum
            a.count += b.count
        }
    }

    func mapHistogram(_ block: HistBlock, _ keyIndex: [String: Int]) -> Output {
        guard let bucketKey = mapping.bucketKey, let bucketIndex = keyIndex[FieldSpec(name: bucketKey).canonicalName] else {
            return Output(families: [], seriesOverLimit: 0)
        }
        let kind = block.triggerInfo.keys[bucketIndex].keyKind
        let bounds = HistogramBounds(mapping: mapping, keyKind: kind)
        let sumColumn = mapping.sumValue
        let scale = mapping.scale
        var missing: String?
        let groups = grouped(
            block, keyIndex, initial: { HistogramAccumulator(counts: Array(repeating: 0, count: bounds.upperBounds.count + 1)) },
            add: HistogramAccumulator.add
        ) { acc, entry in
            guard bucketIndex < entry.keys.count else { return }
            guard let hitcount = entry.hitcount else {
                missing = missing ?? "hitcount"
                return
            }
            let hits = Double(hitcount)
            let slot = bounds.slot(for: entry.keys[bucketIndex].value)
            acc.counts[slot] += hits
            acc.count += hits
            // Sums stay in raw integer units (exact up to 2^53) and are scaled once.
            if let sumColumn {
                if let v = entry.values.first(where: { $0.name == sumColumn })?.reading.numeric {
                    acc.rawSum += v
                } else {
                    missing = missing ?? sumColumn
                }
            } else if let v = KeyLabels.number(entry.keys[bucketIndex].value) {
                acc.rawSum += v * hits
            }
        }
        let boundCount = bounds.upperBounds.count
        var cumulativeCounts: [Double] = []
        cumulativeCounts.reserveCapacity(groups.values.count * boundCount)
        var sums: [Double] = []
        sums.reserveCapacity(groups.values.count)
        var counts: [Double] = []
        counts.reserveCapacity(groups.values.count)
        for acc in groups.values {
            var cumulative = 0.0
            for i in 0..<boundCount {
                cumulative += acc.counts[i]
                cumulativeCounts.append(cumulative)
            }
            sums.append(scale.apply(acc.rawSum))
            counts.append(acc.count)
        }
        let samples = BlockSamples.histograms(upperBounds: bounds.upperBounds, cumulativeCounts: cumulativeCounts, sums: sums, counts: counts)
        let family = MetricFamily(name: mapping.name, help: mapping.help, type: .histogram, metrics: [], blocks: [groups.block(samples)])
        return Output(families: [family], seriesOverLimit: groups.overLimit, unnamedCgroupEntries: groups.unnamedEntries, missingColumn: missing)
    }

    // MARK: Counters and gauges

    func mapCounters(_ block: HistBlock, _ keyIndex: [String: Int]) -> Output {
        let columns = mapping.values
        var missing: String?
        let groups = grouped(
            block, keyIndex, initial: { Array(repeating: 0.0, count: columns.count) },
            add: { a, b in for i in a.indices where i < b.count { a[i] += b[i] } }
        ) { sums, entry in
            for (i, column) in columns.enumerated() {
                let raw: Double?
                if column.column == "hitcount" {
                    raw = entry.hitcount.map { Double($0) }
                } else {
                    raw = entry.values.first(where: { $0.name == column.column })?.reading.numeric
                }
                guard let raw else {
                    missing = missing ?? column.column
                    continue
                }
                sums[i] += raw
            }
        }
        let families = columns.enumerated().map { i, column in
            MetricFamily(
                name: column.familyName, help: column.help, type: .counter, metrics: [],
                blocks: [groups.block(.scalars(groups.values.map { column.scale.apply($0[i]) }))])
        }
        return Output(families: families, seriesOverLimit: groups.overLimit, unnamedCgroupEntries: groups.unnamedEntries, missingColumn: missing)
    }

    func mapGauge(_ block: HistBlock, _ keyIndex: [String: Int]) -> Output {
        let column = mapping.gaugeValue ?? "hitcount"
        let scale = mapping.scale
        let handler: HistActionLine.Handler? = column == "max" ? .max : column == "changed" ? .changed : nil
        let groups = grouped(block, keyIndex, initial: { Double?.none }) { value, entry in
            let reading: Double?
            if let handler {
                reading = entry.actions.first(where: { $0.handler == handler }).map { Double($0.value) }
            } else if column == "hitcount" {
                reading = entry.hitcount.map { Double($0) }
            } else {
                reading = entry.values.first(where: { $0.name == column })?.reading.numeric
            }
            guard let reading else { return }
            let scaled = scale.apply(reading)
            // Several entries folded into one label set: the largest max, the sum of sums.
            if handler != nil { value = max(value ?? scaled, scaled) } else { value = (value ?? 0) + scaled }
        }
        let kept = groups.values.indices.filter { groups.values[$0] != nil }
        let samples = BlockSamples.scalars(kept.map { groups.values[$0]! })
        let family = MetricFamily(name: mapping.name, help: mapping.help, type: .gauge, metrics: [], blocks: [groups.block(samples, kept: kept)])
        return Output(families: [family], seriesOverLimit: groups.overLimit, unnamedCgroupEntries: groups.unnamedEntries)
    }
}
