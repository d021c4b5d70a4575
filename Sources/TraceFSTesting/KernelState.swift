#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HistFormat
import TraceFS

/// A registered hist trigger (`struct event_trigger_data` of ETT_EVENT_HIST).
struct HistTrigger: Sendable {
    let id: Int
    let event: EventName
    /// The command as this trigger parsed it. A member that joined a named group prints
    /// and matches by the group's data instead (`data->private_data = named_data->private_data`).
    var compiled: CompiledHist
    var filter: String?
    var paused: Bool
    var tableID: Int
    /// False for a named member that joined an existing group: `create_actions()` is skipped.
    var ownsActions: Bool
    var actionReferences: Set<Int> = []
    var actionSynthetics: [String] = []

    var groupName: String? { compiled.nameToken }

    /// Triggers whose variables this one reads.
    var references: Set<Int> { compiled.fieldReferences.union(actionReferences) }

    /// `save_hist_vars()`: such a hist pins its trace array, so `rmdir` gives EBUSY.
    var pinsInstance: Bool {
        !compiled.variables.isEmpty || !references.isEmpty || (ownsActions && !compiled.actions.isEmpty)
    }
}

/// traceon, traceoff, snapshot, stacktrace, enable_event, disable_event, enable_hist, disable_hist.
struct PlainTrigger: Sendable {
    var command: String
    /// `trigger_type`: traceon and traceoff share one, so do enable/disable pairs.
    var kind: String
    var target: EventName?
    var count: Int?
    var filter: String?

    /// `event_trigger_print()` / `event_enable_trigger_print()`.
    var readBack: String {
        var text = command
        if let target { text += ":\(target.system):\(target.event)" }
        text += count.map { ":count=\($0)" } ?? ":unlimited"
        if let filter { text += " if \(filter)" }
        return text
    }
}

struct InstanceState: Sendable {
    var hists: [EventName: [HistTrigger]] = [:]
    /// Newest first, as `list_add_rcu()` leaves them.
    var plainTriggers: [EventName: [PlainTrigger]] = [:]
    var enabled: Set<EventName> = []
    var errorLog = ErrorLog()
    var clock = "local"
}

struct HistTable: Sendable {
    var entries: [String] = []
    var hits: UInt64 = 0
    var dropped: UInt64 = 0
}

struct NamedGroup: Sendable {
    var compiled: CompiledHist
    var tableID: Int
}

/// Everything the fake kernel knows; mutated only under the owner's lock.
struct KernelState: Sendable {
    static let clocks = ["local", "global", "counter", "uptime", "perf", "mono", "mono_raw", "boot", "tai", "x86-tsc"]

    var features: FakeKernelTraceFS.Features
    var formats: [EventName: String] = [:]
    var fieldCache: [EventName: [EventFormat.Field]] = [:]
    var synthetics: [SyntheticEvent] = []
    var probes: [ProbeEvent] = []
    var instances: [TraceInstance: InstanceState] = [.topLevel: InstanceState()]
    var tables: [Int: HistTable] = [:]
    var groups: [String: NamedGroup] = [:]
    var nextID = 1
    var nextEventID = 1392
    var microseconds: UInt64 = 42_060_433

    init(features: FakeKernelTraceFS.Features) {
        self.features = features
    }

    // MARK: lookups

    mutating func addEvent(_ event: EventName, format: String) {
        formats[event] = format
        fieldCache[event] = EventFormat.parse(format).fields
    }

    func synthetic(named name: String) -> SyntheticEvent? {
        guard features.syntheticEvents else { return nil }
        return synthetics.first { $0.name == name }
    }

    func eventExists(_ event: EventName, in instance: TraceInstance) -> Bool {
        guard instances[instance] != nil else { return false }
        if formats[event] != nil { return true }
        if probes.contains(where: { $0.event == event }) { return true }
        return event.system == "synthetic" && synthetic(named: event.event) != nil
    }

    /// Every event of an instance: the same set everywhere, synthetic events included.
    func allEvents() -> [EventName] {
        var all = Array(formats.keys)
        if features.syntheticEvents {
            all += synthetics.map { EventName(system: "synthetic", event: $0.name) }
        }
        all += probes.map(\.event)
        return all.sorted()
    }

    func format(of event: EventName) -> String? {
        if let f = formats[event] { return f }
        if event.system == "synthetic", let s = synthetic(named: event.event) { return s.format }
        return probes.first { $0.event == event }?.format
    }

    func fields(of event: EventName) -> [EventFormat.Field]? {
        if let cached = fieldCache[event] { return cached }
        return format(of: event).map { EventFormat.parse($0).fields }
    }

