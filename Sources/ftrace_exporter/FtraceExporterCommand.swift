import Exporter
import ExporterWeb
import Exposition
import Logging
import Platform
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Leaves the command with this exit status (see the README's exit codes).
struct ExitStatus: Error {
    let code: Int32
}

@main
struct FtraceExporterCommand {
    static var help: CommandHelp {
        CommandHelp(
            command: "ftrace_exporter",
            overview: "Prometheus exporter for Linux ftrace in-kernel histograms (hist triggers, synthetic events).")
    }

    let flags: Flags

    /// A mistyped flag exits 2, like every other usage or configuration error: the shipped
    /// systemd unit stops restarting on 2 (`RestartPreventExitStatus=2`), and a typo in
    /// `systemctl edit` must not restart forever.
    static func main() {
        let command: FtraceExporterCommand
        switch FlagParser.parse(Array(ProcessArguments.all.dropFirst())) {
        case .success(.help):
            print(help.text, terminator: "")
            return
        case .success(.version):
            print(ExporterVersion.versionText)
            return
        case .success(.run(let flags)):
            command = FtraceExporterCommand(flags: flags)
        case .failure(let error):
            refuseUsage(error)
        }
        do throws(UsageError) {
            try command.validate()
        } catch {
            refuseUsage(error)
        }
        do throws(ExitStatus) {
            try command.run()
        } catch {
            exit(error.code)
        }
    }

    static func refuseUsage(_ error: UsageError) -> Never {
        let text = Array(help.usageErrorText(error).utf8)
        _ = text.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        exit(2)
    }

    /// More listeners than this is a mistake, not a deployment.
    static let mostListenAddresses = 16

    func validate() throws(UsageError) {
        guard LogLevelName.parse(flags.logLevel) != nil else {
            throw UsageError("--log.level must be one of debug, info, warn, error (got '\(flags.logLevel)')")
        }
        guard StructuredLogHandler.Format(rawValue: flags.logFormat) != nil else {
            throw UsageError("--log.format must be logfmt or json (got '\(flags.logFormat)')")
        }
        if flags.once && flags.checkConfig { throw UsageError("--once and --check-config cannot be combined") }
        guard flags.listenAddresses.count <= Self.mostListenAddresses else {
            throw UsageError("--web.listen-address is given \(flags.listenAddresses.count) times; at most \(Self.mostListenAddresses)")
        }
        var mains: [(text: String, address: ListenAddress)] = []
        for text in flags.listenAddresses {
            guard let address = ListenAddress(text) else {
                throw UsageError("--web.listen-address must be [host]:port, e.g. :9747 or 127.0.0.1:9747 or [::1]:9747 (got '\(text)')")
            }
            if case .failure(let failure) = address.resolved() { throw UsageError("--web.listen-address: \(failure)") }
            if let other = mains.first(where: { $0.address.overlaps(address) }) {
                throw UsageError("--web.listen-address is given twice for the same port: '\(other.text)' and '\(text)'")
            }
            mains.append((text, address))
        }
        if let adminListenAddress = flags.adminListenAddress {
            guard let address = ListenAddress(adminListenAddress) else {
                throw UsageError("--admin.listen-address must be [host]:port (got '\(adminListenAddress)')")
            }
            if case .failure(let failure) = address.resolved() { throw UsageError("--admin.listen-address: \(failure)") }
            if let main = mains.first(where: { address.overlaps($0.address) }) {
                throw UsageError("--admin.listen-address must be another port than --web.listen-address, whose listener would take it first (got '\(adminListenAddress)' and '\(main.text)')")
            }
        }
        if let refreshInterval = flags.refreshInterval, parseDurationFlag(refreshInterval) == nil {
            throw UsageError("--refresh.interval must be a duration like 5s, 500ms or 0 (got '\(refreshInterval)')")
        }
        guard parseDurationFlag(flags.scrapeTimeoutOffset) != nil else {
            throw UsageError("--web.scrape-timeout-offset must be a duration like 500ms or 0 (got '\(flags.scrapeTimeoutOffset)')")
        }
        guard let timeout = parseDurationFlag(flags.connectionTimeout), timeout >= 1 else {
            throw UsageError("--web.connection-timeout must be a duration of at least 1s (got '\(flags.connectionTimeout)')")
        }
        guard flags.maxConnections >= 1 else { throw UsageError("--web.max-connections must be at least 1") }
        guard flags.telemetryPath.hasPrefix("/"), flags.telemetryPath.count > 1, !flags.telemetryPath.hasPrefix("/api/"), !flags.telemetryPath.hasPrefix("/-/") else {
            throw UsageError("--web.telemetry-path must start with '/' and not be '/', '/api/...' or '/-/...' (got '\(flags.telemetryPath)')")
        }
    }

    func run() throws(ExitStatus) {
        let level = LogLevelName.parse(flags.logLevel)!
        let format = StructuredLogHandler.Format(rawValue: flags.logFormat)!
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, level: level, format: format) }
        let logger = Logger(label: "ftrace_exporter")

        if !flags.once && !flags.checkConfig {
            let options = ServerOptions(
                configFile: flags.configFile, tracefsPath: flags.tracefsPath,
                listenAddresses: flags.listenAddresses.map { try! ListenAddress($0)!.resolved().get() },
                telemetryPath: flags.telemetryPath, adminTokenFile: flags.adminTokenFile,
                adminListenAddress: flags.adminListenAddress.map { try! ListenAddress($0)!.resolved().get() },
                refreshInterval: flags.refreshInterval.flatMap(parseDurationFlag), maxConnections: flags.maxConnections,
                connectionTimeout: Int(parseDurationFlag(flags.connectionTimeout)!.rounded(.up)), webConfigFile: flags.webConfigFile,
                stateDirectory: flags.stateDirectory ?? ServerOptions.defaultStateDirectory(), enableLifecycle: flags.enableLifecycle,
                systemdSocket: flags.systemdSocket, scrapeTimeoutOffset: parseDurationFlag(flags.scrapeTimeoutOffset)!)
            ServerMain(options: options, logger: logger).run()
        }

        if flags.checkConfig {
            try checkConfiguration(logger: logger)
            return
        }

        let config: ExporterConfig
        do {
            config = try ConfigSource.load(path: flags.configFile)
        } catch {
            logger.error("invalid configuration", metadata: ["err": "\(error)"])
            throw ExitStatus(code: 2)
        }

        let tracefs: TraceFS
        do {
            tracefs = try TraceFS.locate(explicitPath: flags.tracefsPath ?? config.tracefsPath)
        } catch {
            logger.error("tracefs unavailable", metadata: ["err": "\(error)"])
            throw ExitStatus(code: 1)
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
    func checkConfiguration(logger: Logger) throws(ExitStatus) {
        let atTerminal = isatty(STDERR_FILENO) == 1
        func refuse(_ what: String, _ error: any Error) throws(ExitStatus) -> Never {
            if atTerminal {
                let line = Array("ftrace_exporter: \(what): \(error)\n".utf8)
                _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            } else {
                logger.error("\(what)", metadata: ["err": "\(error)"])
            }
            throw ExitStatus(code: 2)
        }
        let config: ExporterConfig
        do {
            config = try ConfigSource.load(path: flags.configFile)
        } catch {
            try refuse("invalid configuration", error)
        }
        var web = "none"
        if let webConfigFile = flags.webConfigFile {
            do {
                let loaded = try WebConfigLoader.load(path: webConfigFile)
                web = "\(webConfigFile): TLS \(loaded.tls == nil ? "off" : "on"), \(loaded.users.count) basic auth user(s)"
            } catch {
                try refuse("invalid web configuration", error)
            }
        }
        var admin = "off (no --admin.token-file)"
        if let adminTokenFile = flags.adminTokenFile {
            do {
                let token = try SecretFile.readToken(adminTokenFile)
                admin = "on \(flags.adminListenAddress ?? flags.listenAddresses.joined(separator: " and ")), token from \(adminTokenFile) (\(token.count) bytes)"
            } catch {
                try refuse("cannot use the admin token file", error)
            }
        }
        let report = CheckConfigReport.render(
            config, tracefs: .init(flag: flags.tracefsPath, configuration: config.tracefsPath), adminAPI: admin, webConfiguration: web)
        try writeStandardOutput(Array(report.utf8), logger: logger)
    }

    /// What `--once` and `--check-config` print is their whole result: a write that fails
    /// (a full disk under a textfile collector, a closed pipe) must fail the command, or a
    /// truncated file would pass for a complete one.
    func writeStandardOutput(_ bytes: [UInt8], logger: Logger) throws(ExitStatus) {
        if let failure = writeAll(bytes) {
            logger.error("cannot write to standard output", metadata: ["err": "\(failure)", "bytes": "\(bytes.count)"])
            throw ExitStatus(code: 1)
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
