import HistFormat
import Locking
import TraceFS

/// What the exporter's own clears took out of its exported tables, added back to every later
/// read so that their counters never go back, and which of their label sets are rolled up
/// into `other`. Kept across configuration reloads (the
/// refresher hands it to the new collector); a restart starts again, as any exporter's
/// counters do.
public final class CarriedTables: Sendable {
    struct Key: Hashable {
        var set: String
        var event: EventName
        var table: TriggerInfo.Identity
    }

    struct Carried {
        var entries: HistEntries
        /// The table's `Hits` at the last read: lower at the next one means someone else
        /// emptied it (an admin clear, a removal and install).
        var hits: UInt64
    }

    private let tables = Locked<[Key: Carried]>([:])
    private let rollUps = Locked<[Key: SeriesRollUp]>([:])

    public init() {}

    /// The block with what is carried for it added. A table whose `Hits` went back since the
    /// last read without a clear of ours was emptied by someone else: what was carried is
    /// dropped, and its counters start again as the kernel's do (`reset` is then true).
    func restoring(_ block: HistBlock, set: String, event: EventName) -> (block: HistBlock, reset: Bool) {
        let key = Key(set: set, event: event, table: block.triggerInfo.identity)
        let (carried, reset) = tables.withLock { t -> (HistEntries?, Bool) in
            guard let carried = t[key] else { return (nil, false) }
            guard block.totals.hits >= carried.hits else {
                t[key] = nil
                return (nil, true)
            }
            t[key]?.hits = block.totals.hits
            return (carried.entries, false)
        }
        if reset { rollUps.withLock { $0[key]?.reset() } }
        guard let carried else { return (block, reset) }
        var restored = block
        restored.entries = block.entries.adding(carried)
        return (restored, false)
    }

    /// Carries a table read just before a clear of ours, on top of what was carried already,
    /// keeping the entries `keep` accepts. Returns how many were kept and how many left out.
    func carry(_ table: HistBlock, set: String, event: EventName, keep: (HistEntry) -> Bool) -> (kept: Int, dropped: Int) {
        let key = Key(set: set, event: event, table: table.triggerInfo.identity)
        return tables.withLock { t in
            let all = table.entries.adding(t[key]?.entries ?? HistEntries())
            let kept = all.filter(keep)
            t[key] = Carried(entries: kept, hits: 0)
            return (kept.count, all.count - kept.count)
        }
    }

    /// The roll-up of the table's label sets beyond its series limit.
    func rollUp(set: String, event: EventName, table: TriggerInfo.Identity) -> SeriesRollUp {
        rollUps.withLock { r in
            let key = Key(set: set, event: event, table: table)
            if let known = r[key] { return known }
            let fresh = SeriesRollUp()
            r[key] = fresh
            return fresh
        }
    }

    /// What is carried for each table, for `ftrace_hist_carried_entries`.
    func entryCount(set: String, event: EventName, table: TriggerInfo.Identity) -> Int? {
        tables.withLock { $0[Key(set: set, event: event, table: table)]?.entries.count }
    }

    /// Drops what is carried for the tables of sets not in `sets` (removed, or gone from the
    /// configuration).
    func keep(sets: Set<String>) {
        tables.withLock { t in t = t.filter { sets.contains($0.key.set) } }
        rollUps.withLock { r in r = r.filter { sets.contains($0.key.set) } }
    }
}
