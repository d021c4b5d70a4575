import HistFormat
import Logging

extension Refresher {
    /// Clears the exported tables keyed by cgroup that reached the high-water mark, carrying
    /// their counts on. Runs after the refresh that found them full: the next one reads them
    /// emptied, with what they held added back.
    func clear(_ tables: [HistCollector.FullTable], _ collector: HistCollector) {
        let mark = collector.config.rotation.highWaterMark
        for full in tables {
            let event = full.trigger.event
            do throws(ControlError) {
                let clear = try controller.clear(full.trigger, of: full.set)
                let carried = collector.carry(clear, of: full)
                metrics.countTableClear(
                    set: full.set, event: event, result: clear.confirmed ? "confirmed" : "not_confirmed", droppedEntries: carried.dropped)
                let metadata: Logger.Metadata = [
                    "set": "\(full.set)", "event": "\(event)", "entries": "\(full.entries)", "size": "\(full.size)",
                    "carried_entries": "\(carried.kept)", "removed_cgroup_entries": "\(carried.dropped)",
                    "entries_after": "\(clear.entriesAfter.map(String.init) ?? "unread")",
                ]
                if !clear.confirmed {
                    logger.warning("cleared a full table, but the read-back does not show it emptied", metadata: metadata)
                } else if Double(carried.kept) >= mark * Double(full.size) / 2 {
                    logger.warning(
                        "cleared a full table, but most of its entries are of live cgroups and fill it again: raise its trigger's size= (at most 131072) or lower the series in it",
                        metadata: metadata)
                } else {
                    logger.info("cleared a full table keyed by cgroup; its counts carry on", metadata: metadata)
                }
            } catch {
                metrics.countTableClear(set: full.set, event: event, result: "failed")
                logger.error("cannot clear a full table", metadata: ["set": "\(full.set)", "event": "\(event)", "err": "\(error)"])
            }
        }
    }
}
