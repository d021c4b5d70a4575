import HistFormat
import Locking
import TraceFS

/// The latest parse of the hist files of our instance that hold only bookkeeping tables, as the
/// rotator read them. The rotator looks at those files more often than the refresh does, and
/// every read makes the kernel sort and print whole tables, so the refresh takes its reading
/// instead of reading them again.
public final class HistReadings: Sendable {
    struct Reading {
        var file: HistFile
        var at: UInt64
    }

    private let readings = Locked<[EventName: Reading]>([:])

    public init() {}

    /// Keeps a reading, without the entries of the tables named in `stripping` (their totals
    /// are what the refresh needs of them, and they can be large).
    func store(_ file: HistFile, of event: EventName, at time: UInt64, stripping identities: [TriggerInfo.Identity]) {
        var kept = file
        for i in kept.blocks.indices where identities.contains(kept.blocks[i].triggerInfo.identity) {
            kept.blocks[i].entries = []
        }
        readings.withLock { $0[event] = Reading(file: kept, at: time) }
    }

    /// The reading of an event's file taken at `oldest` or later.
    func file(of event: EventName, since oldest: UInt64) -> HistFile? {
        readings.withLock { r in r[event].flatMap { $0.at >= oldest ? $0.file : nil } }
    }
}
