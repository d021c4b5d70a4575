import Exporter
import Exposition
import Foundation
import FuzzSupport
import HistFormat
import Logging
import TraceFS
import TraceFSTesting

// A whole hist file, as bytes read from tracefs. The parser must give a model or a typed error
// placed inside the input; a model must then go through the collector (owned mapping or
// discovery) and both exposition formats to output a Prometheus server accepts.

enum HistTarget {
    static let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The built-in configuration and the one the golden tests pair with the corpus, so a
    /// mutated corpus table still meets its configured mapping.
    static let configs: [ExporterConfig] = {
        var configs: [ExporterConfig] = []
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/configs/corpus-mappings.yml")
        if let text = try? String(contentsOf: corpus, encoding: .utf8), let config = try? ConfigLoader.load(yaml: text, file: corpus.path) {
            configs.append(config)
        }
        if let config = try? DefaultConfig.load() { configs.append(config) }
        require(!configs.isEmpty, "no configuration loads")
        return configs
    }()

    static let features = FakeKernelTraceFS().features()
    static let discoveredEvent = EventName(system: "fuzz", event: "table")

    static func run(_ bytes: [UInt8]) {
        let parsed: HistFile
        do {
            parsed = try HistParser.parse(bytes)
        } catch {
            let lines = LineTable(bytes)
            require(lines.contains(line: error.line, column: error.column),
                    "error \(error) outside the input (\(lines.count) lines)")
            collect(bytes, parsed: nil)
            return
        }
        let lines = LineTable(bytes)
        for block in parsed.blocks {
            require(lines.contains(line: block.line, column: 1), "block line \(block.line) outside the input")
            require(!block.triggerInfo.keys.isEmpty, "a block without keys")
            for entry in block.entries {
                require(entry.keys.count == block.triggerInfo.keys.count,
                        "an entry with \(entry.keys.count) keys in a table of \(block.triggerInfo.keys.count)")
            }
        }
        collect(bytes, parsed: parsed)
    }

    /// Serves the bytes as the hist file of the event a configuration owns the table on (so its
    /// mapping applies), or of an unknown event (so discovery maps it).
    static func collect(_ bytes: [UInt8], parsed: HistFile?) {
        var config = configs[configs.count - 1]
        var event = discoveredEvent
        var instance = TraceInstance.topLevel
        if let parsed {
            search: for candidate in configs {
                for set in candidate.triggerSets {
                    for trigger in set.triggers where parsed.blocks.contains(where: { $0.triggerInfo.identity == trigger.info.identity }) {
                        config = candidate
                        event = trigger.event
                        instance = candidate.traceInstance
                        break search
                    }
                }
            }
        }
        config.discovery.pidLabels = bytes.count % 2 == 0
        let reader = OneHistReader(event: event, instance: instance, hist: bytes)
        let collector = HistCollector(config: config, reader: reader, logger: logger, features: features, clock: { 0 })
        let families = collector.collect()

        let success = families.first { $0.name == "ftrace_hist_read_success" }?.allMetrics.first {
            $0.labels.contains(Label("event", event.event))
        }
        if let success {
            require(success.value == .gauge(parsed == nil ? 0 : 1), "read_success \(success.value) for a parse that \(parsed == nil ? "failed" : "worked")")
        } else {
            require(bytes.isEmpty, "no read_success series for a non-empty hist file")
        }

        // The kernel refuses a second trigger with the same identity on an event, so one hist
        // file never holds two such tables; such inputs would repeat series by construction.
        let identities = parsed?.blocks.map(\.triggerInfo.identity) ?? []
        if Set(identities).count == identities.count {
            checkFamilies(families)
        }
        for format in [ExpositionFormat.text004, .openMetrics100] {
            let text = ExpositionEncoder.encode(families, format: format)
            checkExpositionText(text, openMetrics: format == .openMetrics100)
        }
    }
}

/// A tracefs with one event whose hist file holds the input, and the event's real format
/// where the fake kernel knows it.
struct OneHistReader: TraceFileReader {
    let event: EventName
    let instance: TraceInstance
    let hist: [UInt8]
    var root: String { "/fuzz" }

    func read(_ relativePath: String) throws(TraceFSError) -> [UInt8] {
        let directory = eventDirectory(event, in: instance)
        if relativePath == directory + "/hist" { return hist }
        if relativePath == eventDirectory(event, in: .topLevel) + "/format" || relativePath == directory + "/format",
           let format = FakeKernelTraceFS.referenceFormat(for: event) {
            return Array(format.utf8)
        }
        throw TraceFSError.system(ENOENT, relativePath)
    }

    func list(_ relativePath: String) throws(TraceFSError) -> [String] {
        switch relativePath {
        case "instances": if case .named(let name) = instance { return [name] } else { return [] }
        case instance.directory + "events": return [event.system]
        case instance.directory + "events/" + event.system: return [event.event]
        default: throw TraceFSError.system(ENOENT, relativePath)
        }
    }

    func exists(_ relativePath: String) -> Bool {
        let directory = eventDirectory(event, in: instance)
        return [directory, directory + "/hist", instance.directory + "events"].contains(relativePath)
            || (try? list(relativePath)) != nil
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHist(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    HistTarget.run(fuzzBytes(data, size))
    return 0
}

#if !FUZZING
@main enum Replay {
    static func main() { replayInputs(HistTarget.run) }
}
#endif
