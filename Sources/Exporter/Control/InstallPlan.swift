import TraceFS

/// One write the exporter makes to tracefs, as data: shown by `--check-config`,
/// carried out by the admin controller.
public struct PlannedWrite: Equatable, Sendable, CustomStringConvertible {
    public enum Action: Equatable, Sendable {
        case makeInstance
        case removeInstance
        /// One `write()` of `text` to the file, opened with O_APPEND (never O_TRUNC).
        case append(text: String)
    }

    /// Relative to the tracefs root.
    public var path: String
    public var action: Action

    public var description: String {
        switch action {
        case .makeInstance: return "mkdir \(path)"
        case .removeInstance: return "rmdir \(path)"
        case .append(let text): return "echo \(shellQuote(text)) >> \(path)"
        }
    }

    public func rendered(root: String) -> String {
        let full = root + "/" + path
        switch action {
        case .makeInstance: return "mkdir \(shellQuote(full))"
        case .removeInstance: return "rmdir \(shellQuote(full))"
        case .append(let text): return "echo \(shellQuote(text)) >> \(shellQuote(full))"
        }
    }
}

/// The writes that install or remove a trigger set, in the order the kernel requires:
/// probe events, then synthetic events, before the triggers that use them, triggers in the
/// listed order; removal in reverse, with `!` and the exact text that was written (`-:` and
/// the event for probes).
public enum InstallPlan {
    /// Where probe events are written: `dynamic_events` (5.0+), which takes every kind;
    /// kernels without it have only `kprobe_events`.
    public static let probeFile = "dynamic_events"
    public static let legacyProbeFile = "kprobe_events"

    /// At start, before any set: a named instance is made (when missing) and held while the
    /// exporter runs (`InstanceLock`).
    public static func start(instance: TraceInstance) -> [PlannedWrite] {
        guard case .named(let name) = instance else { return [] }
        return [PlannedWrite(path: "instances/\(name)", action: .makeInstance)]
    }

    /// At stop, after every set is removed: the named instance goes, unless something the
    /// exporter did not install is left in it.
    public static func stop(instance: TraceInstance) -> [PlannedWrite] {
        guard case .named(let name) = instance else { return [] }
        return [PlannedWrite(path: "instances/\(name)", action: .removeInstance)]
    }

    public static func install(_ set: TriggerSet, instance: TraceInstance, probeFile: String = probeFile) -> [PlannedWrite] {
        var writes: [PlannedWrite] = []
        for p in set.probeEvents { writes.append(PlannedWrite(path: probeFile, action: .append(text: p.text))) }
        for s in set.syntheticEvents { writes.append(PlannedWrite(path: "synthetic_events", action: .append(text: s.text))) }
        for t in set.triggers {
            writes.append(PlannedWrite(path: triggerPath(t, instance), action: .append(text: t.command)))
        }
        return writes
    }

    public static func remove(_ set: TriggerSet, instance: TraceInstance, probeFile: String = probeFile) -> [PlannedWrite] {
        var writes: [PlannedWrite] = []
        for t in set.triggers.reversed() {
            writes.append(PlannedWrite(path: triggerPath(t, instance), action: .append(text: "!" + t.command)))
        }
        for s in set.syntheticEvents.reversed() {
            writes.append(PlannedWrite(path: "synthetic_events", action: .append(text: "!" + s.name)))
        }
        for p in set.probeEvents.reversed() { writes.append(PlannedWrite(path: probeFile, action: .append(text: p.removal))) }
        return writes
    }

    static func triggerPath(_ t: TriggerDefinition, _ instance: TraceInstance) -> String {
        "\(instance.directory)events/\(t.event.system)/\(t.event.event)/trigger"
    }
}

/// Single-quotes for a POSIX shell.
func shellQuote(_ s: String) -> String {
    "'" + s.replacing("'", with: "'\\''") + "'"
}
