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
    func map(_ block: HistBlock, baseLabels: [Label], remaining: inout Int) -> Output {
        let names = keyLabelNames(block.triggerInfo)
        struct Totals {
            var hits: Double = 0
            var values: [String: Double] = [:]
            var handlers: [HistActionLine.Handler: Double] = [:]
        }
        var order: [[Label]] = []
        var totals: [[Label]: Totals] = [:]
        var overLimit: Set<[Label]> = []
        for entry in block.entries {
            var labels = baseLabels
            for (i, key) in entry.keys.enumerated() where i < names.count {
                labels.append(Label(names[i][0], KeyLabels.value(key.value)))
                if names[i].count > 1, let pid = KeyLabels.pid(key.value) { labels.append(Label(names[i][1], pid)) }
            }
            if totals[labels] == nil {
                guard remaining > 0 else {
                    overLimit.insert(labels)
                    continue
                }
                remaining -= 1
                order.append(labels)
                totals[labels] = Totals()
            }
            totals[labels]!.hits += Double(entry.hitcount ?? 0)
            for value in entry.values {
                guard let v = value.reading.numeric else { continue }
                totals[labels]!.values[value.name, default: 0] += v
            }
            for action in entry.actions {
                let v = Double(action.value)
                totals[labels]!.handlers[action.handler] = max(totals[labels]!.handlers[action.handler] ?? v, v)
            }
        }
        var out = Output(seriesOverLimit: overLimit.count)
        let hasHitcount = !block.triggerInfo.noHitcount
        for labels in order {
            let t = totals[labels]!
            if hasHitcount { out.hits.append(Metric(labels: labels, value: .counter(t.hits))) }
            for (name, v) in t.values.sorted(by: { $0.key < $1.key }) {
                out.values.append(Metric(labels: labels + [Label("value", name)], value: .counter(v)))
            }
            for (handler, v) in t.handlers.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                out.handlers.append(Metric(labels: labels + [Label("handler", handler.rawValue)], value: .gauge(v)))
            }
        }
        return out
    }
}