    func histTriggers(on event: EventName, in instance: TraceInstance) -> [HistTrigger] {
        instances[instance]?.hists[event] ?? []
    }

    /// `tr->hist_vars`, newest first.
    func histTriggersWithVariables(in instance: TraceInstance) -> [HistTrigger] {
        (instances[instance]?.hists.values.flatMap { $0 } ?? []).filter(\.pinsInstance).sorted { $0.id > $1.id }
    }

    func layout(of trigger: HistTrigger) -> CompiledHist {
        if let name = trigger.groupName, let group = groups[name] { return group.compiled }
        return trigger.compiled
    }

    func readBack(of trigger: HistTrigger) -> String {
        layout(of: trigger).readBackBody + (trigger.filter.map { " if \($0)" } ?? "")
            + (trigger.paused ? " [paused]" : " [active]")
    }

    func isReferenced(_ trigger: HistTrigger, in instance: TraceInstance) -> Bool {
        guard let state = instances[instance] else { return false }
        return state.hists.values.joined().contains { $0.id != trigger.id && $0.references.contains(trigger.id) }
    }

    /// `se->ref` plus the enable state: hists on the event, actions generating it, or enabled.
    func isSyntheticBusy(_ name: String) -> Bool {
        let event = EventName(system: "synthetic", event: name)
        for state in instances.values {
            if state.enabled.contains(event) || !(state.hists[event] ?? []).isEmpty { return true }
            for trigger in state.hists.values.joined() where trigger.ownsActions && trigger.actionSynthetics.contains(name) {
                return true
            }
        }
        return false
    }

    // MARK: error_log

    mutating func log(_ message: String, position: Int, command: String, location: String, in instance: TraceInstance) {
        guard features.errorLog, instances[instance] != nil else { return }
        instances[instance]!.errorLog.add(ErrorLogEntry(
            microseconds: microseconds, location: location, message: message, command: command, position: position))
        microseconds += 6_537
    }

    // MARK: trigger files

    /// `event_trigger_regex_write()` and `trigger_process_regex()`: one command per write,
    /// stripped, `!` to remove, the command word ending at `:`, space or tab.
    mutating func writeTrigger(_ text: String, event: EventName, instance: TraceInstance) throws(KernelFailure) {
        if text.utf8.count >= 4096 { throw KernelFailure(EINVAL) }
        let buffer = text.kernelStripped
        let remove = buffer.hasPrefix("!")
        let body = remove ? String(buffer.dropFirst()) : buffer
        let separator = body.firstIndex { $0 == ":" || $0 == " " || $0 == "\t" }
        let word = separator.map { String(body[..<$0]) } ?? body
        var param = separator.map { String(body[body.index(after: $0)...].drop { $0 == " " || $0 == "\t" }) }
        if param?.isEmpty == true { param = nil }
        switch word {
        case "hist" where features.histTriggers:
            try writeHist(param, remove: remove, event: event, instance: instance)
        case "traceon", "traceoff", "snapshot", "stacktrace", "enable_event", "disable_event":
            try writePlain(word, param, remove: remove, event: event, instance: instance)
        case "enable_hist" where features.histTriggers, "disable_hist" where features.histTriggers:
            try writePlain(word, param, remove: remove, event: event, instance: instance)
        default:
            throw KernelFailure(EINVAL)
        }
    }

    /// `event_hist_trigger_parse()`.
    mutating func writeHist(_ param: String?, remove: Bool, event: EventName, instance: TraceInstance) throws(KernelFailure) {
        guard let param else { throw KernelFailure(EINVAL) }
        let command = "hist:" + param
        let location = "hist:\(event.system):\(event.event)"
        let fields = self.fields(of: event) ?? []
        var compiler = HistCompiler(
            state: self, instance: instance, event: event, fields: fields, command: command, remove: remove)
        do throws(KernelFailure) {
            var (parameters, filter) = try HistCompiler.splitFilter(param)
            // The kernel hides '-' of sym-offset from the expression parser the same way.
            parameters = parameters.replacing(".sym-offset", with: ".symXoffset")
            let attrs = try compiler.parseAttributes(parameters)
            let hist = try compiler.compile(attrs)
            if let filter, !FilterSyntax.isValid(filter, fields: Set(fields.map(\.name))) { throw KernelFailure(EINVAL) }
            if remove {
                try removeHist(hist, filter: filter, event: event, instance: instance)
            } else if !updateExisting(hist, filter: filter, event: event, instance: instance) {
                try register(hist, filter: filter, event: event, instance: instance, compiler: &compiler)
            }
        } catch {
            for entry in compiler.logs {
                log(entry.message, position: entry.position, command: command, location: location, in: instance)
            }
            throw error
        }
    }

