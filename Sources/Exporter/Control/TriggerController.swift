import HistFormat
import Locking
import Logging
import Platform
import TraceFS

/// Installs, removes and controls allow-listed trigger sets, and reads back their state.
///
/// Every write is one `append` of text taken from the configuration, never from a
/// request; every write is confirmed by reading the file back, because the kernel reports
/// success for removals that matched nothing. Actions are serialised.
public final class TriggerController: @unchecked Sendable {
    public enum SetControl: String, Sendable, CaseIterable {
        case clear, pause
        case `continue` = "cont"
    }

    package let fs: any TraceFileSystem
    let logger: Logger
    private let state: Locked<ExporterConfig>
    let actionLock = Lock()
    /// Sets this process installed or adopted: what SIGTERM removes.
    let owned = Locked<Set<String>>([])
    /// When each set's bookkeeping tables were last appended empty (installed or rotated), in
    /// monotonic nanoseconds: the start of their fill.
    let emptied = Locked<[String: UInt64]>([:])
    /// When each time-boxed set is to be removed.
    public let deadlines: SetDeadlines
    let wallClock: @Sendable () -> Double

    public init(
        fs: any TraceFileSystem, config: ExporterConfig, logger: Logger, deadlines: SetDeadlines = SetDeadlines(path: nil),
        wallClock: @escaping @Sendable () -> Double = wallClockSeconds
    ) {
        self.fs = fs
        self.logger = logger
        self.state = Locked(config)
        self.deadlines = deadlines
        self.wallClock = wallClock
    }

    public var config: ExporterConfig { state.withLock { $0 } }

    /// Swaps in a reloaded configuration. Refused while it would drop or change a set this
    /// process has in the kernel, or move the instance under it: removing those triggers needs
    /// the exact text that was written, so the old definitions stay until the set is removed.
    public func replaceConfig(_ fresh: ExporterConfig) throws(ReloadConflict) {
        try actionLock.withLock { () throws(ReloadConflict) in
            let conflicts = ReloadConflict.find(current: config, fresh: fresh, owned: ownedSets)
            if !conflicts.isEmpty { throw ReloadConflict(reasons: conflicts) }
            state.withLock { $0 = fresh }
            shortenDeadlinesToMaxDuration()
        }
    }

    var instance: TraceInstance { config.traceInstance }

    // MARK: Reading state

    public func status(of name: String) throws(ControlError) -> TriggerSetStatus {
        guard let set = config.triggerSet(named: name) else { throw ControlError(.unknownSet(name)) }
        return whileNoActionRuns { status(set) }
    }

    public func statuses() -> [TriggerSetStatus] { whileNoActionRuns { config.triggerSets.map(status) } }

    /// Runs `body` while no install or removal is writing. Reading an event's `trigger` or
    /// `hist` file while that event is being deleted (a synthetic event removed) crashes
    /// Linux 6.1 in trigger_start() (seen under the VM scenarios), so every read of tracefs
    /// the exporter makes is kept apart from its own removals.
    public func whileNoActionRuns<T>(_ body: () -> T) -> T {
        actionLock.withLock { body() }
    }

    /// The set as found, for showing: a file that cannot be read shows as absent.
    func status(_ set: TriggerSet) -> TriggerSetStatus {
        status(set, lines: histTriggerLines, definedSynthetic: syntheticEventNames(),
               definedProbes: set.probeEvents.isEmpty ? [] : probeEventNames())
    }

    /// The set as found, for an action to decide on: a file that cannot be read (other than
    /// one that is not there) fails the action instead of passing for absent, so that a
    /// removal never answers success while the triggers stay.
    func confirmedStatus(_ set: TriggerSet) throws(ControlError) -> TriggerSetStatus {
        do throws(TraceFSError) {
            var lines: [EventName: [TriggerFile.Line]] = [:]
            for trigger in set.triggers where lines[trigger.event] == nil {
                lines[trigger.event] = try readHistTriggerLines(trigger.event)
            }
            return status(set, lines: { lines[$0] ?? [] }, definedSynthetic: try readSyntheticEventNames(),
                          definedProbes: set.probeEvents.isEmpty ? [] : try readProbeEventNames())
        } catch {
            throw ControlError(.unreadable(error))
        }
    }

