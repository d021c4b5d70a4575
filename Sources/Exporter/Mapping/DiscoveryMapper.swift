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
    /// Stack keys as a folded-stack label; without it the key is left out and a table's
    /// entries that differ only in their stack are summed into one series.
    let stackLabels: Bool

    init(pidLabels: Bool, stackLabels: Bool = false) {
        self.pidLabels = pidLabels
        self.stackLabels = stackLabels
    }

    struct Output {
        var hits: [SeriesBlock] = []
        var values: [SeriesBlock] = []
        var handlers: [SeriesBlock] = []
        var seriesOverLimit = 0
    }

    /// The label names for the table's keys, in key order (a pid label follows its comm; a
    /// stack key left out has none).
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
            case .stacktrace: return stackLabels ? [unique("stack")] : []
            case .fieldStacktrace: return stackLabels ? [unique(sanitizeLabelName(spec.name) + "_stack")] : []
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
        var columns: [TableSeries.Column] = []
        for (position, group) in keyLabelNames(block.triggerInfo).enumerated() where !group.isEmpty {
            columns.append(TableSeries.Column(name: group[0], keyPosition: position, source: .value(nil)))
            if group.count > 1 { columns.append(TableSeries.Column(name: group[1], keyPosition: position, source: .pid)) }
        }
        var table = TableSeries(columns, expected: min(block.entries.count, max(remaining, 0)))

        // Value columns by printed name, in first-seen order; sums and presence per
        // series, flat (series * columns.count + column).
        let valueColumns = Self.valueColumns(block.entries)
        let width = valueColumns.count
        var hits: [Double] = []
        var sums: [Double] = []
        var summed: [Bool] = []
        // Handlers: [changed, max] per series, the order their names sort in.
        var handlerValues: [Double] = []
        var handled: [Bool] = []

        let budget = table.count + max(remaining, 0)
        for entry in block.entries {
            guard let series = table.series(of: entry, limit: budget) else { continue }
            if series == hits.count {
                hits.append(0)
                sums.append(contentsOf: repeatElement(0, count: width))
                summed.append(contentsOf: repeatElement(false, count: width))
                handlerValues.append(contentsOf: [0, 0])
                handled.append(contentsOf: [false, false])
            }
            hits[series] += Double(entry.hitcount ?? 0)
            for (position, value) in entry.values.enumerated() {
                guard let v = value.reading.numeric else { continue }
                let slot = series * width + Self.column(of: value.name, at: position, in: valueColumns)
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
        remaining -= table.count

        // The series in label order; a series' value and handler samples follow it in the
        // order of the `value` and `handler` label, the last.
        let byName = valueColumns.indices.sorted { valueColumns[$0] < valueColumns[$1] }
        let order = table.sorted()
        let rows = table.rows(in: order)
        let keyWidth = table.names.count
        var out = Output(seriesOverLimit: table.overLimitCount)
        if !block.triggerInfo.noHitcount {
            out.hits = [SeriesBlock(prefix: baseLabels, names: table.names, values: table.values, rows: rows, samples: .scalars(order.map { hits[$0] }))]
        }
        var valueRows: [Int32] = []
        var valueSamples: [Double] = []
        var handlerRows: [Int32] = []
        var handlerSamples: [Double] = []
        for (position, series) in order.enumerated() {
            let keyRow = rows[position * keyWidth..<(position + 1) * keyWidth]
            for (valueID, column) in byName.enumerated() where summed[series * width + column] {
                valueRows += keyRow
                valueRows.append(Int32(valueID))
                valueSamples.append(sums[series * width + column])
            }
            for slot in 0..<2 where handled[series * 2 + slot] {
                handlerRows += keyRow
                handlerRows.append(Int32(slot))
                handlerSamples.append(handlerValues[series * 2 + slot])
            }
        }
        if !valueSamples.isEmpty {
            out.values = [SeriesBlock(prefix: baseLabels, names: table.names + ["value"], values: table.values + [byName.map { valueColumns[$0] }],
                                      rows: valueRows, samples: .scalars(valueSamples))]
        }
        if !handlerSamples.isEmpty {
            let handlers = [HistActionLine.Handler.changed, .max].map(\.rawValue)
            out.handlers = [SeriesBlock(prefix: baseLabels, names: table.names + ["handler"], values: table.values + [handlers],
                                        rows: handlerRows, samples: .scalars(handlerSamples))]
        }
        return out
    }

    /// The printed names of the value columns with a number, in first-seen order.
    static func valueColumns(_ entries: HistEntries) -> [String] {
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
}