    /// `hist_trigger_match()`: a named command only matches members of its group, an
    /// unnamed one never matches a named trigger; size, clock and pause are not compared.
    func matches(_ hist: CompiledHist, filter: String?, _ test: HistTrigger, group: String?, ignoreFilter: Bool) -> Bool {
        if let group {
            guard test.groupName == group else { return false }
        } else if test.groupName != nil {
            return false
        }
        guard Self.sameLayout(hist, layout(of: test)) else { return false }
        return ignoreFilter || filter == test.filter
    }

    static func sameLayout(_ a: CompiledHist, _ b: CompiledHist) -> Bool {
        a.layout == b.layout && a.sortKeys == b.sortKeys && a.actionIdentity == b.actionIdentity
    }

    private func existingGroup(for hist: CompiledHist) -> String? {
        guard let name = hist.nameToken, groups[name] != nil else { return nil }
        return name
    }

    /// Removal: the first match goes; no match is a silent success; EBUSY (no log) while
    /// another hist reads its variables.
    private mutating func removeHist(_ hist: CompiledHist, filter: String?, event: EventName, instance: TraceInstance) throws(KernelFailure) {
        let group = existingGroup(for: hist)
        let list = histTriggers(on: event, in: instance)
        guard let index = list.firstIndex(where: { matches(hist, filter: filter, $0, group: group, ignoreFilter: false) }) else {
            return
        }
        if isReferenced(list[index], in: instance) { throw KernelFailure(EBUSY) }
        removeHistTrigger(id: list[index].id, event: event, instance: instance)
    }

    /// `existing_hist_update_only()`: `:pause`, `:cont` and `:clear` act on a matching trigger.
    private mutating func updateExisting(_ hist: CompiledHist, filter: String?, event: EventName, instance: TraceInstance) -> Bool {
        guard hist.pause || hist.cont || hist.clear else { return false }
        var group: String?
        if let name = hist.nameToken {
            guard let existing = groups[name], Self.sameLayout(hist, existing.compiled) else { return false }
            group = name
        }
        let list = histTriggers(on: event, in: instance)
        guard let index = list.firstIndex(where: { matches(hist, filter: filter, $0, group: group, ignoreFilter: false) }) else {
            return false
        }
        if hist.pause {
            instances[instance]!.hists[event]![index].paused = true
        } else if hist.cont {
            instances[instance]!.hists[event]![index].paused = false
        } else {
            tables[list[index].tableID] = HistTable()
        }
        return true
    }

    /// `hist_register_trigger()`, then `create_actions()` for a trigger that owns its data.
    private mutating func register(
        _ hist: CompiledHist, filter: String?, event: EventName, instance: TraceInstance, compiler: inout HistCompiler
    ) throws(KernelFailure) {
        var group: String?
        if let name = hist.nameToken, let existing = groups[name] {
            guard Self.sameLayout(hist, existing.compiled) else {
                compiler.log("Named hist trigger doesn't match existing named trigger (includes variables)", at: name)
                throw KernelFailure(EINVAL)
            }
            group = name
        }
        if hist.nameToken == nil || group != nil {
            if histTriggers(on: event, in: instance).contains(where: { matches(hist, filter: filter, $0, group: group, ignoreFilter: false) }) {
                compiler.log("Hist trigger already exists", at: nil)
                throw KernelFailure(EEXIST)
            }
        }
        if hist.cont || hist.clear {
            compiler.log("Can't clear or continue a nonexistent hist trigger", at: nil)
            throw KernelFailure(ENOENT)
        }
        if hist.usesTimestamp {
            guard Self.clocks.contains(hist.clock) else {
                compiler.log("Couldn't set trace_clock", at: hist.clock)
                throw KernelFailure(EINVAL)
            }
            // tracing_set_clock() is never undone, not even when the trigger goes away.
            instances[instance]!.clock = hist.clock
        }
        let id = nextID
        nextID += 1
        var trigger = HistTrigger(
            id: id, event: event, compiled: hist, filter: filter, paused: hist.pause, tableID: id, ownsActions: group == nil)
        if let group {
            trigger.tableID = groups[group]!.tableID
        } else {
            let result = try compiler.createActions(hist)
            trigger.actionReferences = result.references
            trigger.actionSynthetics = result.syntheticEvents
            tables[id] = HistTable()
            if let name = hist.nameToken { groups[name] = NamedGroup(compiled: hist, tableID: id) }
        }
        instances[instance]!.hists[event, default: []].append(trigger)
    }

