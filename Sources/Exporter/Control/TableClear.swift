import HistFormat
import TraceFS

/// What clearing one exported table did.
public struct TableClear: Sendable {
    /// The table read just before the clear: what the caller carries on.
    public var table: HistBlock
    /// The entries before and, read back, after; nil where the read-back failed.
    public var entriesBefore: UInt64
    public var entriesAfter: UInt64?
    /// The clear took effect as far as a read-back can tell: the table holds fewer entries.
    public var confirmed: Bool { entriesAfter.map { $0 < entriesBefore } ?? false }
}

extension TriggerController {
    /// Empties one exported table of a set this process owns with the kernel's `:clear`, and
    /// returns what it held an instant before. Its trigger defines no variable, so the kernel
    /// takes the control command (it refuses it on one that does), and the set measures on
    /// throughout: only the events between the read and the clear go uncounted. The caller
    /// adds the entries returned to every later read of the table, so its counters go on
    /// rising.
    ///
    /// The read and the clear run under the action lock, so no refresh read comes between
    /// them. A write the kernel accepted has cleared the table; the read-back only confirms.
    public func clear(_ trigger: TriggerDefinition, of setName: String) throws(ControlError) -> TableClear {
        guard let set = config.triggerSet(named: setName), set.triggers.contains(trigger) else { throw ControlError(.unknownSet(setName)) }
        guard trigger.metric != nil, trigger.info.variables.isEmpty else { throw ControlError(.notInstalled(setName)) }
        return try actionLock.withLock { () throws(ControlError) in
            guard ownedSets.contains(setName), let before = try readTable(trigger) else { throw ControlError(.notInstalled(setName)) }
            let text = TriggerController.controlCommand(trigger.command, SetControl.clear.rawValue)
            try perform(PlannedWrite(path: InstallPlan.triggerPath(trigger, instance), action: .append(text: text)),
                        errorLog: instance.directory + "error_log")
            let after = try? readTable(trigger)
            return TableClear(table: before, entriesBefore: before.totals.entries, entriesAfter: after?.totals.entries)
        }
    }

    /// The trigger's table as its event's hist file prints it now; nil when it is not there.
    private func readTable(_ trigger: TriggerDefinition) throws(ControlError) -> HistBlock? {
        let bytes: [UInt8]
        do { bytes = try fs.readHist(trigger.event, in: instance) } catch { throw ControlError(.unreadable(error)) }
        guard let file = try? HistParser.parse(bytes) else { return nil }
        return file.blocks.first { $0.triggerInfo.identity == trigger.info.identity }
    }
}
