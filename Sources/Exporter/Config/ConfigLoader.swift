import HistFormat
import TraceFS
import Yams

/// Turns YAML text into a validated `ExporterConfig`, or the first problem found.
public enum ConfigLoader {
    public static let defaultInstance = "ftrace_exporter"
    public static let defaultRefreshInterval = 5.0
    public static let defaultDiscoverySeriesLimit = 10_000
    public static let defaultTableSeriesLimit = 10_000
    /// The kernel rejects a trigger write of a page or more.
    static let maximumCommandBytes = 4095

    public static func load(yaml: String, file: String) throws(ConfigError) -> ExporterConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw yamlSyntaxError(error, yaml: yaml, file: file)
        } catch {
            throw ConfigError(file: file, line: nil, column: nil, field: "", message: "cannot read YAML: \(error)")
        }
        guard let root else { return try load(YAMLField(node: Node(""), path: "", file: file)) }
        return try load(YAMLField(node: root, path: "", file: file))
    }

    package static func yamlSyntaxError(_ error: YamlError, yaml: String, file: String) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            let (line, column) = placeInside(yaml, line: mark.line, column: mark.column)
            return ConfigError(file: file, line: line, column: column, field: "", message: "YAML syntax: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the first of the keys; the mistake is the repetition.
            let key = duplicates.first ?? ""
            let first = context.mark
            if let again = repeatedKeyPlace(yaml, key: key, first: (first.line, first.column)) {
                return ConfigError(file: file, line: again.line, column: again.column, field: "",
                                   message: "YAML: '\(key)' is given twice in the same mapping (first on line \(first.line)); a later value would silently replace the first, so remove one")
            }
            return ConfigError(file: file, line: first.line, column: first.column, field: "",
                               message: "YAML: '\(key)' is given twice in the mapping starting here; remove one")
        default:
            return ConfigError(file: file, line: nil, column: nil, field: "", message: "YAML syntax: \(error)")
        }
    }

    /// Where a block mapping whose key `key` sits at `first` (line, column) repeats it: the
    /// next line at the same indent holding `key:`, before the mapping ends. Nil for flow
    /// mappings and anything less plain.
    static func repeatedKeyPlace(_ yaml: String, key: String, first: (line: Int, column: Int)) -> (line: Int, column: Int)? {
        let indent = first.column - 1
        let lines = yamlLines(yaml)
        guard first.line >= 1, first.line <= lines.count, !key.isEmpty else { return nil }
        let spellings = [key, "\"\(key)\"", "'\(key)'"]
        for index in first.line..<lines.count {
            let line = lines[index]
            let leading = line.prefix { $0 == " " }.count
            let content = line.dropFirst(leading)
            if content.isEmpty || content.first == "#" { continue }
            if leading < indent { return nil }
            guard leading == indent else { continue }
            for spelling in spellings where content.starts(with: spelling.unicodeScalars) {
                let rest = content.dropFirst(spelling.unicodeScalars.count).drop { $0 == " " }
                if rest.first == ":" { return (index + 1, first.column) }
            }
        }
        return nil
    }

    /// The lines of the text as libyaml counts them (see `yamlLineLengths`), as scalars.
    static func yamlLines(_ yaml: String) -> [[Unicode.Scalar]] {
        var lines: [[Unicode.Scalar]] = []
        var line: [Unicode.Scalar] = []
        var afterCR = false
        for scalar in yaml.unicodeScalars {
            defer { afterCR = scalar == "\r" }
            switch scalar {
            case "\n" where afterCR:
                continue
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                lines.append(line)
                line = []
            default:
                line.append(scalar)
            }
        }
        lines.append(line)
        return lines
    }

    /// libyaml ends a last line that lacks its line break before reporting the end of the text,
    /// so a problem found there is marked on the line after the last; it belongs at the end of
    /// the last line.
    static func placeInside(_ yaml: String, line: Int, column: Int) -> (line: Int, column: Int) {
        let lengths = yamlLineLengths(yaml)
        guard line > lengths.count, let last = lengths.last else { return (line, column) }
        return (lengths.count, last + 1)
    }

    /// The length of each line in characters, with lines broken where YAML breaks them (and
    /// libyaml counts them): LF, CRLF, a lone CR, NEL, LS and PS.
    static func yamlLineLengths(_ yaml: String) -> [Int] { yamlLines(yaml).map(\.count) }

    static func load(_ root: YAMLField) throws(ConfigError) -> ExporterConfig {
        let top = try root.mapping(.top)

        var path = ""
        var instance = defaultInstance
        if let tracefs = top["tracefs"] {
            let t = try tracefs.mapping(.tracefs)
            if let p = t["path"] { path = try p.string() }
            if let i = t["instance"] {
                instance = try i.string()
                if !instance.isEmpty && !isSafeName(instance) {
                    throw i.error("instance names may hold letters, digits, '_' and '-' only (got '\(instance)')")
                }
            }
        }

        var refresh = defaultRefreshInterval
        if let r = top["refresh_interval"] {
            let text = try r.string()
            guard let seconds = parseDuration(text) else {
                throw r.error("'\(text)' is not a duration (examples: 5s, 500ms, 1m; 0 refreshes on every scrape)")
            }
            refresh = seconds
        }

        var discovery = DiscoveryConfig(enabled: true, seriesLimit: defaultDiscoverySeriesLimit, pidLabels: false, rescanInterval: 30)
        if let d = top["discovery"] {
            let m = try d.mapping(.discovery)
            if let r = m["rescan_interval"] {
                let text = try r.string()
                guard let seconds = parseDuration(text) else { throw r.error("'\(text)' is not a duration (examples: 30s, 1m; 0 scans on every refresh)") }
                discovery.rescanInterval = seconds
            }
            if let e = m["enabled"] { discovery.enabled = try e.bool() }
            if let s = m["series_limit"] { discovery.seriesLimit = try s.int(minimum: 1) }
            if let p = m["pid_labels"] { discovery.pidLabels = try p.bool() }
        }

        var lifecycle = LifecycleConfig(onStart: .adopt, removeOnExit: true)
        if let l = top["lifecycle"] {
            let m = try l.mapping(.lifecycle)
            if let r = m["repair"] { lifecycle.repair = try r.bool() }
            if let o = m["on_start"] {
                let text = try o.string()
                guard let value = LifecycleConfig.OnStart(rawValue: text) else { throw o.error("must be adopt or clean, got '\(text)'") }
                lifecycle.onStart = value
            }
            if let r = m["remove_on_exit"] { lifecycle.removeOnExit = try r.bool() }
        }

        var rotation = RotationConfig()
        if let r = top["rotation"] {
            let m = try r.mapping(.rotation)
            if let e = m["enabled"] { rotation.enabled = try e.bool() }
            if let h = m["high_water_mark"] {
                let text = try h.string()
                guard let mark = Double(text), mark > 0, mark <= 1 else {
                    throw h.error("'\(text)' is not a fraction of a table's size; give a number above 0 and at most 1, e.g. 0.5")
                }
                rotation.highWaterMark = mark
            }
            if let c = m["check_interval"] {
                let text = try c.string()
                guard let seconds = parseDuration(text), seconds >= Rotator.shortestCheckInterval else {
                    throw c.error("'\(text)' is not a duration of \(formatDuration(Rotator.shortestCheckInterval)) or more (examples: 1s, 500ms)")
                }
                rotation.checkInterval = seconds
            }
        }

        var sets: [TriggerSet] = []
        var triggerOwners: [String: String] = [:]
        var seenNames: Set<String> = []
        var familyOwners: [String: String] = [:]
        var syntheticOwners: [String: String] = [:]
        for setField in try top["trigger_sets"]?.sequence() ?? [] {
            let set = try loadTriggerSet(setField)
            let nameField = try setField.mapping(.triggerSet)["name"] ?? setField
            guard seenNames.insert(set.name).inserted else { throw nameField.error("trigger set '\(set.name)' is defined twice") }
            for s in set.syntheticEvents {
                if let other = syntheticOwners[s.name] {
                    throw setField.error("synthetic event '\(s.name)' is also defined by trigger set '\(other)'; synthetic events are global, give each a unique name")
                }
                syntheticOwners[s.name] = set.name
            }
            for (index, trigger) in set.triggers.enumerated() {
                let key = "\(trigger.event) \(trigger.info.identity)"
                if let other = triggerOwners[key] {
                    let field = (try? setField.mapping(.triggerSet)["triggers"]?.sequence()[index]) ?? setField
                    throw field.error("the same trigger on \(trigger.event) is also in trigger set '\(other)'; the kernel holds it once (EEXIST), so one set would remove the other's")
                }
                triggerOwners[key] = set.name
                guard let metric = trigger.metric else { continue }
                for (valueIndex, family) in familyNames(metric).enumerated() {
                    let place = familyField(setField, trigger: index, metric: metric, value: valueIndex)
                    if let other = familyOwners[family] {
                        throw place.error("metric '\(family)' is also produced by \(other); each family needs one source")
                    }
                    familyOwners[family] = "\(place.path) (trigger set '\(set.name)')"
                }
            }
            sets.append(set)
        }
        return ExporterConfig(
            tracefsPath: path, instance: instance, refreshInterval: Seconds(refresh), discovery: discovery, lifecycle: lifecycle,
            rotation: rotation, triggerSets: sets)
    }

    /// The field that names a family: the metric's name, or for a counter column with its
    /// own suffix, that column's item.
    static func familyField(_ setField: YAMLField, trigger: Int, metric: MetricMapping, value: Int) -> YAMLField {
        guard let triggerField = try? setField.mapping(.triggerSet)["triggers"]?.sequence()[trigger],
              let metricField = try? triggerField.mapping(.trigger)["metric"],
              let m = try? metricField.mapping(.metric)
        else { return setField }
        if metric.kind == .counter, metric.values.indices.contains(value), metric.values[value].familyName != metric.name,
           let item = try? m["values"]?.sequence()[value] {
            return item
        }
        return m["name"] ?? metricField
    }

    static func loadTriggerSet(_ field: YAMLField) throws(ConfigError) -> TriggerSet {
        let m = try field.mapping(.triggerSet)
        guard let nameField = m["name"] else { throw field.error("a trigger set needs a name") }
        let name = try nameField.string()
        guard isSafeName(name) else {
            throw nameField.error("trigger set names may hold letters, digits, '_' and '-' only (got '\(name)')")
        }
        let description = try m["description"]?.string() ?? ""
        let installOnStart = try m["install_on_start"]?.bool() ?? false

        var synthetic: [SyntheticEventDefinition] = []
        for s in try m["synthetic_events"]?.sequence() ?? [] {
            let text = try s.string()
            switch SyntheticEventSyntax.parse(text) {
            case .success(let definition):
                if synthetic.contains(where: { $0.name == definition.name }) {
                    throw s.error("synthetic event '\(definition.name)' is defined twice; the kernel would refuse the second (EEXIST)")
                }
                synthetic.append(SyntheticEventDefinition(name: definition.name, text: text))
            case .failure(let problem):
                throw s.error("\(problem.message) (got '\(text)')")
            }
        }

        let triggerFields = try m["triggers"]?.sequence() ?? []
        if triggerFields.isEmpty { throw (m["triggers"] ?? field).error("a trigger set needs at least one trigger") }
        var triggers: [TriggerDefinition] = []
        var seen: Set<String> = []
        for t in triggerFields {
            let trigger = try loadTrigger(t)
            guard seen.insert("\(trigger.event) \(trigger.command)").inserted else {
                throw t.error("the same trigger is listed twice; the kernel would refuse the second with EEXIST")
            }
            triggers.append(trigger)
        }
        return TriggerSet(
            name: name, description: description, installOnStart: installOnStart, syntheticEvents: synthetic, triggers: triggers)
    }

    static func loadTrigger(_ field: YAMLField) throws(ConfigError) -> TriggerDefinition {
        let m = try field.mapping(.trigger)
        guard let eventField = m["event"] else { throw field.error("a trigger needs an event (system/event)") }
        let eventText = try eventField.string()
        guard let event = EventName(eventText), isSafeName(event.system), isSafeName(event.event) else {
            throw eventField.error("'\(eventText)' is not an event; write it as system/event, e.g. sched/sched_switch")
        }
        guard let commandField = m["command"] else { throw field.error("a trigger needs a command (hist:...)") }
        let command = try commandField.string()
        if command.contains("\n") { throw commandField.error("one command per trigger: the kernel keeps only the last line of a multi-line write") }
        if command.utf8.count > maximumCommandBytes { throw commandField.error("longer than the kernel accepts in one write (\(maximumCommandBytes) bytes)") }
        if command.hasPrefix("!") { throw commandField.error("commands install triggers; removal is derived from them") }
        let info: TriggerInfo
        do {
            info = try TriggerInfo.parse(command)
        } catch {
            throw commandField.error(error.kindDescription)
        }
        if !info.controls.isEmpty {
            throw commandField.error("'\(info.controls[0])' is an action of the admin API, not part of a trigger")
        }
        if command != command.trimmingBlanks() {
            throw commandField.error("leading or trailing spaces would make the removal text differ from the read-back")
        }
        if let problem = kernelLimitProblem(info) { throw commandField.error(problem) }
        var metric: MetricMapping?
        if let metricField = m["metric"] { metric = try MetricMappingLoader.load(metricField, trigger: info) }
        return TriggerDefinition(event: event, command: command, info: info, metric: metric)
    }

    /// Why the kernel would refuse the trigger (hist-format.md §2.3, §2.6, §4), checked here
    /// because several of these refusals leave nothing in `error_log`.
    static func kernelLimitProblem(_ info: TriggerInfo) -> String? {
        if let size = info.size, !TableSize.accepted.contains(size) {
            return "size=\(size): the kernel takes \(TableSize.accepted.lowerBound) to \(TableSize.accepted.upperBound) (rounded up to a power of two, 128 to 131072 entries) and refuses anything else with EINVAL, leaving nothing in error_log"
        }
        for (word, fields) in [("keys", info.keys), ("vals", info.values), ("sort", info.sort)] where fields.contains(where: { $0.name.isEmpty }) {
            return "\(word)= has an empty field (a ',' too many); the kernel refuses it with EINVAL"
        }
        if let filter = info.filter, !FilterSyntax.isValid(filter) {
            return "the filter 'if \(filter)' is not of the form 'field op value' joined by && or || (with ! and parentheses); the kernel refuses it with EINVAL and logs nothing"
        }
        if info.keys.count > 3 {
            return "\(info.keys.count) keys; the kernel allows at most 3 (TRACING_MAP_KEYS_MAX, a stacktrace key counts) and refuses more with EINVAL"
        }
        // The first plain `hitcount` is the implicit column; anything else takes a slot.
        var values = info.values
        if let hitcount = values.firstIndex(where: { $0.name == "hitcount" && $0.modifiers.isEmpty }) { values.remove(at: hitcount) }
        if values.count > 2 {
            return "\(values.count) values besides hitcount; the kernel allows at most 2 (TRACING_MAP_VALS_MAX) and refuses more with EINVAL"
        }
        if info.sort.count > 2 {
            return "\(info.sort.count) sort keys; the kernel allows at most 2 ('Too many sort fields (Max = 2)')"
        }
        for sort in info.sort {
            // The kernel splits a sort key at its first '.', and takes only a direction after it.
            let text = sort.description
            let name = String(text.prefix { $0 != "." })
            let modifier = text.dropFirst(name.count + 1)
            if !modifier.isEmpty && modifier != "descending" && modifier != "ascending" {
                return "sort key '\(text)': only .descending or .ascending may follow a sort key ('Invalid sort modifier'); write sort=\(name) or sort=\(name).descending"
            }
            if name == "hitcount" || !isIdentifier(name) { continue }
            let sortable = (info.keys + info.values).map { spec in
                FieldSpec(name: spec.name.hasPrefix("$") ? String(spec.name.dropFirst()) : spec.name).canonicalName
            }
            if !sortable.contains(FieldSpec(name: name).canonicalName) {
                let choices = (["hitcount"] + (info.keys + info.values).map(\.name)).joined(separator: ", ")
                return "sort key '\(name)' is neither a key nor a value of this trigger ('Sort field must be a key or a val'); sort by one of: \(choices)"
            }
        }
        return nil
    }

    static func familyNames(_ metric: MetricMapping) -> [String] {
        switch metric.kind {
        case .histogram, .gauge: return [metric.name]
        case .counter: return metric.values.map(\.familyName)
        }
    }
}

extension HistParseError {
    /// The reason alone, for messages that give their own place.
    var kindDescription: String {
        switch kind {
        case .invalidTriggerInfo(let reason): return "not a valid hist trigger: \(reason)"
        default: return description
        }
    }
}

/// Names that are safe as path components and in trigger text.
func isSafeName(_ s: String) -> Bool {
    !s.isEmpty && s.utf8.count <= 128 && s != "." && s != ".."
        && s.utf8.allSatisfy { isIdentifierByte($0) || $0 == UInt8(ascii: "-") }
}

func isIdentifier(_ s: String) -> Bool {
    guard let first = s.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
    return s.utf8.allSatisfy(isIdentifierByte)
}