    private func status(
        _ set: TriggerSet, lines histTriggerLines: (EventName) -> [TriggerFile.Line], definedSynthetic: Set<String>, definedProbes: Set<EventName>
    ) -> TriggerSetStatus {
        let config = self.config
        var ownedIdentities: [EventName: [TriggerInfo.Identity]] = [:]
        for s in config.triggerSets {
            for t in s.triggers { ownedIdentities[t.event, default: []].append(t.info.identity) }
        }
        var triggers: [TriggerSetStatus.Trigger] = []
        var foreign: [String] = []
        var seenEvents: Set<EventName> = []
        for t in set.triggers {
            let lines = histTriggerLines(t.event)
            let match = lines.first { $0.hist?.identity == t.info.identity }
            triggers.append(TriggerSetStatus.Trigger(
                event: t.event, command: t.command, present: match != nil,
                paused: match?.hist?.state == .paused, readBack: match?.text))
            if seenEvents.insert(t.event).inserted {
                for line in lines where !(ownedIdentities[t.event] ?? []).contains(where: { $0 == line.hist?.identity }) {
                    foreign.append(line.text)
                }
            }
        }
        let synthetic = set.syntheticEvents.map { TriggerSetStatus.SyntheticEvent(name: $0.name, present: definedSynthetic.contains($0.name)) }
        let probes = set.probeEvents.map {
            TriggerSetStatus.ProbeEvent(event: $0.event, kind: $0.kind.rawValue, present: definedProbes.contains($0.event))
        }
        let present = triggers.filter(\.present).count + synthetic.filter(\.present).count + probes.filter(\.present).count
        let total = triggers.count + synthetic.count + probes.count
        let state: TriggerSetStatus.State
        if !foreign.isEmpty && present > 0 {
            state = .drifted
        } else if present == 0 {
            state = foreign.isEmpty ? .absent : .drifted
        } else {
            state = present == total ? .installed : .partial
        }
        return TriggerSetStatus(
            name: set.name, state: state, triggers: triggers, probeEvents: probes, syntheticEvents: synthetic, foreignTriggers: foreign)
    }

    // MARK: Install

    /// Installs the set; idempotent. On any failure, undoes what this call did, in reverse.
    /// `duration`: seconds until the set is removed again; nil takes the set's `max_duration`,
    /// or none. Installing an installed set sets its deadline anew.
    @discardableResult
    public func install(_ name: String, for duration: Double? = nil) throws(ControlError) -> TriggerSetStatus {
        guard let set = config.triggerSet(named: name) else { throw ControlError(.unknownSet(name)) }
        try requireFeatures(for: set)
        let lasting = try Self.installDuration(duration, of: set)
        return try actionLock.withLock { () throws(ControlError) in
            try install(set, until: lasting.map { wallClock() + $0 })
        }
    }

    func requireFeatures(for set: TriggerSet) throws(ControlError) {
        if let reason = unsupportedReason(for: set) {
            throw ControlError(.featureMissing("trigger set '\(set.name)' cannot be used on this kernel: \(reason)"))
        }
    }

