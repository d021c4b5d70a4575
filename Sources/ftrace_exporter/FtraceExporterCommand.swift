import ArgumentParser
import Exporter
import Exposition
import Logging
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

@main
struct FtraceExporterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ftrace_exporter",
        abstract: "Prometheus exporter for Linux ftrace in-kernel histograms (hist triggers, synthetic events).",
        version: ExporterVersion.version
    )

    @Option(name: .customLong("config.file"), help: "YAML configuration file. Without it, the built-in configuration is used.")
    var configFile: String?

    @Option(name: .customLong("path.tracefs"), help: "tracefs mount point; overrides tracefs.path of the configuration.")
    var tracefsPath: String?

    @Flag(name: .customLong("once"), help: "Read the current tables once, print the exposition to stdout and exit. Installs nothing.")
    var once = false

    @Flag(name: .customLong("check-config"), help: "Validate the configuration, print the tracefs writes it would make, and exit.")
    var checkConfig = false

    @Option(name: .customLong("log.level"), help: "Log level: debug, info, warn, error.")
    var logLevel: String = "info"

    @Option(name: .customLong("log.format"), help: "Log format: logfmt or json.")
    var logFormat: String = "logfmt"

    func validate() throws {
        guard LogLevelName.parse(logLevel) != nil else {
            throw ValidationError("--log.level must be one of debug, info, warn, error (got '\(logLevel)')")
        }
        guard StructuredLogHandler.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log.format must be logfmt or json (got '\(logFormat)')")
        }
        if once && checkConfig { throw ValidationError("--once and --check-config cannot be combined") }
    }

    func run() throws {
        let level = LogLevelName.parse(logLevel)!
        let format = StructuredLogHandler.Format(rawValue: logFormat)!
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, level: level, format: format) }
        let logger = Logger(label: "ftrace_exporter")

        let config: ExporterConfig
        do {
            config = try ConfigSource.load(path: configFile)
        } catch {
            logger.error("invalid configuration", metadata: ["err": "\(error)"])
            throw ExitCode(2)
        }

        if checkConfig {
            print(CheckConfigReport.render(config, tracefsRoot: tracefsPath ?? (config.tracefsPath.isEmpty ? TraceFS.standardLocations[0] : config.tracefsPath)), terminator: "")
            return
        }

        let tracefs: TraceFS
        do {
            tracefs = try TraceFS.locate(explicitPath: tracefsPath ?? config.tracefsPath)
        } catch {
            logger.error("tracefs unavailable", metadata: ["err": "\(error)"])
            throw ExitCode(1)
        }
        let features = tracefs.features()
        if !features.histTriggers {
            logger.warning(
                "this kernel has no hist triggers (CONFIG_HIST_TRIGGERS is off): only exporter metrics are available",
                metadata: ["tracefs": "\(tracefs.root)"])
        }

        if once {
            let collector = HistCollector(config: config, reader: tracefs, logger: logger, features: features)
            let families = collector.collect()
            let bytes = ExpositionEncoder.encode(families, format: .text004)
            writeAll(bytes)
            return
        }
        logger.error("the long-running server is not part of this build yet; use --once or --check-config")
        throw ExitCode(1)
    }

    func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }
}

enum LogLevelName {
    static func parse(_ s: String) -> Logger.Level? {
        switch s {
        case "debug": return .debug
        case "info": return .info
        case "warn", "warning": return .warning
        case "error": return .error
        default: return nil
        }
    }
}
