import HistFormat
import TraceFS

/// How full one bookkeeping table of a set is, as the kernel's `Totals:` say.
public struct BookkeepingTable: Sendable, Equatable {
    public var event: EventName
    public var entries: UInt64
    /// The trigger's `size=` as the kernel reads it back (rounded up to a power of two).
    public var size: Int
    public var hits: UInt64
    public var dropped: UInt64
}

/// What one rotation did.
public struct RotationReport: Sendable {
    public var set: String
    /// From the first removal to the last confirmed re-install.
    public var seconds: Double
    /// The bookkeeping tables as they were just before they were emptied.
    public var before: [BookkeepingTable]
}

extension TriggerController {
    /// Empties the bookkeeping tables of a set this process owns by removing its bookkeeping
    /// triggers and appending them again, every write confirmed by reading the trigger file
    /// back. They come out in reverse install order, because the kernel refuses (EBUSY) to
    /// remove a trigger whose variables another one still reads, and go back in install order,
    /// which the kernel checked when the set was installed. The exported tables stay as they
    /// are, so their counts go on rising with no reset.
    ///
    /// A removal that fails puts back what was removed. A re-install that fails undoes the
    /// re-installs, as a failed install does: the set is then partial, its exported tables
    /// intact, and an install puts the rest back.
    public func rotate(_ name: String) throws(ControlError) -> RotationReport {
        guard let set = config.triggerSet(named: name) else { throw ControlError(.unknownSet(name)) }
        return try actionLock.withLock { _ throws(ControlError) in
            let bookkeeping = set.bookkeepingTriggers
            let current = status(set)
            let present = zip(set.triggers, current.triggers).filter { $0.0.isBookkeeping }.allSatisfy { $0.1.present }
            guard ownedSets.contains(name), !bookkeeping.isEmpty, present else { throw ControlError(.notInstalled(name)) }
            let before = bookkeepingTables(of: set)
            let start = monotonicNanoseconds()
            var removed: [TriggerDefinition] = []
            do throws(ControlError) {
                for trigger in bookkeeping.reversed() {
                    try removeTrigger(trigger)
                    removed.append(trigger)
                }
            } catch {
                var failure = error
                var putBack: [PlannedWrite] = []
                for trigger in removed.reversed() {
                    do throws(ControlError) {
                        try addTrigger(trigger, done: &putBack)
                        failure.rollback.append((putBack.last!, "ok"))
                    } catch {
                        failure.rollback.append((PlannedWrite(path: InstallPlan.triggerPath(trigger, instance), action: .append(text: trigger.command)), error.description))
                    }
                }
                logger.error("rotation failed while removing; what was removed was put back", metadata: [
                    "set": "\(name)", "err": "\(failure)",
                    "rollback": "\(failure.rollback.map { "\($0.write) -> \($0.result)" })",
                ])
                throw failure
            }
            var done: [PlannedWrite] = []
            do throws(ControlError) {
                for trigger in bookkeeping { try addTrigger(trigger, done: &done) }
            } catch {
                var failure = error
                failure.rollback = undo(done, set: set)
                logger.error("rotation failed while re-installing and was rolled back; the set is partial until installed again", metadata: [
                    "set": "\(name)", "err": "\(failure)",
                    "rollback": "\(failure.rollback.map { "\($0.write) -> \($0.result)" })",
                ])
                throw failure
            }
            let seconds = Double(monotonicNanoseconds() &- start) / 1e9
            return RotationReport(set: name, seconds: seconds, before: before)
        }
    }

    /// The bookkeeping tables of a set this process owns, read now, without waiting for an
    /// action to finish writing: call it inside `whileNoActionRuns`. A table that is not in
    /// the kernel, or whose hist file cannot be read, is left out.
    func bookkeepingTables(of set: TriggerSet) -> [BookkeepingTable] {
        var tables: [BookkeepingTable] = []
        var files: [EventName: HistFile] = [:]
        for trigger in set.bookkeepingTriggers {
            if files[trigger.event] == nil {
                guard let bytes = try? fs.readHist(trigger.event, in: instance), let parsed = try? HistParser.parse(bytes) else { continue }
                files[trigger.event] = parsed
            }
            guard let block = files[trigger.event]?.blocks.first(where: { $0.triggerInfo.identity == trigger.info.identity }) else { continue }
            tables.append(BookkeepingTable(
                event: trigger.event, entries: block.totals.entries, size: block.triggerInfo.size ?? TableSize.kernelDefault,
                hits: block.totals.hits, dropped: block.totals.dropped))
        }
        return tables
    }

    /// The bookkeeping tables of a set, read between two actions.
    public func bookkeepingTables(ofSet name: String) -> [BookkeepingTable] {
        guard let set = config.triggerSet(named: name) else { return [] }
        return whileNoActionRuns { bookkeepingTables(of: set) }
    }
}
