import HistFormat

/// Reads and checks a trigger's `metric:` block against the trigger it maps, so a
/// mapping that cannot be exact is refused at load time with the fix spelled out.
enum MetricMappingLoader {
    /// The default upper bounds of a `.log2` key, as exponents: 2^0 to 2^32 in raw units.
    static let defaultLog2Exponents = 0...32

    static func load(_ field: YAMLField, trigger: TriggerInfo) throws(ConfigError) -> MetricMapping {
        let m = try field.mapping(.metric)
        guard let nameField = m["name"] else { throw field.error("a metric needs a name") }
        let name = try nameField.string()
        guard isMetricName(name) else { throw nameField.error("'\(name)' is not a valid Prometheus metric name") }
        guard let helpField = m["help"] else { throw field.error("a metric needs help text") }
        let help = try helpField.string()
        guard let typeField = m["type"] else { throw field.error("a metric needs a type: histogram, counter or gauge") }
        let typeText = try typeField.string()
        guard let kind = MetricMapping.Kind(rawValue: typeText) else {
            throw typeField.error("type must be histogram, counter or gauge, got '\(typeText)'")
        }
        let seriesLimit = try m["series_limit"]?.int(minimum: 1) ?? ConfigLoader.defaultTableSeriesLimit
        var scale = Scale.one
        if let s = m["scale"] {
            let v = try s.double()
            guard v > 0 else { throw s.error("scale must be greater than 0") }
            scale = Scale(v)
        }

        var mapping = MetricMapping(
            name: name, help: help, kind: kind, labels: [], seriesLimit: seriesLimit, bucketKey: nil, scale: scale,
            sumValue: nil, buckets: nil, values: [], gaugeValue: nil)

        var labelNames: Set<String> = []
        for l in try m["labels"]?.sequence() ?? [] {
            let lm = try l.mapping(.label)
            guard let keyField = lm["key"] else { throw l.error("a label needs the key it comes from") }
            let key = try keyField.string()
            guard let spec = keySpec(key, in: trigger) else {
                throw keyField.error("'\(key)' is not a key of this trigger (keys: \(trigger.keys.map(\.name).joined(separator: ", ")))")
            }
            let labelName = try lm["name"]?.string() ?? defaultLabelName(spec)
            try checkLabelName(labelName, lm["name"] ?? keyField, &labelNames)
            var pidLabel: String?
            if let p = lm["pid_label"] {
                guard spec.keyKind == .execname else { throw p.error("pid_label applies to .execname keys only") }
                let pl = try p.string()
                try checkLabelName(pl, p, &labelNames)
                pidLabel = pl
            }
            var decoder: LabelDecoder?
            if let d = lm["decode"] {
                let text = try d.string()
                guard let value = LabelDecoder(rawValue: text) else {
                    throw d.error("decode must be one of \(LabelDecoder.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
                }
                guard spec.keyKind == .plain else { throw d.error("decode applies to plain numeric keys only") }
                if value == .cgroup {
                    try checkLabelName(LabelMapping.podUIDLabel, d, &labelNames)
                    try checkLabelName(LabelMapping.containerIDLabel, d, &labelNames)
                }
                decoder = value
            }
            mapping.labels.append(LabelMapping(key: spec.name, name: labelName, pidLabel: pidLabel, decoder: decoder))
        }

        switch kind {
        case .histogram:
            try loadHistogram(m, field, trigger, &mapping)
        case .counter:
            if name.hasSuffix("_total") {
                throw nameField.error("counter families get '_total' appended; name it '\(name.dropLast(6))'")
            }
            for forbidden in ["bucket_key", "sum_value", "buckets", "value"] where m[forbidden] != nil {
                throw m[forbidden]!.error("not used by counters")
            }
            try loadCounterValues(m["values"], field, trigger, &mapping)
        case .gauge:
            for forbidden in ["bucket_key", "sum_value", "buckets", "values"] where m[forbidden] != nil {
                throw m[forbidden]!.error("not used by gauges")
            }
            let value = try m["value"]?.string() ?? defaultGaugeValue(trigger)
            if value == "max" || value == "changed" {
                let handler = value == "max" ? "onmax(" : "onchange("
                guard trigger.actions.contains(where: { $0.hasPrefix(handler) }) else {
                    throw (m["value"] ?? field).error("'\(value)' needs an \(handler)...) action in the trigger")
                }
            } else if !trigger.printedValues.contains(where: { $0.name == value }) {
                throw (m["value"] ?? field).error("'\(value)' is not a value column of this trigger (\(columnList(trigger)))")
            }
            mapping.gaugeValue = value
        }
        return mapping
    }

    static func loadHistogram(
        _ m: [String: YAMLField], _ field: YAMLField, _ trigger: TriggerInfo, _ mapping: inout MetricMapping
    ) throws(ConfigError) {
        if let v = m["values"] { throw v.error("not used by histograms") }
        if let v = m["value"] { throw v.error("not used by histograms") }
        // Bucket counts are hitcounts: without them every bucket and _count would read 0.
        if trigger.noHitcount {
            throw (m["type"] ?? field).error("a histogram counts hits per bucket, and a nohitcount trigger has none: remove :nohitcount from the command")
        }
        guard let keyField = m["bucket_key"] else { throw field.error("a histogram needs bucket_key: the key holding the measured value") }
        let key = try keyField.string()
        guard let spec = keySpec(key, in: trigger) else {
            throw keyField.error("'\(key)' is not a key of this trigger (keys: \(trigger.keys.map(\.name).joined(separator: ", ")))")
        }
        if mapping.labels.contains(where: { $0.key == spec.name }) {
            throw keyField.error("the bucket key cannot also be a label")
        }
        let kind = spec.keyKind
        switch kind {
        case .plain, .log2, .buckets: break
        default: throw keyField.error("the bucket key must be numeric: plain, .log2 or .buckets=N")
        }
        mapping.bucketKey = spec.name

        if let s = m["sum_value"] {
            let column = try s.string()
            guard column != "hitcount", trigger.printedValues.contains(where: { $0.name == column && $0.modifiers.isEmpty }) else {
                throw s.error("'\(column)' is not a plain value column of this trigger (\(columnList(trigger))); the sum needs the raw field, e.g. vals=hitcount,\(spec.name)")
            }
            // The column sums its own field over the bucket's events; another field's sum
            // would make _sum / _count the mean of something else.
            guard FieldSpec(name: column).canonicalName == spec.canonicalName else {
                throw s.error("'\(column)' sums another field than the bucket key '\(spec.name)'; the _sum must be the bucket key's own: add it to the values (vals=hitcount,\(spec.name)) and set sum_value: \(spec.name)")
            }
            mapping.sumValue = column
        } else if kind != .plain {
            let modifier = kind == .log2 ? "log2" : "buckets"
            throw keyField.error(
                "a .\(modifier) key alone cannot give an exact _sum: add the raw field to the trigger's values (vals=hitcount,\(spec.name)) and set sum_value: \(spec.name)")
        }

        if let b = m["buckets"] {
            var bounds: [Double] = []
            for item in try b.sequence() {
                let v = try item.double()
                guard v > 0 else { throw item.error("bucket bounds must be greater than 0") }
                if let last = bounds.last, v <= last { throw item.error("bucket bounds must increase") }
                let raw = v / mapping.scale.factor
                switch kind {
                case .log2:
                    let exponent = raw.rounded() > 0 ? Double(Int(log2Exact(raw.rounded()) ?? -1)) : -1
                    if exponent < 0 || abs(raw - raw.rounded()) > 1e-6 * raw {
                        throw item.error("\(v) is not a .log2 bucket edge: each bound divided by scale must be a power of two (the kernel's buckets end at 2^k)")
                    }
                case .buckets(let n):
                    let r = raw.rounded()
                    // Kernel values are u64: a bound past them ends no bucket (nor converts to one).
                    guard abs(raw - r) <= 1e-6 * max(raw, 1), r < 0x1p64, let edge = UInt64(exactly: r), (edge + 1) % n == 0 else {
                        throw item.error("\(v) is not a .buckets=\(n) edge: each bound divided by scale must be k*\(n)-1 (the kernel's buckets end at k*\(n)-1)")
                    }
                default: break
                }
                bounds.append(v)
            }
            if bounds.isEmpty { throw b.error("give at least one bucket bound") }
            mapping.buckets = bounds
        } else if kind != .log2 {
            throw field.error("a histogram on a \(kind == .plain ? "plain" : ".buckets") key needs buckets: the upper bounds, in base units")
        }
    }

    static func loadCounterValues(
        _ valuesField: YAMLField?, _ field: YAMLField, _ trigger: TriggerInfo, _ mapping: inout MetricMapping
    ) throws(ConfigError) {
        let items = try valuesField?.sequence() ?? []
        if items.isEmpty {
            guard !trigger.noHitcount else { throw field.error("a nohitcount trigger needs values: the columns to export") }
            mapping.values = [ValueMapping(column: "hitcount", familyName: mapping.name, help: mapping.help, scale: .one)]
            return
        }
        for item in items {
            var column: String
            var suffix: String?
            var help: String?
            var scale = Scale.one
            if item.node.scalar != nil {
                column = try item.string()
            } else {
                let vm = try item.mapping(.counterValue)
                guard let c = vm["column"] else { throw item.error("a value needs its column") }
                column = try c.string()
                if let s = vm["suffix"] {
                    suffix = try s.string()
                    guard isIdentifier(suffix!) else { throw s.error("'\(suffix!)' is not a valid metric name part") }
                }
                if let h = vm["help"] { help = try h.string() }
                if let s = vm["scale"] {
                    let v = try s.double()
                    guard v > 0 else { throw s.error("scale must be greater than 0") }
                    scale = Scale(v)
                }
            }
            guard trigger.printedValues.contains(where: { $0.name == column && !$0.has("percent") && !$0.has("graph") })
                || (column == "hitcount" && !trigger.noHitcount)
            else {
                throw item.error("'\(column)' is not a numeric value column of this trigger (\(columnList(trigger)))")
            }
            let base = column == "hitcount" && suffix == nil ? mapping.name : "\(mapping.name)_\(suffix ?? column)"
            if mapping.values.contains(where: { $0.familyName == base }) { throw item.error("'\(base)_total' is exported twice") }
            // The hit count is what the mapping's help describes; another column's family says
            // which column it is.
            let defaultHelp = column == "hitcount" ? mapping.help : "\(mapping.help) (\(column))"
            mapping.values.append(ValueMapping(column: column, familyName: base, help: help ?? defaultHelp, scale: scale))
        }
    }

    static func defaultGaugeValue(_ trigger: TriggerInfo) -> String {
        if trigger.actions.contains(where: { $0.hasPrefix("onmax(") }) { return "max" }
        if trigger.actions.contains(where: { $0.hasPrefix("onchange(") }) { return "changed" }
        return "hitcount"
    }

    static func keySpec(_ key: String, in trigger: TriggerInfo) -> FieldSpec? {
        let wanted = FieldSpec(name: key)
        return trigger.keys.first { $0.name == key } ?? trigger.keys.first { $0.canonicalName == wanted.canonicalName }
    }

    static func defaultLabelName(_ spec: FieldSpec) -> String {
        switch spec.keyKind {
        case .execname: return "comm"
        case .syscall: return "syscall"
        case .stacktrace, .fieldStacktrace: return "stack"
        default: return sanitizeLabelName(spec.name == "common_cpu" ? "cpu" : spec.name)
        }
    }

    static func checkLabelName(_ name: String, _ field: YAMLField, _ seen: inout Set<String>) throws(ConfigError) {
        guard isIdentifier(name), !name.hasPrefix("__") else { throw field.error("'\(name)' is not a valid label name") }
        guard name != "le" else { throw field.error("'le' is reserved for histogram buckets") }
        // Prometheus sets these on every series it scrapes; ours would be renamed exported_*.
        guard name != "instance" && name != "job" else {
            throw field.error("'\(name)' is the label Prometheus sets on every target's series; choose another name")
        }
        guard seen.insert(name).inserted else { throw field.error("label '\(name)' is used twice") }
    }

    static func columnList(_ trigger: TriggerInfo) -> String {
        "values: " + trigger.printedValues.map(\.description).joined(separator: ", ")
    }
}

/// The exponent k when `v` is exactly 2^k.
func log2Exact(_ v: Double) -> Int? {
    guard v >= 1, v < 0x1p63 else { return nil }
    let n = UInt64(v)
    guard Double(n) == v, n & (n - 1) == 0 else { return nil }
    return n.trailingZeroBitCount
}

func isMetricName(_ s: String) -> Bool {
    guard let first = s.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
    return s.utf8.allSatisfy { isIdentifierByte($0) || $0 == UInt8(ascii: ":") }
}

/// A label name from a field or expression name (`bytes_alloc-bytes_req` -> `bytes_alloc_bytes_req`).
func sanitizeLabelName(_ s: String) -> String {
    var out = String(decoding: s.utf8.map { isIdentifierByte($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
    if let f = out.utf8.first, f >= 0x30 && f <= 0x39 { out = "_" + out }
    if out.hasPrefix("__") { out = "k" + out }
    return out.isEmpty ? "key" : out
}
