import Exposition
import TraceFS

extension ExporterMetrics {
    struct TableClearKey: Hashable {
        var set: String
        var event: EventName
        /// `confirmed`, `not_confirmed` (the kernel took the write; the read-back did not show
        /// the table emptied) or `failed`.
        var result: String
    }

    static let clearResults = ["confirmed", "not_confirmed", "failed"]

    /// One clear of a full exported table, and the entries of removed cgroups it let go.
    func countTableClear(set: String, event: EventName, result: String, droppedEntries: Int = 0) {
        state.withLock { s in
            s.tableClears[TableClearKey(set: set, event: event, result: result), default: 0] += 1
            s.clearedCgroupEntries[BookkeepingKey(set: set, event: event), default: 0] += Double(droppedEntries)
        }
    }

    /// Every table that clears when full has its series from the start, at 0, so that
    /// `increase()` sees the first clear.
    func tableClearFamilies(_ s: State, _ config: ExporterConfig) -> [MetricFamily] {
        var clears = s.tableClears
        var dropped = s.clearedCgroupEntries
        for set in config.triggerSets {
            for trigger in set.triggers where trigger.clearsWhenFull {
                for result in Self.clearResults where clears[TableClearKey(set: set.name, event: trigger.event, result: result)] == nil {
                    clears[TableClearKey(set: set.name, event: trigger.event, result: result)] = 0
                }
                if dropped[BookkeepingKey(set: set.name, event: trigger.event)] == nil {
                    dropped[BookkeepingKey(set: set.name, event: trigger.event)] = 0
                }
            }
        }
        return [
            MetricFamily(
                name: "ftrace_exporter_table_clears",
                help: "Clears of an exported table keyed by cgroup at the high-water mark, its counts carried on, by result (confirmed, not_confirmed by the read-back, failed).",
                type: .counter,
                metrics: clears.sorted { ($0.key.set, $0.key.event, $0.key.result) < ($1.key.set, $1.key.event, $1.key.result) }.map {
                    Metric(labels: [Label("set", $0.key.set), Label("system", $0.key.event.system), Label("event", $0.key.event.event),
                                    Label("result", $0.key.result)],
                           value: .counter($0.value))
                }),
            MetricFamily(
                name: "ftrace_exporter_table_clear_dropped_entries",
                help: "Entries of cgroups removed by the time of a clear, not carried on: their series went stale.",
                type: .counter, metrics: Self.counters(bySetAndEvent: dropped)),
        ]
    }
}
