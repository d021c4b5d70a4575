import ArgumentParser
import Exporter
import ExporterWeb
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
        version: ExporterVersion.versionText
    )

    /// A mistyped flag exits 2, like every other usage or configuration error, not the parser's
    /// 64: the shipped systemd unit stops restarting on 2 (`RestartPreventExitStatus=2`), and a
    /// typo in `systemctl edit` must not restart forever.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                let message = fullMessage(for: error)
                let line = Array((message.hasSuffix("\n") ? message : message + "\n").utf8)
                _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }

    @Option(name: .customLong("config.file"), help: "YAML configuration file. Without it, the built-in configuration is used.")
    var configFile: String?

    @Option(name: .customLong("path.tracefs"), help: "tracefs mount point; overrides tracefs.path of the configuration.")
    var tracefsPath: String?

    @Flag(name: .customLong("once"), help: "Read the current tables once, print the exposition to stdout and exit. Installs nothing.")
    var once = false

    @Flag(name: .customLong("check-config"), help: "Check what the start would check (configuration, web configuration, token file) without touching the kernel, print the tracefs writes it would make, and exit.")
    var checkConfig = false

    @Option(name: .customLong("web.listen-address"), help: "Address to serve metrics (and, unless --admin.listen-address is given, the admin API) on.")
    var listenAddress: String = ":9747"

    @Option(name: .customLong("web.telemetry-path"), help: "Path under which to expose metrics.")
    var telemetryPath: String = "/metrics"

    @Option(name: .customLong("web.config.file"), help: "Web configuration file (TLS, basic auth, headers) in Prometheus exporter-toolkit format; re-read on SIGHUP.")
    var webConfigFile: String?

    @Option(name: .customLong("web.max-connections"), help: "Most concurrent HTTP connections per listener; more are closed at once.")
    var maxConnections: Int = 4096

    @Option(name: .customLong("web.connection-timeout"), help: "Idle HTTP connections are closed after this long.")
    var connectionTimeout: String = "30s"

    @Option(name: .customLong("admin.token-file"), help: "File holding the admin API's bearer token, 16 bytes or more (mode 0600 or 0400). Without it the admin API is off.")
    var adminTokenFile: String?

    @Option(name: .customLong("admin.listen-address"), help: "Serve the admin API on this address only (e.g. 127.0.0.1:9748), not on the metrics listener.")
    var adminListenAddress: String?

    @Option(name: .customLong("refresh.interval"), help: "Overrides refresh_interval of the configuration; 0 reads the kernel on every scrape.")
    var refreshInterval: String?

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
        guard let address = ListenAddress(listenAddress) else {
            throw ValidationError("--web.listen-address must be [host]:port, e.g. :9747 or 127.0.0.1:9747 or [::1]:9747 (got '\(listenAddress)')")
        }
        if case .failure(let failure) = address.resolved() { throw ValidationError("--web.listen-address: \(failure)") }
        if let adminListenAddress {
            guard let address = ListenAddress(adminListenAddress) else {
                throw ValidationError("--admin.listen-address must be [host]:port (got '\(adminListenAddress)')")
            }
            if case .failure(let failure) = address.resolved() { throw ValidationError("--admin.listen-address: \(failure)") }
            if let main = ListenAddress(listenAddress), address.overlaps(main) {
                throw ValidationError("--admin.listen-address must be another port than --web.listen-address, whose listener would take it first (got '\(adminListenAddress)' and '\(listenAddress)')")
            }
        }
        if let refreshInterval, parseDurationFlag(refreshInterval) == nil {
            throw ValidationError("--refresh.interval must be a duration like 5s, 500ms or 0 (got '\(refreshInterval)')")
        }
        guard let timeout = parseDurationFlag(connectionTimeout), timeout >= 1 else {
            throw ValidationError("--web.connection-timeout must be a duration of at least 1s (got '\(connectionTimeout)')")
        }
        guard maxConnections >= 1 else { throw ValidationError("--web.max-connections must be at least 1") }
        guard telemetryPath.hasPrefix("/"), telemetryPath.count > 1, !telemetryPath.hasPrefix("/api/"), !telemetryPath.hasPrefix("/-/") else {
            throw ValidationError("--web.telemetry-path must start with '/' and not be '/', '/api/...' or '/-/...' (got '\(telemetryPath)')")
        }
    }

    func run() throws {
        let level = LogLevelName.parse(logLevel)!
        let format = StructuredLogHandler.Format(rawValue: logFormat)!
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, level: level, format: format) }
        let logger = Logger(label: "ftrace_exporter")

        if !once && !checkConfig {
            let options = ServerOptions(
                configFile: configFile, tracefsPath: tracefsPath, listenAddress: try! ListenAddress(listenAddress)!.resolved().get(),
                telemetryPath: telemetryPath, adminTokenFile: adminTokenFile,
                adminListenAddress: adminListenAddress.map { try! ListenAddress($0)!.resolved().get() },
                refreshInterval: refreshInterval.flatMap(parseDurationFlag), maxConnections: maxConnections,
                connectionTimeout: Int(parseDurationFlag(connectionTimeout)!.rounded(.up)), webConfigFile: webConfigFile)
            ServerMain(options: options, logger: logger).run()
        }

        if checkConfig {
            try checkConfiguration(logger: logger)
            return
        }

        let config: ExporterConfig
        do {
            config = try ConfigSource.load(path: configFile)
        } catch {
            logger.error("invalid configuration", metadata: ["err": "\(error)"])
            throw ExitCode(2)
        }

        let tracefs: TraceFS
        do {
            tracefs = try TraceFS.locate(explicitPath: tracefsPath ?? config.tracefsPath)
        } catch {
            logger.error("tracefs unavailable", metadata: ["err": "\(error)"])
            throw ExitCode(1)
        }
        let features = tracefs.features()
        if let refusal = tracefs.writeRefusal {
            logger.info("reading captured files, not the kernel", metadata: ["detail": "\(refusal)"])
        }
        if !features.histTriggers {
            logger.warning(
                "this kernel has no hist triggers (CONFIG_HIST_TRIGGERS is off): only exporter metrics are available",
                metadata: ["tracefs": "\(tracefs.root)"])
        }
        let collector = HistCollector(config: config, reader: tracefs, logger: logger, features: features)
        try writeStandardOutput(ExpositionEncoder.encode(collector.collect(), format: .text004), logger: logger)
    }

    /// Checks everything the daemon's start would check without touching the kernel: the
    /// configuration, the web configuration and the admin token file, and prints the writes.
    /// A person at a terminal reads its errors as sentences; a script reads log records.
    func checkConfiguration(logger: Logger) throws {
        let atTerminal = isatty(STDERR_FILENO) == 1
        func refuse(_ what: String, _ error: any Error) throws -> Never {
            if atTerminal {
                let line = Array("ftrace_exporter: \(what): \(error)\n".utf8)
                _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            } else {
                logger.error("\(what)", metadata: ["err": "\(error)"])
            }
            throw ExitCode(2)
        }
        let config: ExporterConfig
        do {
            config = try ConfigSource.load(path: configFile)
        } catch {
            try refuse("invalid configuration", error)
        }
        var web = "none"
        if let webConfigFile {
            do {
                let loaded = try WebConfigLoader.load(path: webConfigFile)
                web = "\(webConfigFile): TLS \(loaded.tls == nil ? "off" : "on"), \(loaded.users.count) basic auth user(s)"
            } catch {
                try refuse("invalid web configuration", error)
            }
        }
        var admin = "off (no --admin.token-file)"
        if let adminTokenFile {
            do {
                let token = try SecretFile.readToken(adminTokenFile)
                admin = "on \(adminListenAddress ?? listenAddress), token from \(adminTokenFile) (\(token.count) bytes)"
            } catch {
                try refuse("cannot use the admin token file", error)
            }
        }
        let report = CheckConfigReport.render(
            config, tracefs: .init(flag: tracefsPath, configuration: config.tracefsPath), adminAPI: admin, webConfiguration: web)
        try writeStandardOutput(Array(report.utf8), logger: logger)
    }

    /// What `--once` and `--check-config` print is their whole result: a write that fails
    /// (a full disk under a textfile collector, a closed pipe) must fail the command, or a
    /// truncated file would pass for a complete one.
    func writeStandardOutput(_ bytes: [UInt8], logger: Logger) throws {
        if let failure = writeAll(bytes) {
            logger.error("cannot write to standard output", metadata: ["err": "\(failure)", "bytes": "\(bytes.count)"])
            throw ExitCode(1)
        }
    }

    /// Writes every byte to standard output; the errno of a failed write, named.
    func writeAll(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return "\(errnoName(errno)) (\(String(cString: strerror(errno)))) after \(offset) bytes" }
                if n == 0 { return "nothing written after \(offset) bytes" }
                offset += n
            }
            return nil
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
