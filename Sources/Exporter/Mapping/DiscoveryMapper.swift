import Exposition
import HistFormat

/// Maps a table nobody configured into generic families, so every hist trigger on the
/// host is visible without writing a mapping first.
struct DiscoveryMapper {
    static let hitsFamily = "ftrace_hist_hits"
    static let valueFamily = "ftrace_hist_value"
    static let handlerFamily = "ftrace_hist_handler_value"
    static let reservedLabels: Set<String> = ["tracefs_instance", "system", "event", "table", "value", "handler", "trigger_set", "le"]

    let pidLabels: Bool

    struct Output {
        var hits: [Metric] = []
        var values: [Metric] = []
        var handlers: [Metric] = []
        var seriesOverLimit = 0
    }

    /// The label names for the table's keys, in key order (a pid label follows its comm).
    func keyLabelNames(_ info: TriggerInfo) -> [[String]] {
        var used = DiscoveryMapper.reservedLabels
        func unique(_ wanted: String) -> String {
            var name = wanted
            if DiscoveryMapper.reservedLabels.contains(name) { name = "key_" + name }
            var n = 2
            let base = name
            while used.contains(name) {
                name = "\(base)_\(n)"
                n += 1
            }
            used.insert(name)
            return name
        }
        return info.keys.map { spec in
            switch spec.keyKind {
            case .execname: return pidLabels ? [unique("comm"), unique("pid")] : [unique("comm")]
            case .syscall: return [unique("syscall")]
            case .stacktrace: return [unique("stack")]
            case .fieldStacktrace: return [unique(sanitizeLabelName(spec.name) + "_stack")]
            default: return [unique(sanitizeLabelName(spec.name))]
            }
        }
    }

    /// `remaining` is the discovery series budget shared by all discovered tables.
    ///
    /// Series are the distinct label sets of the entries, in first-seen order for the
    /// budget; they come out sorted by their key labels, the order `FamilyBuilder` sorts
    /// them in (every series of a table has the same label names at the same positions),
    /// so its stable sort finds them in order.
    func map(_ block: HistBlock, baseLabels: [Label], remaining: inout Int) -> Output {
        let names = keyLabelNames(block.triggerInfo)
        // The label values of an entry identify its series: the names are the table's.
        var index: [[String]: Int] = [:]
        index.reserveCapacity(min(block.entries.count, max(remaining, 0)))
        var seriesKeys: [[String]] = []
        var overLimit: Set<[String]> = []

        // Value columns by printed name, in first-seen order; sums and presence per
        // series, flat (series * columns.count + column).
        let columns = Self.valueColumns(block.entries)
        let width = columns.count
        var hits: [Double] = []
        var sums: [Double] = []
        var summed: [Bool] = []
        // Handlers: [changed, max] per series, the order their names sort in.
        var handlerValues: [Double] = []
        var handled: [Bool] = []

        var labelValues: [String] = []
        for entry in block.entries {
            labelValues.removeAll(keepingCapacity: true)
            for (i, key) in entry.keys.enumerated() where i < names.count {
                labelValues.append(KeyLabels.value(key.value))
                if names[i].count > 1, let pid = KeyLabels.pid(key.value) { labelValues.append(pid) }
            }
            let series: Int
            if let known = index[labelValues] {
                series = known
            } else {
                guard remaining > 0 else {
                    overLimit.insert(labelValues)
                    continue
                }
                remaining -= 1
                series = seriesKeys.count
                index[labelValues] = series
                seriesKeys.append(labelValues)
                hits.append(0)
                sums.append(contentsOf: repeatElement(0, count: width))
                summed.append(contentsOf: repeatElement(false, count: width))
                handlerValues.append(contentsOf: [0, 0])
                handled.append(contentsOf: [false, false])
            }
            hits[series] += Double(entry.hitcount ?? 0)
            for (position, value) in entry.values.enumerated() {
                guard let v = value.reading.numeric else { continue }
                let slot = series * width + Self.column(of: value.name, at: position, in: columns)
                sums[slot] += v
                summed[slot] = true
            }
            for action in entry.actions {
                let v = Double(action.value)
                let slot = series * 2 + (action.handler == .changed ? 0 : 1)
                handlerValues[slot] = handled[slot] ? max(handlerValues[slot], v) : v
                handled[slot] = true
            }
        }

        // The label names at each position, for building each series' labels once.
        var labelNames: [String] = []
        if let first = seriesKeys.first {
            var i = 0
            for group in names where i < first.count {
                labelNames.append(group[0])
                i += 1
                if group.count > 1 && i < first.count {
                    labelNames.append(group[1])
                    i += 1
                }
            }
        }
        let byName = columns.indices.sorted { columns[$0] < columns[$1] }
        var out = Output(seriesOverLimit: overLimit.count)
        let hasHitcount = !block.triggerInfo.noHitcount
        out.hits.reserveCapacity(hasHitcount ? seriesKeys.count : 0)
        for series in Self.sortedSeries(seriesKeys) {
            let key = seriesKeys[series]
            var labels = baseLabels
            labels.reserveCapacity(baseLabels.count + key.count + 1)
            for (i, value) in key.enumerated() { labels.append(Label(labelNames[i], value)) }
            if hasHitcount { out.hits.append(Metric(labels: labels, value: .counter(hits[series]))) }
            for column in byName where summed[series * width + column] {
                var valueLabels = labels
                valueLabels.append(Label("value", columns[column]))
                out.values.append(Metric(labels: valueLabels, value: .counter(sums[series * width + column])))
            }
            for (slot, handler) in [HistActionLine.Handler.changed, .max].enumerated() where handled[series * 2 + slot] {
                var handlerLabels = labels
                handlerLabels.append(Label("handler", handler.rawValue))
                out.handlers.append(Metric(labels: handlerLabels, value: .gauge(handlerValues[series * 2 + slot])))
            }
        }
        return out
    }

    /// The printed names of the value columns with a number, in first-seen order.
    static func valueColumns(_ entries: [HistEntry]) -> [String] {
        var columns: [String] = []
        for entry in entries {
            for (position, value) in entry.values.enumerated() where value.reading.numeric != nil {
                if position < columns.count && columns[position] == value.name { continue }
                if !columns.contains(value.name) { columns.append(value.name) }
            }
        }
        return columns
    }

    /// Entries print their values in the same order, so the column is usually the position.
    @inline(__always)
    static func column(of name: String, at position: Int, in columns: [String]) -> Int {
        if position < columns.count && columns[position] == name { return position }
        return columns.firstIndex(of: name)!
    }

    /// Series indices ordered by their label values, compared as `labelsPrecede` compares
    /// label values (the names being equal); no two series have the same values.
    static func sortedSeries(_ keys: [[String]]) -> [Int] {
        if keys.count < 2 { return Array(keys.indices) }
        // Sorting the keys themselves (with their index) compares them in place, without
        // fetching (and retaining) each key from the array per comparison.
        var pairs = Array(zip(keys, keys.indices))
        pairs.sort { lhs, rhs in
            for (u, v) in zip(lhs.0, rhs.0) where u != v { return u < v }
            return lhs.0.count < rhs.0.count
        }
        return pairs.map(\.1)
    }
}