    /// Why this kernel cannot run the set, or nil: checked before any write, so a preset
    /// written for another kernel fails with the missing piece named instead of a bare ENOENT.
    public func unsupportedReason(for set: TriggerSet, features known: TraceFeatures? = nil) -> String? {
        if let refusal = fs.writeRefusal { return refusal }
        guard fs.exists("events") else {
            return "tracefs is not available at \(fs.root): mount it (mount -t tracefs nodev /sys/kernel/tracing)"
        }
        let features = known ?? fs.features()
        if !features.histTriggers {
            return "this kernel has no hist triggers: it was built without CONFIG_HIST_TRIGGERS"
        }
        if !set.syntheticEvents.isEmpty && !features.syntheticEvents {
            return "this kernel has no synthetic events: it was built without CONFIG_SYNTH_EVENTS"
        }
        // Stacks in synthetic events came in 6.3, `common_stacktrace` (the variable that holds
        // one) in 6.5: the README's mention of the latter stands for both.
        if !features.commonStacktrace {
            if set.syntheticEvents.contains(where: \.carriesStack) {
                return "this kernel cannot carry a stack into a synthetic event (6.5 or later: 'common_stacktrace' variables and 'long[]' fields)"
            }
            if set.triggers.contains(where: \.info.namesCommonStacktrace) {
                return "this kernel names the stack key 'stacktrace': 'common_stacktrace' is 6.5 or later"
            }
        }
        for probe in set.probeEvents {
            if let missing = Self.missingProbeSupport(probe.kind, features) { return missing }
        }
        if !set.probeEvents.isEmpty && !fs.exists(InstallPlan.probeFile) && !fs.exists(InstallPlan.legacyProbeFile) {
            return "this kernel offers neither dynamic_events nor kprobe_events to define probe events in"
        }
        let definedHere = Set(set.syntheticEvents.map(\.name))
        let probesHere = Set(set.probeEvents.map(\.event))
        var checked: Set<EventName> = []
        for trigger in set.triggers where checked.insert(trigger.event).inserted {
            if trigger.event.system == "synthetic" && definedHere.contains(trigger.event.event) { continue }
            if probesHere.contains(trigger.event) { continue }
            if !fs.exists("events/\(trigger.event.system)/\(trigger.event.event)") {
                return "this kernel has no event \(trigger.event): its tracepoint is not built in (a CONFIG option is off) or has another name here"
            }
        }
        return nil
    }

    /// Why the kernel cannot define a probe of this kind, or nil.
    static func missingProbeSupport(_ kind: ProbeEventDefinition.Kind, _ features: TraceFeatures) -> String? {
        switch kind {
        case .kprobe, .kretprobe:
            return features.kprobeEvents ? nil : "this kernel has no kprobe events: it was built without CONFIG_KPROBE_EVENTS"
        case .fprobe:
            return features.fprobeEvents
                ? nil : "this kernel has no fprobe events ('f:', 6.5+ with CONFIG_FPROBE_EVENTS): use a kprobe ('p:') and a kretprobe ('r:') instead"
        case .tracepointProbe:
            return features.tracepointProbes
                ? nil : "this kernel has no tracepoint probes ('t:', 6.5+ with CONFIG_FPROBE_EVENTS): trigger on the tracepoint itself"
        }
    }

    public var ownedSets: Set<String> { owned.withLock { $0 } }

    /// When the set's bookkeeping tables were last installed or rotated, empty, by this process.
    public func bookkeepingEmptied(_ name: String) -> UInt64? { emptied.withLock { $0[name] } }

    func install(_ set: TriggerSet) throws(ControlError) -> TriggerSetStatus {
        let before = try confirmedStatus(set)
        if before.state == .installed {
            owned.withLock { _ = $0.insert(set.name) }
            return before
        }
        var done: [PlannedWrite] = []
        do throws(ControlError) {
            if case .named(let name) = instance, !fs.exists("instances/\(name)") {
                let write = PlannedWrite(path: "instances/\(name)", action: .makeInstance)
                do {
                    try fs.makeDirectory(write.path)
                    done.append(write)
                } catch where error.isAlreadyThere {
                    // Created by someone else in between: fine, it is ours to use.
                } catch {
                    throw ControlError(.kernelRejected(write: write, errno: error.errnoValue ?? 0, errorLog: nil))
                }
            }
            for (i, probe) in set.probeEvents.enumerated() where !before.probeEvents[i].present {
                let write = PlannedWrite(path: probeFile, action: .append(text: probe.text))
                try perform(write, errorLog: "error_log")
                done.append(write)
                guard try readBack(write, readProbeEventNames).contains(probe.event) else {
                    throw ControlError(.notConfirmed(write: write, readBack: String(decoding: (try? fs.read(write.path)) ?? [], as: UTF8.self)))
                }
            }
            for (i, synthetic) in set.syntheticEvents.enumerated() where !before.syntheticEvents[i].present {
                let write = PlannedWrite(path: "synthetic_events", action: .append(text: synthetic.text))
                try perform(write, errorLog: "error_log")
                done.append(write)
                guard try readBack(write, readSyntheticEventNames).contains(synthetic.name) else {
                    throw ControlError(.notConfirmed(write: write, readBack: String(decoding: (try? fs.read("synthetic_events")) ?? [], as: UTF8.self)))
                }
            }
            for (i, trigger) in set.triggers.enumerated() where !before.triggers[i].present {
                try addTrigger(trigger, done: &done)
                if trigger.isBookkeeping { emptied.withLock { $0[set.name] = monotonicNanoseconds() } }
            }
        } catch {
            var failure = error
            failure.rollback = undo(done, set: set)
            logFailure("install failed and was rolled back", set: set.name, failure)
            throw failure
        }
        owned.withLock { _ = $0.insert(set.name) }
        return status(set)
    }

