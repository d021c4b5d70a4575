import Exporter
import Exposition
import FuzzSupport
import HistFormat
import Logging
import TraceFS
import TraceFSTesting

// A configuration file's text. Loading gives a validated configuration or a `ConfigError`
// placed inside the file. A configuration that loads must hold up in use: `--check-config`
// renders it, and on an in-memory kernel every set installs (or fails and is rolled back),
// a refresh builds a valid exposition, and remove-all takes away what was installed, all
// with writes taken from the configuration alone.

enum ConfigTarget {
    static let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

    static func run(_ bytes: [UInt8]) {
        // The loader is handed text: the file reader refuses bytes that are not UTF-8.
        guard let yaml = String(validating: bytes, as: UTF8.self) else { return }
        let config: ExporterConfig
        do {
            config = try ConfigLoader.load(yaml: yaml, file: "fuzz.yml")
        } catch {
            require(error.file == "fuzz.yml", "error names another file: \(error)")
            if let line = error.line {
                // YAML marks count lines as YAML breaks them and columns in characters; a mark
                // may sit on the empty line after the last line break.
                let lengths = yamlLineLengths(yaml)
                require(line >= 1 && line <= lengths.count, "error line \(line) outside the \(lengths.count) lines: \(error)")
                if let column = error.column {
                    require(column >= 1 && column <= lengths[line - 1] + 1, "error column \(column) outside line \(line): \(error)")
                }
            } else {
                require(error.column == nil, "a column without a line: \(error)")
            }
            return
        }
        checkStructure(config)
        _ = CheckConfigReport.render(config, tracefs: .autoDetect, adminAPI: "off", webConfiguration: "none")
        exercise(config)
    }

    /// Characters per line, lines broken at LF, CRLF, CR, NEL, LS and PS (YAML 1.1, libyaml).
    static func yamlLineLengths(_ yaml: String) -> [Int] {
        var lengths = [0]
        var previous: Unicode.Scalar?
        for scalar in yaml.unicodeScalars {
            if ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar) {
                if !(scalar == "\n" && previous == "\r") { lengths.append(0) }
            } else {
                lengths[lengths.count - 1] += 1
            }
            previous = scalar
        }
        return lengths
    }

    static func checkStructure(_ config: ExporterConfig) {
        require(config.refreshInterval.value.isFinite && config.refreshInterval.value >= 0, "refresh_interval \(config.refreshInterval.value)")
        require(config.discovery.rescanInterval.isFinite && config.discovery.rescanInterval >= 0,
                "rescan_interval \(config.discovery.rescanInterval)")
        require(config.discovery.seriesLimit >= 1, "discovery series_limit \(config.discovery.seriesLimit)")
        var names: Set<String> = []
        for set in config.triggerSets {
            require(names.insert(set.name).inserted, "set \(set.name) twice")
            require(!set.name.isEmpty && !set.name.contains("/") && set.name != "." && set.name != "..", "unsafe set name '\(set.name)'")
            require(!set.triggers.isEmpty, "set \(set.name) without triggers")
            for trigger in set.triggers {
                require(!trigger.command.contains("\n") && !trigger.command.hasPrefix("!"), "command '\(trigger.command)'")
                require(trigger.command.utf8.count < 4096, "command of \(trigger.command.utf8.count) bytes")
                require((try? TriggerInfo.parse(trigger.command)) == trigger.info, "command does not parse to its info: \(trigger.command)")
                if let metric = trigger.metric {
                    require(isMetricName(metric.name), "metric name '\(metric.name)'")
                    require(metric.scale.factor.isFinite && metric.scale.factor > 0, "scale \(metric.scale.factor)")
                    require(metric.seriesLimit >= 1, "series_limit \(metric.seriesLimit)")
                    for label in metric.labels { require(isLabelName(label.name), "label name '\(label.name)'") }
                    if let buckets = metric.buckets {
                        require(!buckets.isEmpty && zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 }, "buckets \(buckets)")
                    }
                }
            }
            for synthetic in set.syntheticEvents {
                require(!synthetic.text.contains("\n") && !synthetic.text.hasPrefix("!"), "synthetic event '\(synthetic.text)'")
            }
        }
    }

    /// The writes a configuration allows: its install and removal plans, their rollbacks, and
    /// the control commands of the admin API.
    static func plannedTexts(_ config: ExporterConfig) -> Set<String> {
        var texts: Set<String> = []
        for set in config.triggerSets {
            for write in InstallPlan.install(set, instance: config.traceInstance) + InstallPlan.remove(set, instance: config.traceInstance) {
                if case .append(let text) = write.action { texts.insert(text) }
            }
            for trigger in set.triggers {
                texts.insert("!" + trigger.command)
                for control in ["pause", "cont", "clear"] { texts.insert(controlCommand(trigger.command, control)) }
            }
        }
        return texts
    }

    static func controlCommand(_ command: String, _ word: String) -> String {
        if let r = command.firstRange(of: " if ") {
            return String(command[..<r.lowerBound]) + ":" + word + String(command[r.lowerBound...])
        }
        return command + ":" + word
    }

    static func exercise(_ config: ExporterConfig) {
        let fs = FakeKernelTraceFS()
        let controller = TriggerController(fs: fs, config: config, logger: logger)
        for set in config.triggerSets {
            let before = controller.statuses().map { ($0.name, $0.state) }
            do {
                let status = try controller.install(set.name)
                require(status.state == .installed, "install of \(set.name) answered \(status.state)")
            } catch {
                if error.rollback.allSatisfy({ $0.result == "ok" }) {
                    let after = controller.statuses().map { ($0.name, $0.state) }
                    require(after.elementsEqual(before, by: { $0 == $1 }),
                            "a failed install of \(set.name) left \(after), was \(before): \(error)")
                }
            }
        }
        let collector = HistCollector(config: config, reader: fs, logger: logger, features: fs.features(), clock: { 0 })
        let refresher = Refresher(collector: collector, controller: controller, metrics: ExporterMetrics(), logger: logger)
        let snapshot = refresher.refreshSharing()
        checkFamilies(snapshot.families)
        checkExpositionText(snapshot.text, openMetrics: false)
        checkExpositionText(snapshot.bytes(format: .openMetrics100), openMetrics: true)

        for result in controller.removeAll() where result.error == nil {
            let state = try? controller.status(of: result.set).state
            require(state == .absent, "set \(result.set) is \(String(describing: state)) after a removal that worked")
        }
        let allowed = plannedTexts(config)
        for write in fs.writes {
            require(allowed.contains(write.text), "wrote '\(write.text)' to \(write.path), which the configuration does not hold")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    ConfigTarget.run(fuzzBytes(data, size))
    return 0
}

#if !FUZZING
@main enum Replay {
    static func main() { replayInputs(ConfigTarget.run) }
}
#endif
