/// Why a reloaded configuration was refused: it drops or changes trigger sets this process has
/// in the kernel. Each reason says how to get past it.
public struct ReloadConflict: Error, Sendable, CustomStringConvertible {
    public var reasons: [String]

    public init(reasons: [String]) { self.reasons = reasons }

    public var description: String { reasons.joined(separator: "; ") }

    /// What in `fresh` would strand kernel state written under `current`.
    static func find(current: ExporterConfig, fresh: ExporterConfig, owned: Set<String>) -> [String] {
        var reasons: [String] = []
        let installed = owned.sorted()
        if !installed.isEmpty && fresh.instance != current.instance {
            reasons.append(
                "the instance changes from '\(current.instance)' to '\(fresh.instance)' while \(installed.joined(separator: ", ")) "
                    + "\(installed.count == 1 ? "is" : "are") installed in it: remove \(installed.count == 1 ? "that set" : "those sets") first "
                    + "(POST /api/v1/remove-all), then reload")
        }
        for name in installed {
            guard let old = current.triggerSet(named: name) else { continue }
            guard let new = fresh.triggerSet(named: name) else {
                reasons.append("trigger set '\(name)' is installed and the new configuration drops it: "
                    + "remove it first (POST /api/v1/trigger-sets/\(name)/remove), then reload")
                continue
            }
            if !old.writesSameKernelState(as: new) {
                reasons.append("trigger set '\(name)' is installed and the new configuration changes its triggers, synthetic or probe events: "
                    + "remove it first (POST /api/v1/trigger-sets/\(name)/remove), then reload and install it again")
            }
        }
        return reasons
    }
}

extension TriggerSet {
    /// Same probe events, synthetic events and triggers, in the same order: what was written
    /// can be removed with the new definition's text. Descriptions and metric mappings may differ.
    func writesSameKernelState(as other: TriggerSet) -> Bool {
        probeEvents.map(\.text) == other.probeEvents.map(\.text)
            && syntheticEvents.map(\.text) == other.syntheticEvents.map(\.text)
            && triggers.map { "\($0.event) \($0.command)" } == other.triggers.map { "\($0.event) \($0.command)" }
    }
}