    /// Logs a failed action with what its rollback did, write by write.
    func logFailure(_ message: Logger.Message, set: String, _ failure: ControlError) {
        logger.error(message, metadata: [
            "set": "\(set)", "err": "\(failure)",
            "rollback": "\(failure.rollback.map { "\($0.write) -> \($0.result)" })",
        ])
    }

    /// Appends one trigger (recorded in `done` once written, for an undo) and confirms it by
    /// reading the trigger file back.
    func addTrigger(_ trigger: TriggerDefinition, done: inout [PlannedWrite]) throws(ControlError) {
        let write = PlannedWrite(path: InstallPlan.triggerPath(trigger, instance), action: .append(text: trigger.command))
        try perform(write, errorLog: instance.directory + "error_log")
        done.append(write)
        let lines = try readBack(write) { () throws(TraceFSError) in try readHistTriggerLines(trigger.event) }
        guard lines.contains(where: { $0.hist?.identity == trigger.info.identity }) else {
            throw ControlError(.notConfirmed(write: write, readBack: lines.map(\.text).joined(separator: "\n")))
        }
    }

    /// Removes one trigger with `!` + the text written, and confirms it is gone: the kernel
    /// answers success to a removal that matched nothing.
    func removeTrigger(_ trigger: TriggerDefinition) throws(ControlError) {
        let write = PlannedWrite(path: InstallPlan.triggerPath(trigger, instance), action: .append(text: "!" + trigger.command))
        try perform(write, errorLog: instance.directory + "error_log")
        let lines = try readBack(write) { () throws(TraceFSError) in try readHistTriggerLines(trigger.event) }
        if lines.contains(where: { $0.hist?.identity == trigger.info.identity }) {
            throw ControlError(.notConfirmed(write: write, readBack: lines.map(\.text).joined(separator: "\n")))
        }
    }

    // MARK: Remove

    /// Removes the set; idempotent. Triggers in reverse, then synthetic events, then probe events, then the
    /// instance when nothing of ours is left in it.
    @discardableResult
    public func remove(_ name: String) throws(ControlError) -> TriggerSetStatus {
        guard let set = config.triggerSet(named: name) else { throw ControlError(.unknownSet(name)) }
        return try actionLock.withLock { () throws(ControlError) in try remove(set) }
    }

    func remove(_ set: TriggerSet) throws(ControlError) -> TriggerSetStatus {
        if let refusal = fs.writeRefusal { throw ControlError(.featureMissing("trigger set '\(set.name)' cannot be removed: \(refusal)")) }
        let before = try confirmedStatus(set)
        for (i, trigger) in set.triggers.enumerated().reversed() where before.triggers[i].present {
            try removeTrigger(trigger)
        }
        for (i, synthetic) in set.syntheticEvents.enumerated().reversed() where before.syntheticEvents[i].present {
            let write = PlannedWrite(path: "synthetic_events", action: .append(text: "!" + synthetic.name))
            try perform(write, errorLog: "error_log")
            if try readBack(write, readSyntheticEventNames).contains(synthetic.name) {
                throw ControlError(.notConfirmed(write: write, readBack: String(decoding: (try? fs.read("synthetic_events")) ?? [], as: UTF8.self)))
            }
        }
        for (i, probe) in set.probeEvents.enumerated().reversed() where before.probeEvents[i].present {
            let write = PlannedWrite(path: probeFile, action: .append(text: probe.removal))
            try perform(write, errorLog: "error_log")
            if try readBack(write, readProbeEventNames).contains(probe.event) {
                throw ControlError(.notConfirmed(write: write, readBack: String(decoding: (try? fs.read(write.path)) ?? [], as: UTF8.self)))
            }
        }
        owned.withLock { _ = $0.remove(set.name) }
        clearDeadline(of: set.name)
        return status(set)
    }

