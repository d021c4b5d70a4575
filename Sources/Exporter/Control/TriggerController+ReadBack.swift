import HistFormat
import Platform
import TraceFS

/// What the controller reads back from tracefs to confirm its writes, and the undoing of a
/// failed install.
extension TriggerController {
    // MARK: Read-back

    /// The hist lines of an event's trigger file in our instance, for the status shown (none
    /// when the file cannot be read).
    func histTriggerLines(_ event: EventName) -> [TriggerFile.Line] {
        (try? readHistTriggerLines(event)) ?? []
    }

    /// The hist lines of an event's trigger file in our instance; none when the event is not
    /// there (ENOENT), any other failure thrown: a read-back that fails confirms nothing.
    func readHistTriggerLines(_ event: EventName) throws(TraceFSError) -> [TriggerFile.Line] {
        let bytes: [UInt8]
        do {
            bytes = try fs.readTrigger(event, in: instance)
        } catch where error.isNotFound {
            return []
        }
        return TriggerFile(bytes).histLines
    }

    /// The synthetic events defined, for the status shown (none when unreadable).
    func syntheticEventNames() -> Set<String> {
        (try? readSyntheticEventNames()) ?? []
    }

    /// The synthetic events defined; none on a kernel without them (no `synthetic_events`).
    func readSyntheticEventNames() throws(TraceFSError) -> Set<String> {
        do {
            return SyntheticEventsFile(try fs.read("synthetic_events")).names
        } catch where error.isNotFound {
            return []
        }
    }

    /// Where this kernel takes probe definitions.
    var probeFile: String { fs.exists(InstallPlan.probeFile) ? InstallPlan.probeFile : InstallPlan.legacyProbeFile }

    /// The probe events defined, for the status shown (none when unreadable).
    func probeEventNames() -> Set<EventName> {
        (try? readProbeEventNames()) ?? []
    }

    /// The probe events defined (`p`, `r`, `f`, `t` lines of the probe file, as
    /// `group/event`); none on a kernel without probe events.
    func readProbeEventNames() throws(TraceFSError) -> Set<EventName> {
        let bytes: [UInt8]
        do {
            bytes = try fs.read(probeFile)
        } catch where error.isNotFound {
            return []
        }
        var names: Set<EventName> = []
        for entry in DynamicEventsFile(bytes).entries where entry.kind.first.map({ "prft".contains($0) }) == true && !entry.group.isEmpty {
            names.insert(EventName(system: entry.group, event: entry.name))
        }
        return names
    }

    /// A write's read-back, with a failed read turned into the action's error.
    func readBack<T>(_ write: PlannedWrite, _ read: () throws(TraceFSError) -> T) throws(ControlError) -> T {
        do {
            return try read()
        } catch {
            throw ControlError(.readBackFailed(write: write, error: error))
        }
    }

    // MARK: Rollback

    /// Undoes writes of a failed install, newest first; reports each outcome.
    func undo(_ writes: [PlannedWrite], set: TriggerSet) -> [(write: PlannedWrite, result: String)] {
        var results: [(write: PlannedWrite, result: String)] = []
        for write in writes.reversed() {
            let inverse: PlannedWrite
            switch write.action {
            case .makeInstance:
                inverse = PlannedWrite(path: write.path, action: .removeInstance)
            case .append(let text):
                if let probe = probeDefinition(write) {
                    inverse = PlannedWrite(path: write.path, action: .append(text: probe.removal))
                } else if write.path == "synthetic_events" {
                    let name = text.prefix { $0 != " " && $0 != "\t" }
                    inverse = PlannedWrite(path: write.path, action: .append(text: "!" + name))
                } else {
                    inverse = PlannedWrite(path: write.path, action: .append(text: "!" + text))
                }
            case .removeInstance:
                continue
            }
            do {
                if case .removeInstance = inverse.action {
                    try removeInstanceDirectory(inverse.path)
                } else {
                    try apply(inverse)
                }
                // The kernel answers success to removals that match nothing: look again.
                results.append((inverse, undoneResult(write)))
            } catch {
                results.append((inverse, errnoName(error.errnoValue ?? 0)))
            }
        }
        return results
    }

    /// Whether a write of a failed install is gone from the kernel: "ok", or why not confirmed
    /// (still there, or the read-back itself failed).
    func undoneResult(_ write: PlannedWrite) -> String {
        let stillThere = "not confirmed: still present after the removal"
        switch write.action {
        case .makeInstance, .removeInstance:
            return fs.exists(write.path) ? stillThere : "ok"
        case .append where probeDefinition(write) != nil:
            do {
                return try readProbeEventNames().contains(probeDefinition(write)!.event) ? stillThere : "ok"
            } catch {
                return "not confirmed: the read-back failed: \(error)"
            }
        case .append(let text) where write.path == "synthetic_events":
            do {
                return try readSyntheticEventNames().contains(String(text.prefix { $0 != " " && $0 != "\t" })) ? stillThere : "ok"
            } catch {
                return "not confirmed: the read-back failed: \(error)"
            }
        case .append(let text):
            guard let identity = (try? TriggerInfo.parse(text))?.identity else {
                return "not confirmed: the written text is not a trigger the read-back can match"
            }
            let bytes: [UInt8]
            do {
                bytes = try fs.read(write.path)
            } catch where error.isNotFound {
                return "ok"
            } catch {
                return "not confirmed: the read-back failed: \(error)"
            }
            return TriggerFile(bytes).contains(identity) ? stillThere : "ok"
        }
    }

    /// The probe a write to the probe file defines; nil for any other write.
    func probeDefinition(_ write: PlannedWrite) -> ProbeEventDefinition? {
        guard write.path == InstallPlan.probeFile || write.path == InstallPlan.legacyProbeFile, case .append(let text) = write.action,
              case .success(let definition) = ProbeEventSyntax.parse(text)
        else { return nil }
        return definition
    }
}
