import TraceFS

/// What `--check-config` prints: the validated allow-list and every write it implies.
public enum CheckConfigReport {
    public static func render(_ config: ExporterConfig, tracefsRoot: String) -> String {
        var out = "# configuration is valid\n"
        out += "# tracefs: \(config.tracefsPath.isEmpty ? "auto-detect" : config.tracefsPath)\n"
        out += "# instance: \(config.instance.isEmpty ? "(top level)" : config.instance)\n"
        out += "# refresh_interval: \(config.refreshInterval)\n"
        out += "# discovery: \(config.discovery.enabled ? "on" : "off"), series_limit \(config.discovery.seriesLimit)\n"
        for set in config.triggerSets {
            out += "\n# trigger set \(set.name)\(set.installOnStart ? " (installed on start)" : "")\n"
            if !set.description.isEmpty { out += "# \(set.description)\n" }
            for trigger in set.triggers {
                if let m = trigger.metric { out += "# \(trigger.event) -> \(m.kind.rawValue) \(m.name)\n" }
            }
            out += "# install:\n"
            for w in InstallPlan.install(set, instance: config.traceInstance) { out += w.rendered(root: tracefsRoot) + "\n" }
            out += "# remove:\n"
            for w in InstallPlan.remove(set, instance: config.traceInstance) { out += w.rendered(root: tracefsRoot) + "\n" }
        }
        return out
    }
}
