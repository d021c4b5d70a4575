import TraceFS

/// What `--check-config` prints: the validated allow-list and every write it implies, with the
/// paths the daemon would use.
public enum CheckConfigReport {
    /// Where the commands' tracefs comes from, as the daemon would choose it.
    public enum TraceFSSource: Sendable {
        case flag(String)
        case configuration(String)
        case autoDetect

        public init(flag: String?, configuration: String) {
            if let flag, !flag.isEmpty {
                self = .flag(flag)
            } else if !configuration.isEmpty {
                self = .configuration(configuration)
            } else {
                self = .autoDetect
            }
        }

        var root: String {
            switch self {
            case .flag(let path), .configuration(let path): return path
            case .autoDetect: return TraceFS.standardLocations[0]
            }
        }

        var header: String {
            switch self {
            case .flag(let path): return "\(path) (--path.tracefs)"
            case .configuration(let path): return "\(path) (tracefs.path)"
            case .autoDetect:
                return "found at start (\(TraceFS.standardLocations.joined(separator: ", ")), then /proc/mounts); the commands below show \(root)"
            }
        }
    }

    /// `adminAPI` and `webConfiguration` say, in one line each, what the daemon would serve.
    public static func render(_ config: ExporterConfig, tracefs: TraceFSSource, adminAPI: String, webConfiguration: String) -> String {
        let root = tracefs.root
        var out = "# configuration is valid\n"
        out += "# tracefs: \(tracefs.header)\n"
        out += "# instance: \(config.instance.isEmpty ? "(top level)" : config.instance)\n"
        out += "# refresh_interval: \(config.refreshInterval)\n"
        out += "# discovery: \(config.discovery.enabled ? "on" : "off"), series_limit \(config.discovery.seriesLimit)\n"
        out += "# admin API: \(adminAPI)\n"
        out += "# web configuration: \(webConfiguration)\n"
        let start = InstallPlan.start(instance: config.traceInstance)
        if !start.isEmpty {
            out += "\n# at start: the exporter's instance, made when missing and held while it runs\n"
            for w in start { out += w.rendered(root: root) + "\n" }
        }
        for set in config.triggerSets {
            out += "\n# trigger set \(set.name)\(set.installOnStart ? " (installed on start)" : "")\n"
            if !set.description.isEmpty { out += "# \(set.description)\n" }
            for trigger in set.triggers {
                if let m = trigger.metric { out += "# \(trigger.event) -> \(m.kind.rawValue) \(m.name)\n" }
            }
            out += "# install:\n"
            for w in InstallPlan.install(set, instance: config.traceInstance) { out += w.rendered(root: root) + "\n" }
            out += "# remove:\n"
            for w in InstallPlan.remove(set, instance: config.traceInstance) { out += w.rendered(root: root) + "\n" }
        }
        let stop = InstallPlan.stop(instance: config.traceInstance)
        if !stop.isEmpty {
            out += "\n# at stop, after the sets are removed (kept when something else is left in it):\n"
            for w in stop { out += w.rendered(root: root) + "\n" }
        }
        return out
    }
}
