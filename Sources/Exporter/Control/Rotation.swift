import HistFormat
import Platform
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
    ///
    /// The tables are not read again first: printing them is what costs (the kernel sorts them
    /// under its event mutex), and they go on filling meanwhile. What they drop between the
    /// caller's last look and the removal is not counted.
    public func rotate(_ name: String) throws(ControlError) -> RotationReport {
        guard let set = config.triggerSet(named: name) else { throw ControlError(.unknownSet(name)) }
        return try actionLock.withLock { () throws(ControlError) in
            let bookkeeping = set.bookkeepingTriggers
            let current = try confirmedStatus(set)
            let present = zip(set.triggers, current.triggers).filter { $0.0.isBookkeeping }.allSatisfy { $0.1.present }
            guard ownedSets.contains(name), !bookkeeping.isEmpty, present else { throw ControlError(.notInstalled(name)) }
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
                logFailure("rotation failed while removing; what was removed was put back", set: name, failure)
                throw failure
            }
            var done: [PlannedWrite] = []
            do throws(ControlError) {
                for trigger in bookkeeping { try addTrigger(trigger, done: &done) }
            } catch {
                var failure = error
                failure.rollback = undo(done, set: set)
                logFailure("rotation failed while re-installing and was rolled back; the set is partial until installed again", set: name, failure)
                throw failure
            }
            let end = monotonicNanoseconds()
            emptied.withLock { $0[name] = end }
            let seconds = Double(end &- start) / 1e9
            return RotationReport(set: name, seconds: seconds)
        }
    }

    /// A set's bookkeeping tables as the kernel's `Totals:` in `files` (parsed hist files by
    /// event) say; a table not in them is left out.
    func bookkeepingTables(of set: TriggerSet, in files: [EventName: HistFile]) -> [BookkeepingTable] {
        set.bookkeepingTriggers.compactMap { trigger in
            guard let block = files[trigger.event]?.blocks.first(where: { $0.triggerInfo.identity == trigger.info.identity }) else { return nil }
            return BookkeepingTable(
                event: trigger.event, entries: block.totals.entries, size: block.triggerInfo.size ?? TableSize.kernelDefault,
                hits: block.totals.hits, dropped: block.totals.dropped)
        }
    }

    /// The hist files of the events the sets' bookkeeping triggers are on, each read once and
    /// parsed (a file holds the tables of every trigger on its event, and the kernel sorts and
    /// prints all of them on every read). With `guarded`, each read waits for an action under
    /// way; without, the caller holds the action lock. A file that cannot be read or parsed is
    /// left out.
    func readBookkeepingFiles(of sets: [TriggerSet], guarded: Bool) -> [EventName: HistFile] {
        var files: [EventName: HistFile] = [:]
        for event in Set(sets.flatMap { $0.bookkeepingTriggers.map(\.event) }).sorted() {
            let read = { () -> HistFile? in
                guard let bytes = try? self.fs.readHist(event, in: self.instance) else { return nil }
                return try? HistParser.parse(bytes)
            }
            if let file = guarded ? whileNoActionRuns(read) : read() { files[event] = file }
        }
        return files
    }
}
