import Exposition
import HistFormat
import TraceFS

/// The families that describe the tables themselves, for every table read.
enum HealthFamilies {
    static let entries = "ftrace_hist_entries"
    static let capacity = "ftrace_hist_capacity"
    static let dropped = "ftrace_hist_dropped"
    static let hits = "ftrace_hist_table_hits"
    static let paused = "ftrace_hist_paused"
    static let overLimit = "ftrace_hist_series_over_limit"
    static let unnamedCgroups = "ftrace_hist_unnamed_cgroup_entries"
    static let carried = "ftrace_hist_carried_entries"
    static let info = "ftrace_hist"
    static let readSuccess = "ftrace_hist_read_success"
    static let readDuration = "ftrace_hist_read_duration_seconds"


    static func declare(into f: inout FamilyBuilder) {
        f.declare(readSuccess, help: "Whether the last read and parse of this hist file succeeded (1) or not (0).", type: .gauge)
        f.declare(readDuration, help: "Time the last read and parse of this hist file took, in seconds.", type: .gauge)
    }

    static let feature = "ftrace_kernel_feature"
    static let tracefsAvailable = "ftrace_tracefs_available"

    /// Whether tracefs is there at all: unmounted (or never mounted), every table reads as
    /// absent, which without this would look like nothing being installed.
    static func tracefs(_ f: inout FamilyBuilder, available: Bool) {
        f.add(tracefsAvailable,
              help: "Whether tracefs is mounted where the exporter reads it (1) or not (0); while it is not, no table can be read.",
              type: .gauge, labels: [], value: .gauge(available ? 1 : 0))
    }

    /// What the kernel's tracing offers, so a missing CONFIG option shows on a dashboard.
    static func features(_ f: inout FamilyBuilder, _ features: TraceFeatures) {
        let help = "Whether the kernel's tracefs offers a feature the exporter uses (1) or not (0)."
        let list: [(String, Bool)] = [
            ("hist_triggers", features.histTriggers), ("synthetic_events", features.syntheticEvents),
            ("error_log", features.errorLog), ("linear_buckets", features.linearBuckets),
            ("common_stacktrace", features.commonStacktrace), ("percent_graph", features.percentAndGraph),
            ("nohitcount", features.noHitcount), ("kprobe_events", features.kprobeEvents),
            ("fprobe_events", features.fprobeEvents), ("tracepoint_probes", features.tracepointProbes),
        ]
        for (name, on) in list {
            f.add(feature, help: help, type: .gauge, labels: [Label("feature", name)], value: .gauge(on ? 1 : 0))
        }
    }

    static func readResult(_ f: inout FamilyBuilder, _ labels: [Label], success: Bool, seconds: Double) {
        f.add(readSuccess, help: "", type: .gauge, labels: labels, value: .gauge(success ? 1 : 0))
        f.add(readDuration, help: "", type: .gauge, labels: labels, value: .gauge(seconds))
    }

    /// `unnamedCgroupEntries`: for a table with a `decode: cgroup` label only; `carriedEntries`:
    /// for one the exporter clears when full.
    static func table(
        _ f: inout FamilyBuilder, _ labels: [Label], _ block: HistBlock, seriesOverLimit: Int, unnamedCgroupEntries: Int? = nil,
        carriedEntries: Int? = nil
    ) {
        f.add(entries, help: "Entries in the hist table (Totals: Entries).", type: .gauge, labels: labels,
              value: .gauge(Double(block.totals.entries)))
        f.add(capacity, help: "Maximum entries of the hist table (the trigger's size=).", type: .gauge, labels: labels,
              value: .gauge(Double(block.triggerInfo.size ?? TableSize.kernelDefault)))
        f.add(dropped, help: "Events the kernel could not record because the hist table was full (Totals: Dropped).",
              type: .counter, labels: labels, value: .counter(Double(block.totals.dropped)))
        f.add(hits, help: "Events recorded in the hist table (Totals: Hits).", type: .counter, labels: labels,
              value: .counter(Double(block.totals.hits)))
        f.add(paused, help: "Whether the hist trigger is paused (1) or active (0).", type: .gauge, labels: labels,
              value: .gauge(block.triggerInfo.state == .paused ? 1 : 0))
        f.add(overLimit, help: "Series of this table left out of the last refresh because a series limit was reached (for tables keyed by cgroup, rolled up into the series labelled other).",
              type: .gauge, labels: labels, value: .gauge(Double(seriesOverLimit)))
        if let unnamedCgroupEntries {
            f.add(unnamedCgroups,
                  help: "Entries of this table left out of the last refresh because their cgroup id names no cgroup under cgroup_mount (one removed since).",
                  type: .gauge, labels: labels, value: .gauge(Double(unnamedCgroupEntries)))
        }
        if let carriedEntries {
            f.add(carried,
                  help: "Entries the exporter keeps from before its clears of this table and adds to each read of it, so its counters never go back.",
                  type: .gauge, labels: labels, value: .gauge(Double(carriedEntries)))
        }
        f.add(info, help: "The hist trigger behind each table id, as the kernel reads it back.", type: .info,
              labels: labels + [Label("trigger", block.triggerInfo.text)], value: .info)
    }
}

/// The generic families of discovered tables.
enum DiscoveryFamilies {
    static func add(_ output: DiscoveryMapper.Output, into f: inout FamilyBuilder) {
        f.declare(DiscoveryMapper.hitsFamily, help: "Hitcount of each entry of discovered hist tables, by key.", type: .counter)
        f.declare(DiscoveryMapper.valueFamily, help: "Summed value columns of each entry of discovered hist tables, by key and value name.", type: .counter)
        f.declare(DiscoveryMapper.handlerFamily, help: "Per-entry onmax()/onchange() handler values of discovered hist tables.", type: .gauge)
        f.add(MetricFamily(name: DiscoveryMapper.hitsFamily, help: "", type: .counter, metrics: [], blocks: output.hits))
        f.add(MetricFamily(name: DiscoveryMapper.valueFamily, help: "", type: .counter, metrics: [], blocks: output.values))
        f.add(MetricFamily(name: DiscoveryMapper.handlerFamily, help: "", type: .gauge, metrics: [], blocks: output.handlers))
    }
}
