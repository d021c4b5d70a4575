/// Every mapping a configuration file may hold, with the keys it accepts. The loaders read
/// mappings only through these cases, so a key cannot be accepted without being listed here,
/// and a test holds the README's configuration reference to this list.
enum ConfigSection: String, CaseIterable, Sendable {
    case top = ""
    case tracefs = "tracefs"
    case discovery = "discovery"
    case lifecycle = "lifecycle"
    case rotation = "rotation"
    case triggerSet = "trigger_sets[]"
    case breaker = "trigger_sets[].breaker"
    case trigger = "trigger_sets[].triggers[]"
    case metric = "trigger_sets[].triggers[].metric"
    case label = "trigger_sets[].triggers[].metric.labels[]"
    /// The mapping form of a counter's `values` item (the other form is a bare column name).
    case counterValue = "trigger_sets[].triggers[].metric.values[]"

    /// Where the section sits, with `[]` for "any item of this list".
    var path: String { rawValue }

    var keys: [String] {
        switch self {
        case .top: return ["tracefs", "refresh_interval", "discovery", "lifecycle", "rotation", "cgroup_mount", "trigger_sets"]
        case .tracefs: return ["path", "instance"]
        case .discovery: return ["enabled", "series_limit", "pid_labels", "stack_labels", "rescan_interval"]
        case .lifecycle: return ["on_start", "remove_on_exit", "repair"]
        case .rotation: return ["enabled", "high_water_mark", "check_interval"]
        case .triggerSet: return ["name", "description", "install_on_start", "max_duration", "breaker", "probe_events", "synthetic_events", "triggers"]
        case .breaker: return ["max_events_per_second", "for", "action"]
        case .trigger: return ["event", "command", "metric"]
        case .metric:
            return ["name", "help", "type", "labels", "series_limit", "bucket_key", "scale", "sum_value", "buckets", "values", "value"]
        case .label: return ["key", "name", "pid_label", "decode"]
        case .counterValue: return ["column", "suffix", "help", "scale"]
        }
    }
}

extension YAMLField {
    /// The entries of a mapping of the exporter's configuration.
    func mapping(_ section: ConfigSection) throws(ConfigError) -> [String: YAMLField] {
        try mapping(allowed: section.keys)
    }
}