    mutating func removeHistTrigger(id: Int, event: EventName, instance: TraceInstance) {
        guard let index = instances[instance]?.hists[event]?.firstIndex(where: { $0.id == id }) else { return }
        let trigger = instances[instance]!.hists[event]!.remove(at: index)
        if instances[instance]!.hists[event]!.isEmpty { instances[instance]!.hists[event] = nil }
        let stillUsed = instances.values.contains { $0.hists.values.joined().contains { $0.tableID == trigger.tableID } }
        if !stillUsed {
            tables[trigger.tableID] = nil
            if let name = trigger.groupName { groups[name] = nil }
        }
    }

    /// `O_TRUNC` on a trigger file: every hist (unless one of them is referenced, then none)
    /// and every enable_hist/disable_hist trigger goes; the other kinds stay.
    mutating func truncateTrigger(event: EventName, instance: TraceInstance) {
        let hists = histTriggers(on: event, in: instance)
        if !hists.contains(where: { isReferenced($0, in: instance) }) {
            for trigger in hists { removeHistTrigger(id: trigger.id, event: event, instance: instance) }
        }
        instances[instance]?.plainTriggers[event]?.removeAll { $0.kind == "hist_enable" }
    }

    /// The non-hist commands: one per kind (and target) per event, `[:count]`, `[if filter]`.
    private mutating func writePlain(_ word: String, _ param: String?, remove: Bool, event: EventName, instance: TraceInstance) throws(KernelFailure) {
        let kind: String
        switch word {
        case "traceon", "traceoff": kind = "onoff"
        case "enable_event", "disable_event": kind = "enable"
        case "enable_hist", "disable_hist": kind = "hist_enable"
        default: kind = word
        }
        var text = param ?? ""
        var filter: String?
        if let r = text.firstRange(of: " if ") ?? (text.hasPrefix("if ") ? text.firstRange(of: "if ") : nil) {
            filter = String(text[r.upperBound...]).kernelStripped
            text = String(text[..<r.lowerBound]).kernelStripped
            if filter!.isEmpty || !FilterSyntax.isValid(filter!, fields: Set((fields(of: event) ?? []).map(\.name))) {
                throw KernelFailure(EINVAL)
            }
        }
        var target: EventName?
        var countText: String?
        if kind == "enable" || kind == "hist_enable" {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 || parts.count == 3 else { throw KernelFailure(EINVAL) }
            let t = EventName(system: parts[0], event: parts[1])
            guard eventExists(t, in: instance) else { throw KernelFailure(EINVAL) }
            target = t
            countText = parts.count == 3 ? parts[2] : nil
        } else if !text.isEmpty {
            countText = text
        }
        var count: Int?
        if let countText {
            guard let n = parseKernelUnsigned(countText) else { throw KernelFailure(EINVAL) }
            count = Int(clamping: n)
        }
        var list = instances[instance]!.plainTriggers[event] ?? []
        let same = list.firstIndex { $0.kind == kind && $0.target == target }
        if remove {
            if let same { list.remove(at: same) }
        } else {
            if same != nil { throw KernelFailure(EEXIST) }
            list.insert(PlainTrigger(command: word, kind: kind, target: target, count: count, filter: filter), at: 0)
        }
        instances[instance]!.plainTriggers[event] = list.isEmpty ? nil : list
    }

    // MARK: synthetic_events