    /// Removes our private instance, at stop, when nothing is left in it: while the exporter
    /// runs the instance stays, as its lock (`InstanceLock`) is held on it. rmdir succeeds on an instance
    /// that still holds triggers without variables and takes them with it, so triggers someone
    /// else put there keep the instance, and the log says where they are.
    func removeInstanceIfUnused() {
        guard case .named(let name) = instance, fs.exists("instances/\(name)") else { return }
        if config.triggerSets.contains(where: { status($0).triggers.contains(where: \.present) }) { return }
        let others: [EventName]
        do {
            others = try eventsWithTriggers(in: instance)
        } catch {
            logger.warning("cannot list the events of the exporter's instance; it stays", metadata: ["instance": "\(name)", "err": "\(error)"])
            return
        }
        if !others.isEmpty {
            logger.warning("the exporter's instance holds triggers it did not install; it stays", metadata: [
                "instance": "\(name)", "events": "\(others.map(\.description).joined(separator: ","))",
            ])
            return
        }
        do {
            try removeInstanceDirectory("instances/\(name)")
        } catch {
            logger.warning("cannot remove the exporter's instance", metadata: ["instance": "\(name)", "err": "\(error)"])
        }
    }

    /// Events of an instance whose trigger file holds any trigger (comment lines aside).
    func eventsWithTriggers(in instance: TraceInstance) throws(TraceFSError) -> [EventName] {
        try fs.events(in: instance).filter { event in
            // Events without a trigger file (the ftrace/* ones) hold none; one that cannot be
            // read may: the instance stays rather than take someone's triggers with it.
            let bytes: [UInt8]
            do throws(TraceFSError) {
                bytes = try fs.readTrigger(event, in: instance)
            } catch {
                return !error.isNotFound
            }
            return !TriggerFile(bytes).lines.isEmpty
        }
    }

    /// The kernel drops an instance's last reference from removed variable hists a moment
    /// after the removal returns; rmdir meanwhile answers EBUSY, so try again briefly.
    func removeInstanceDirectory(_ path: String) throws(TraceFSError) {
        var attempt = 0
        while true {
            do {
                try fs.removeDirectory(path)
                return
            } catch where error.isBusy && attempt < 20 {
                attempt += 1
                pause(milliseconds: 50)
            }
        }
    }

    /// The emergency stop: removes every set that has anything in the kernel.
    public func removeAll() -> [(set: String, error: ControlError?)] {
        config.triggerSets.map { set in
            do throws(ControlError) {
                _ = try actionLock.withLock { () throws(ControlError) in try remove(set) }
                return (set.name, nil)
            } catch {
                return (set.name, error)
            }
        }
    }

    // MARK: Start and stop

    /// At start: our sets already in the kernel (left by a crashed run) are adopted as
    /// ours, or removed when the configuration says `clean`; then the `install_on_start`
    /// sets are installed. Returns the failures, which do not stop the exporter.
    public func startUp() -> [(set: String, error: ControlError)] {
        var failures: [(set: String, error: ControlError)] = []
        let config = self.config
        loadDeadlines()
        for set in config.triggerSets where fs.writeRefusal == nil {
            let current = status(set)
            guard current.anyPresent else { continue }
            switch config.lifecycle.onStart {
            case .adopt:
                owned.withLock { _ = $0.insert(set.name) }
                logger.info("adopted trigger set found in the kernel", metadata: ["set": "\(set.name)", "state": "\(current.state.rawValue)"])
            case .clean:
                do throws(ControlError) {
                    try remove(set.name)
                    logger.info("removed trigger set left by an earlier run", metadata: ["set": "\(set.name)"])
                } catch {
                    failures.append((set.name, error))
                }
            }
        }
        keepDeadlinesOfAdoptedSets()
        for set in config.triggerSets where set.installOnStart {
            do throws(ControlError) {
                let status = try installOnStart(set)
                logger.info("trigger set installed", metadata: ["set": "\(set.name)", "state": "\(status.state.rawValue)"])
            } catch {
                logger.error("cannot install trigger set", metadata: ["set": "\(set.name)", "err": "\(error)"])
                failures.append((set.name, error))
            }
        }
        return failures
    }

