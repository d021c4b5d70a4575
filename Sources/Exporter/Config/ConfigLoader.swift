import HistFormat
import TraceFS
import YAML

/// Turns YAML text into a validated `ExporterConfig`, or the first problem found.
public enum ConfigLoader {
    public static let defaultInstance = "ftrace_exporter"
    public static let defaultRefreshInterval = 5.0
    public static let defaultDiscoverySeriesLimit = 10_000
    public static let defaultTableSeriesLimit = 10_000
    /// The kernel rejects a trigger write of a page or more.
    static let maximumCommandBytes = 4095

    public static func load(yaml: String, file: String) throws(ConfigError) -> ExporterConfig {
        let root: YAMLNode?
        do throws(YAMLError) {
            root = try YAMLDocument.parse(yaml)
        } catch {
            throw yamlSyntaxError(error, file: file)
        }
        guard let root else {
            // No document at all (an empty file, or only comments) is more likely a truncated
            // copy than a wish for no trigger sets.
            throw ConfigError(file: file, line: nil, column: nil, field: "", message: YAMLField.expectedMapping(ConfigSection.top.keys))
        }
        return try load(YAMLField(node: root, path: "", file: file))
    }

    package static func yamlSyntaxError(_ error: YAMLError, file: String) -> ConfigError {
        let line = error.mark?.line
        let column = error.mark?.column
        switch error.kind {
        case .syntax, .undefinedAlias, .moreThanOneDocument:
            return ConfigError(file: file, line: line, column: column, field: "", message: "YAML syntax: \(error.reason)")
        case .duplicateKey(let key, let first):
            // A repetition on a line of its own is where the mistake is; on the first key's
            // line, that line says it all.
            if first.line != line {
                return ConfigError(file: file, line: line, column: column, field: "",
                                   message: "YAML: '\(key)' is given twice in the same mapping (first on line \(first.line)); a later value would silently replace the first, so remove one")
            }
            return ConfigError(file: file, line: first.line, column: first.column, field: "",
                               message: "YAML: '\(key)' is given twice in the mapping starting here; remove one")
        case .tooLarge, .tooDeep, .outOfMemory:
            return ConfigError(file: file, line: line, column: column, field: "", message: "YAML: \(error.reason)")
        }
    }

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

        var cgroupMount = ExporterConfig.defaultCgroupMount
        if let c = top["cgroup_mount"] {
            cgroupMount = try c.string()
            guard cgroupMount.hasPrefix("/"), cgroupMount.utf8.count <= 4096 else {
                throw c.error("cgroup_mount must be an absolute path, such as /sys/fs/cgroup (got '\(cgroupMount.prefix(80))')")
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
            if let s = m["stack_labels"] { discovery.stackLabels = try s.bool() }
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
        // Keyed by value: interpolating the identity into a string went through reflection,
        // a third of the start-up's CPU with the built-in configuration.
        var triggerOwners: [TriggerOwnerKey: String] = [:]
        var seenNames: Set<String> = []
        var familyOwners: [String: String] = [:]
        var syntheticOwners: [String: String] = [:]
        var probeOwners: [EventName: String] = [:]
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
            for p in set.probeEvents {
                if let other = probeOwners[p.event] {
                    throw setField.error("probe event '\(p.event)' is also defined by trigger set '\(other)'; probe events are global, give each a unique name")
                }
                probeOwners[p.event] = set.name
            }
            for (index, trigger) in set.triggers.enumerated() {
                let key = TriggerOwnerKey(event: trigger.event, identity: trigger.info.identity)
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
            rotation: rotation, cgroupMount: cgroupMount, triggerSets: sets)
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

    /// A set's `probe_events` or `synthetic_events`: each checked by its syntax, none named
    /// twice (the kernel would refuse the second with EEXIST).
    static func loadDynamicEvents<Definition>(
        _ list: YAMLField?, kind: String, parse: (String) -> Result<Definition, SyntaxProblem>, name: (Definition) -> String
    ) throws(ConfigError) -> [Definition] {
        var definitions: [Definition] = []
        for item in try list?.sequence() ?? [] {
            let text = try item.string()
            switch parse(text) {
            case .success(let definition):
                if definitions.contains(where: { name($0) == name(definition) }) {
                    throw item.error("\(kind) '\(name(definition))' is defined twice; the kernel would refuse the second (EEXIST)")
                }
                definitions.append(definition)
            case .failure(let problem):
                throw item.error("\(problem.message) (got '\(text)')")
            }
        }
        return definitions
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
        var maxDuration: Double?
        if let field = m["max_duration"] {
            let text = try field.string()
            guard let seconds = parseDuration(text), seconds > 0, seconds <= InstallDuration.longest else {
                throw field.error("max_duration must be a duration from 1s to 30d, such as 15m or 1h (got '\(text)')")
            }
            maxDuration = seconds
        }
        let breaker = try m["breaker"].map(loadBreaker)

        let probes = try loadDynamicEvents(m["probe_events"], kind: "probe event", parse: ProbeEventSyntax.parse, name: { $0.event.description })
        let synthetic = try loadDynamicEvents(m["synthetic_events"], kind: "synthetic event", parse: { text in
            SyntheticEventSyntax.parse(text).map { SyntheticEventDefinition(name: $0.name, text: text) }
        }, name: { $0.name })

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
            name: name, description: description, installOnStart: installOnStart, probeEvents: probes, syntheticEvents: synthetic, triggers: triggers,
            maxDuration: maxDuration, breaker: breaker)
    }

    static func loadBreaker(_ field: YAMLField) throws(ConfigError) -> BreakerConfig {
        let m = try field.mapping(.breaker)
        guard let budgetField = m["max_events_per_second"] else {
            throw field.error("a breaker needs max_events_per_second, the most events a second any table of the set may count")
        }
        let budget = try budgetField.double()
        guard budget > 0, budget <= BreakerConfig.largestBudget else {
            throw budgetField.error("max_events_per_second must be above 0 and at most 1e12 (got \(budget))")
        }
        var breaker = BreakerConfig(maxEventsPerSecond: budget)
        if let f = m["for"] {
            let text = try f.string()
            guard let seconds = parseDuration(text), seconds <= BreakerConfig.longestSustained else {
                throw f.error("for must be a duration from 0s to 1d, such as 30s (got '\(text)')")
            }
            breaker.sustained = seconds
        }
        if let a = m["action"] {
            let text = try a.string()
            guard let action = BreakerConfig.Action(rawValue: text) else {
                throw a.error("action must be pause or remove (got '\(text)')")
            }
            breaker.action = action
        }
        return breaker
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

/// A trigger as the kernel tells triggers apart on one event: two sets holding the same one
/// would remove each other's.
private struct TriggerOwnerKey: Hashable {
    let event: EventName
    let identity: TriggerInfo.Identity
}
