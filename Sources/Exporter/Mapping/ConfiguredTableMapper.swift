import Exposition
import HistFormat

/// Maps one table to the families its `metric:` block asks for.
struct ConfiguredTableMapper {
    let mapping: MetricMapping

    struct Output {
        var families: [MetricFamily]
        /// Label sets left out because the table's series limit was reached.
        var seriesOverLimit: Int
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

    /// The labels of an entry, in the configured order.
    func labels(_ entry: HistEntry, _ labelKeys: [(position: Int, label: LabelMapping)]) -> [Label] {
        var labels: [Label] = []
        labels.reserveCapacity(labelKeys.count + 1)
        for (i, l) in labelKeys {
            guard i < entry.keys.count else { continue }
            let key = entry.keys[i].value
            labels.append(Label(l.name, KeyLabels.value(key, decoder: l.decoder)))
            if let pidName = l.pidLabel, let pid = KeyLabels.pid(key) { labels.append(Label(pidName, pid)) }
        }
        return labels
    }

    /// Groups entries by label set in first-seen order, keeping at most the limit.
    func grouped<T>(_ block: HistBlock, _ keyIndex: [String: Int], initial: () -> T, _ fold: (inout T, HistEntry) -> Void)
        -> (groups: [([Label], T)], overLimit: Int)
    {
        var index: [[Label]: Int] = [:]
        var groups: [([Label], T)] = []
        var overLimit: Set<[Label]> = []
        let labelKeys = labelKeys(keyIndex)
        for entry in block.entries {
            let ls = labels(entry, labelKeys)
            if let i = index[ls] {
                fold(&groups[i].1, entry)
            } else if groups.count < mapping.seriesLimit {
                index[ls] = groups.count
                var value = initial()
                fold(&value, entry)
                groups.append((ls, value))
            } else {
                overLimit.insert(ls)
            }
        }
        return (groups, overLimit.count)
    }

    // MARK: Histograms

    struct HistogramAccumulator {
        var counts: [Double]
        var rawSum: Double = 0
        var count: Double = 0
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
        let (groups, over) = grouped(block, keyIndex, initial: { HistogramAccumulator(counts: Array(repeating: 0, count: bounds.upperBounds.count + 1)) }) { acc, entry in
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
        var metrics: [Metric] = []
        metrics.reserveCapacity(groups.count)
        for (labels, acc) in groups {
            var cumulative = 0.0
            var buckets: [HistogramBucket] = []
            buckets.reserveCapacity(bounds.upperBounds.count)
            for (i, le) in bounds.upperBounds.enumerated() {
                cumulative += acc.counts[i]
                buckets.append(HistogramBucket(upperBound: le, cumulativeCount: cumulative))
            }
            metrics.append(Metric(labels: labels, value: .histogram(buckets: buckets, sum: scale.apply(acc.rawSum), count: acc.count)))
        }
        let family = MetricFamily(name: mapping.name, help: mapping.help, type: .histogram, metrics: metrics)
        return Output(families: [family], seriesOverLimit: over, missingColumn: missing)
    }

    // MARK: Counters and gauges

    func mapCounters(_ block: HistBlock, _ keyIndex: [String: Int]) -> Output {
        let columns = mapping.values
        var missing: String?
        let (groups, over) = grouped(block, keyIndex, initial: { Array(repeating: 0.0, count: columns.count) }) { sums, entry in
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
                name: column.familyName, help: column.help, type: .counter,
                metrics: groups.map { Metric(labels: $0.0, value: .counter(column.scale.apply($0.1[i]))) })
        }
        return Output(families: families, seriesOverLimit: over, missingColumn: missing)
    }

    func mapGauge(_ block: HistBlock, _ keyIndex: [String: Int]) -> Output {
        let column = mapping.gaugeValue ?? "hitcount"
        let scale = mapping.scale
        let handler: HistActionLine.Handler? = column == "max" ? .max : column == "changed" ? .changed : nil
        let (groups, over) = grouped(block, keyIndex, initial: { Double?.none }) { value, entry in
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
        let metrics = groups.compactMap { labels, value in value.map { Metric(labels: labels, value: .gauge($0)) } }
        let family = MetricFamily(name: mapping.name, help: mapping.help, type: .gauge, metrics: metrics)
        return Output(families: [family], seriesOverLimit: over)
    }
}