    /// With `lifecycle.repair`: owned sets found partial or drifted get their missing
    /// pieces written again. Returns the sets repaired.
    @discardableResult
    public func repairOwned() -> [String] {
        guard config.lifecycle.repair else { return [] }
        var repaired: [String] = []
        for name in ownedSets.sorted() {
            guard let set = config.triggerSet(named: name) else { continue }
            let current = status(set)
            guard current.state == .partial || current.state == .drifted, current.anyMissing else { continue }
            do throws(ControlError) {
                let after = try install(name)
                logger.warning("repaired trigger set changed from outside", metadata: [
                    "set": "\(name)", "was": "\(current.state.rawValue)", "now": "\(after.state.rawValue)",
                ])
                repaired.append(name)
            } catch {
                logger.error("cannot repair trigger set", metadata: ["set": "\(name)", "err": "\(error)"])
            }
        }
        return repaired
    }

    /// At exit: removes what this process installed or adopted.
    public func removeOwned() -> [(set: String, error: ControlError)] {
        var failures: [(set: String, error: ControlError)] = []
        for name in ownedSets.sorted() {
            do throws(ControlError) {
                try remove(name)
            } catch {
                failures.append((name, error))
            }
        }
        if failures.isEmpty && fs.writeRefusal == nil { removeInstanceIfUnused() }
        return failures
    }

    // MARK: pause / continue / clear

    @discardableResult
    public func control(_ name: String, _ action: SetControl) throws(ControlError) -> TriggerSetStatus {
        guard let set = config.triggerSet(named: name) else { throw ControlError(.unknownSet(name)) }
        try requireFeatures(for: set)
        return try actionLock.withLock { () throws(ControlError) in
            let before = try confirmedStatus(set)
            guard before.triggers.contains(where: \.present) else { throw ControlError(.notInstalled(set.name)) }
            // The kernel re-creates a trigger's variables when parsing a control command, so
            // `:pause` on a trigger that defines variables fails ("Variable already defined").
            // Those triggers only carry timestamps between events; pausing the tables that
            // count is what stops, resumes or clears the measurement.
            for (i, trigger) in set.triggers.enumerated() where before.triggers[i].present && trigger.info.variables.isEmpty {
                let text = TriggerController.controlCommand(trigger.command, action.rawValue)
                try perform(PlannedWrite(path: InstallPlan.triggerPath(trigger, instance), action: .append(text: text)),
                            errorLog: instance.directory + "error_log")
            }
            return status(set)
        }
    }

    /// `hist:...:pause if filter`: the control word goes before the filter.
    static func controlCommand(_ command: String, _ word: String) -> String {
        if let r = command.firstRange(of: " if ") {
            return String(command[..<r.lowerBound]) + ":" + word + String(command[r.lowerBound...])
        }
        return command + ":" + word
    }

    // MARK: Writes

    /// One write, with the error_log truncated before and read after a failure.
    func perform(_ write: PlannedWrite, errorLog: String) throws(ControlError) {
        let canLog = fs.exists(errorLog)
        if canLog { try? fs.truncate(errorLog) }
        do {
            try apply(write)
            logger.debug("tracefs write", metadata: ["write": "\(write)"])
        } catch {
            var logText: String?
            if canLog, case .append(let text) = write.action, let log = try? fs.read(errorLog) {
                let command = text.hasPrefix("!") ? String(text.dropFirst()) : text
                logText = ErrorLogFile(log).record(for: command)?.text
            }
            throw ControlError(.kernelRejected(write: write, errno: error.errnoValue ?? 0, errorLog: logText))
        }
    }

    func apply(_ write: PlannedWrite) throws(TraceFSError) {
        switch write.action {
        case .makeInstance: try fs.makeDirectory(write.path)
        case .removeInstance: try fs.removeDirectory(write.path)
        case .append(let text): try fs.append(write.path, text)
        }
    }
}

extension TraceFSError {
    public var errnoValue: Int32? {
        if case .system(let errno) = kind { return errno }
        return nil
    }
}

extension TriggerInfo {
    /// Whether a key or a variable is the 6.5+ `common_stacktrace` field (6.1 takes only
    /// `stacktrace` as a key, and no stack in a variable).
    var namesCommonStacktrace: Bool {
        keys.contains { $0.name == "common_stacktrace" } || variables.contains { $0.expression == "common_stacktrace" }
    }
}