    /// `trace_parse_run_command()`: line by line, `#` comments, the first error stops.
    mutating func writeSynthetic(_ text: String) throws(KernelFailure) {
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let command = line.kernelTrimmed
            if command.isEmpty { continue }
            if command.utf8.count > 4094 { throw KernelFailure(EINVAL) }
            var parser = SyntheticParser(command: command)
            do throws(KernelFailure) {
                let names = Set(synthetics.map(\.name))
                switch try parser.parse(existing: { names.contains($0) }, nextID: nextEventID) {
                case .remove(let name):
                    guard synthetics.contains(where: { $0.name == name }) else { throw KernelFailure(ENOENT) }
                    if isSyntheticBusy(name) { throw KernelFailure(EBUSY) }
                    deleteSynthetic(name)
                case .create(let event):
                    synthetics.append(event)
                    nextEventID += 1
                }
            } catch {
                for entry in parser.logs {
                    log(entry.message, position: entry.position, command: command, location: "synthetic_events", in: .topLevel)
                }
                throw error
            }
        }
    }

    /// `dynamic_events` (or `kprobe_events`, `kprobeOnly`): `s:[synthetic/]name fields`,
    /// probes (`p:`, `r:`, and `f:`, `t:` where the kernel has fprobes) and `-:[group/]name`.
    /// Event probes (`e:`) are not modelled and give EINVAL.
    mutating func writeDynamic(_ text: String, kprobeOnly: Bool = false) throws(KernelFailure) {
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            var command = line.kernelTrimmed
            if command.isEmpty { continue }
            let remove = command.hasPrefix("-:")
            if remove, try removeProbe(command.dropFirst(2)) { continue }
            if remove && kprobeOnly { throw KernelFailure(ENOENT) }
            if !remove && !command.hasPrefix("s:") {
                try writeProbe(command, kprobeOnly: kprobeOnly)
                continue
            }
            if kprobeOnly { throw KernelFailure(EINVAL) }
            command.removeFirst(2)
            if command.hasPrefix("synthetic/") { command.removeFirst("synthetic/".count) }
            try writeSynthetic(remove ? "!" + command : command)
        }
    }

    /// `O_TRUNC` on synthetic_events deletes them all, or (EBUSY) none.
    mutating func truncateSynthetic() throws(KernelFailure) {
        if synthetics.contains(where: { isSyntheticBusy($0.name) }) { throw KernelFailure(EBUSY) }
        for s in synthetics { deleteSynthetic(s.name) }
    }

    private mutating func deleteSynthetic(_ name: String) {
        synthetics.removeAll { $0.name == name }
        let event = EventName(system: "synthetic", event: name)
        for key in instances.keys {
            instances[key]!.plainTriggers[event] = nil
            instances[key]!.enabled.remove(event)
        }
    }

    // MARK: instances

    mutating func removeInstance(_ name: String) throws(KernelFailure) {
        let instance = TraceInstance.named(name)
        guard let state = instances[instance] else { throw KernelFailure(ENOENT) }
        if state.hists.values.joined().contains(where: \.pinsInstance) { throw KernelFailure(EBUSY) }
        for (event, list) in state.hists {
            for trigger in list { removeHistTrigger(id: trigger.id, event: event, instance: instance) }
        }
        instances[instance] = nil
    }

    // MARK: rendering

    func triggerFile(event: EventName, instance: TraceInstance) -> String {
        let plain = instances[instance]?.plainTriggers[event] ?? []
        let hists = histTriggers(on: event, in: instance)
        if plain.isEmpty && hists.isEmpty {
            return "# Available triggers:\n# traceon traceoff snapshot stacktrace enable_event disable_event"
                + (features.histTriggers ? " enable_hist disable_hist hist" : "") + "\n"
        }
        return plain.map { $0.readBack + "\n" }.joined() + hists.map { readBack(of: $0) + "\n" }.joined()
    }

    /// `hist_show()`: one block per hist trigger, separated by an empty line.
    func histFile(event: EventName, instance: TraceInstance) -> String {
        histTriggers(on: event, in: instance).map { trigger in
            let table = tables[trigger.tableID] ?? HistTable()
            var block = "# event histogram\n#\n# trigger info: \(readBack(of: trigger))\n#\n\n"
            for entry in table.entries { block += entry.hasSuffix("\n") ? entry : entry + "\n" }
            block += "\nTotals:\n    Hits: \(table.hits)\n    Entries: \(table.entries.count)\n    Dropped: \(table.dropped)\n"
            return block
        }.joined(separator: "\n\n")
    }

    func enableFile(event: EventName, instance: TraceInstance) -> String {
        let state = instances[instance]
        let enabled = state?.enabled.contains(event) ?? false
        let soft = !(state?.hists[event] ?? []).isEmpty || !(state?.plainTriggers[event] ?? []).isEmpty
        return (enabled ? "1" : "0") + (soft ? "*" : "") + "\n"
    }

    func traceClockFile(instance: TraceInstance) -> String {
        let current = instances[instance]?.clock ?? "local"
        return Self.clocks.map { $0 == current ? "[\($0)]" : $0 }.joined(separator: " ") + "\n"
    }

    func readme() -> String {
        var lines: [Substring] = []
        for part in KernelText.readme {
            switch part.feature {
            case nil: break
            case .errorLog: if !features.errorLog { continue }
            case .syntheticEvents: if !features.syntheticEvents { continue }
            case .histTriggers: if !features.histTriggers { continue }
            case .kprobeEvents: if !features.kprobeEvents { continue }
            }
            lines.append(part.line)
            if features.fprobeEvents && part.line.hasPrefix("\t           r[maxactive][:[<group>/][<event>]]") {
                lines += KernelText.fprobeReadmeLines.map { Substring($0) }
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }
}

