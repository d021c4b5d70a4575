import Dispatch
import Exporter
import ExporterWeb
import HTTPServer
import Locking
import Logging
import Platform
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// The long-running exporter: wiring, start-up, signals. Everything it wires is built
/// and tested in the libraries; this is only the order things happen in.
struct ServerMain {
    var options: ServerOptions
    var logger: Logger

    func run() -> Never {
        ControlSignals.block()
        StandardDescriptors.reserve()
        Heap.fixLargeAllocationThreshold()
        // A client that goes away mid-response must not kill the process, and idle or slow
        // clients must not use up the descriptors a scrape needs: take the hard limit.
        signal(SIGPIPE, SIG_IGN)
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let config: ExporterConfig
        do {
            config = try ConfigSource.load(path: options.configFile).overriding(refreshInterval: options.refreshInterval)
        } catch {
            logger.error("invalid configuration", metadata: ["err": "\(error)"])
            exit(2)
        }

        var adminAuth: AdminAuth?
        if let tokenFile = options.adminTokenFile {
            do {
                adminAuth = AdminAuth(token: try SecretFile.readToken(tokenFile))
            } catch {
                logger.error("cannot use the admin token file", metadata: ["file": "\(tokenFile)", "err": "\(error)"])
                exit(2)
            }
        }

        // TLS, basic auth and headers; an invalid file (or a secret readable by others) stops the
        // start, like an invalid configuration.
        var webConfig = WebConfig.none()
        if let webConfigFile = options.webConfigFile {
            do {
                webConfig = try WebConfigLoader.load(path: webConfigFile)
            } catch {
                logger.error("invalid web configuration", metadata: ["err": "\(error)"])
                exit(2)
            }
        }

        var tracefs: TraceFS
        var located = true
        do {
            tracefs = try TraceFS.locate(explicitPath: options.tracefsPath ?? config.tracefsPath)
        } catch {
            // Keep serving the exporter's own metrics; the logs and ftrace_kernel_feature say why the rest is missing.
            logger.error("tracefs unavailable; serving only the exporter's own metrics", metadata: ["err": "\(error)"])
            tracefs = TraceFS(root: options.tracefsPath ?? (config.tracefsPath.isEmpty ? TraceFS.standardLocations[0] : config.tracefsPath))
            located = false
        }
        let features = tracefs.features()
        logger.info("starting", metadata: [
            "version": "\(ExporterVersion.version)", "revision": "\(ExporterVersion.revision)", "tracefs": "\(tracefs.root)", "instance": "\(config.instance)",
            "hist_triggers": "\(features.histTriggers)", "synthetic_events": "\(features.syntheticEvents)",
        ])
        var instanceLock: InstanceLock?
        let refusal = tracefs.writeRefusal
        if located, let refusal {
            logger.warning("reading captured files, not the kernel: nothing will be installed or removed", metadata: ["detail": "\(refusal)"])
        }
        if located && !features.histTriggers {
            logger.warning("this kernel has no hist triggers (CONFIG_HIST_TRIGGERS is off): only exporter metrics are available")
        }
        if located && refusal == nil {
            do {
                instanceLock = try InstanceLock.acquire(in: tracefs, instance: config.traceInstance)
            } catch where error.isHeld {
                logger.error("cannot start", metadata: ["err": "\(error)"])
                exit(1)
            } catch {
                // A tracefs this process cannot write (read-only, no permission) still has
                // tables to export; what cannot be written cannot be managed either.
                tracefs.readOnlyReason = "\(error): the exporter only reads this tracefs"
                logger.warning("reading tracefs only: nothing will be installed or removed", metadata: ["err": "\(error)"])
            }
        }

        let deadlines = SetDeadlines(path: SetDeadlines.path(in: options.stateDirectory, instance: config.instance))
        let controller = TriggerController(fs: tracefs, config: config, logger: logger, deadlines: deadlines)
        let metrics = ExporterMetrics()
        let collector = HistCollector(config: config, reader: tracefs, logger: logger, features: features)
        let refresher = Refresher(collector: collector, controller: controller, metrics: metrics, logger: logger)
        let rotator = Rotator(controller: controller, metrics: metrics, logger: logger)
        let expiry = InstallExpiry(controller: controller, metrics: metrics, logger: logger) { [weak refresher] in
            refresher?.rebuildAfterChange()
        }
        collector.share(rotator.readings)
        // Start-up, signals and /-/reload run here, one at a time.
        let queue = DispatchQueue(label: "ftrace_exporter.lifecycle")
        let running = Locked<RunningExporter?>(nil)
        var reload: (@Sendable (@escaping @Sendable (String?) -> Void) -> Void)?
        if options.enableLifecycle {
            reload = { done in
                queue.async {
                    guard let process = running.withLock({ $0 }) else { return done("the exporter is still starting") }
                    done(process.reload())
                }
            }
        }
        let app = WebApplication(
            refresher: refresher, controller: controller, metrics: metrics,
            options: .init(telemetryPath: options.telemetryPath, adminAuth: adminAuth, tracefsRoot: tracefs.root, reload: reload,
                           scrapeTimeoutOffset: options.scrapeTimeoutOffset),
            logger: logger)

        let separateAdmin = options.adminListenAddress != nil
        let mainRouter = app.router(includeAdmin: !separateAdmin)
        let webGuard = WebGuard(config: webConfig, adminBearerPassThrough: adminAuth != nil, logger: logger)
        var servers: [HTTPServer] = []
        func serve(_ address: ListenAddress, _ router: Router, _ what: String, adopting socket: Int32? = nil) {
            var configuration = HTTPServerConfiguration()
            configuration.address = address.host
            configuration.port = address.port
            configuration.connectionLimit = options.maxConnections
            configuration.connectionTimeoutSeconds = options.connectionTimeout
            configuration.tls = webConfig.tls
            configuration.errorLog = { message in logger.warning("http server", metadata: ["detail": "\(message)"]) }
            configuration.refusal = { status, message, target in
                router.errorResponse(status, message, path: String(target.prefix { $0 != "?" }))
            }
            let server = HTTPServer(configuration: configuration, replying: { request in
                webGuard.reply(request) { router.reply(to: $0) }
            })
            do {
                if let socket { try server.start(adopting: socket) } else { try server.start() }
            } catch {
                logger.error("cannot listen", metadata: ["address": "\(address)", "err": "\(error)"])
                exit(1)
            }
            logger.info("listening", metadata: [
                "address": "\(ListenAddress(host: address.host, port: server.port))", "serves": "\(what)",
                "tls": "\(webConfig.tls != nil)", "basic_auth": "\(webConfig.basicAuth != nil)",
            ])
            servers.append(server)
        }
        let mainServes = separateAdmin ? "metrics" : (adminAuth == nil ? "metrics" : "metrics and admin API")
        if options.systemdSocket {
            switch SocketActivation.listeners() {
            case .success(let listeners):
                for listener in listeners {
                    serve(ListenAddress(host: listener.host, port: listener.port), mainRouter, mainServes + " (systemd socket)",
                          adopting: listener.descriptor)
                }
            case .failure(let problem):
                logger.error("cannot serve on systemd's sockets (--web.systemd-socket)", metadata: ["err": "\(problem)"])
                exit(1)
            }
        } else {
            for address in options.listenAddresses { serve(address, mainRouter, mainServes) }
        }
        if let adminAddress = options.adminListenAddress { serve(adminAddress, app.adminRouter(), "admin API") }

        if let file = options.webConfigFile {
            logger.info("web configuration", metadata: webConfig.summary(file: file))
        }
        let configReloader = ConfigReloader(
            options: .init(
                configFile: options.configFile, tracefsFromCommandLine: options.tracefsPath != nil,
                refreshInterval: options.refreshInterval, holdsInstance: instanceLock != nil),
            controller: controller, refresher: refresher, rotator: rotator, metrics: metrics, reader: tracefs, logger: logger)
        let webReloader = WebConfigReloader(file: options.webConfigFile, servers: servers, guard: webGuard, logger: logger)
        let process = RunningExporter(
            app: app, servers: servers, controller: controller, refresher: refresher, rotator: rotator, expiry: expiry,
            instanceLock: instanceLock, configReloader: configReloader, webReloader: webReloader, logger: logger)
        running.withLock { $0 = process }
        queue.async {
            // Failures are logged by the controller and shown in the trigger set state.
            _ = controller.startUp()
            refresher.start()
            rotator.start()
            expiry.start()
            logger.info("ready")
        }
        while true {
            let signalNumber = ControlSignals.next()
            // On the start-up queue: a signal that arrives during start-up waits for it.
            switch signalNumber {
            case SIGHUP: queue.sync { process.reload() }
            case SIGINT: queue.sync { process.shutdown(signal: "SIGINT") }
            default: queue.sync { process.shutdown(signal: "SIGTERM") }
            }
        }
    }
}

/// What the control signals act on, one at a time, on the start-up queue.
final class RunningExporter: @unchecked Sendable {
    let app: WebApplication
    let servers: [HTTPServer]
    let controller: TriggerController
    let refresher: Refresher
    let rotator: Rotator
    let expiry: InstallExpiry
    /// Held until the process exits; the kernel releases it however the process ends.
    let instanceLock: InstanceLock?
    let configReloader: ConfigReloader
    let webReloader: WebConfigReloader
    let logger: Logger

    init(
        app: WebApplication, servers: [HTTPServer], controller: TriggerController, refresher: Refresher, rotator: Rotator,
        expiry: InstallExpiry, instanceLock: InstanceLock?, configReloader: ConfigReloader, webReloader: WebConfigReloader, logger: Logger
    ) {
        self.app = app
        self.servers = servers
        self.controller = controller
        self.refresher = refresher
        self.rotator = rotator
        self.expiry = expiry
        self.instanceLock = instanceLock
        self.configReloader = configReloader
        self.webReloader = webReloader
        self.logger = logger
    }

    /// Stop accepting, stop refreshing, remove what we installed, exit 0.
    func shutdown(signal: String) -> Never {
        logger.info("shutting down", metadata: ["signal": "\(signal)"])
        // Admin requests still queued are answered 503 and the action running finishes, while
        // the listeners still serve: nothing queued before the removal below can undo it.
        app.stopActions()
        for server in servers { server.stop() }
        refresher.stop()
        // A rotation under way ends before the removal, so nothing is put back after it.
        rotator.stop()
        // Nor does a deadline's removal run during or after it.
        expiry.stop()
        var code: Int32 = 0
        if controller.config.lifecycle.removeOnExit {
            for failure in controller.removeOwned() {
                logger.error("cannot remove trigger set at exit", metadata: ["set": "\(failure.set)", "err": "\(failure.error)"])
                code = 1
            }
        }
        logger.info("stopped")
        exit(code)
    }

    /// SIGHUP (and `/-/reload`): the web configuration file, then the configuration file; an
    /// invalid one is rejected and the running one stays. Returns why, nil when both were taken.
    @discardableResult
    func reload() -> String? {
        let webFailure = webReloader.reload()
        let configFailure = configReloader.reload(webTaken: webFailure == nil)
        let failures = [webFailure, configFailure].compactMap { $0 }
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }
}

struct ServerOptions {
    var configFile: String?
    var tracefsPath: String?
    var listenAddresses: [ListenAddress]
    var telemetryPath: String
    var adminTokenFile: String?
    var adminListenAddress: ListenAddress?
    var refreshInterval: Double?
    var maxConnections: Int
    var connectionTimeout: Int
    var webConfigFile: String?
    var stateDirectory: String
    var enableLifecycle = false
    /// Serve on the sockets of systemd's socket activation, not on `listenAddresses`.
    var systemdSocket = false
    /// `--web.scrape-timeout-offset`, in seconds.
    var scrapeTimeoutOffset = 0.5

    /// systemd's `StateDirectory=` hands the directory over in $STATE_DIRECTORY (the first one
    /// when it lists several).
    static func defaultStateDirectory() -> String {
        if let given = getenv("STATE_DIRECTORY").map({ String(cString: $0) }), let first = given.split(separator: ":").first {
            return String(first)
        }
        return "/var/lib/ftrace_exporter"
    }
}

/// Started with standard input, output or error closed, the process would hand those numbers
/// to the next files it opens: the listening socket or a client connection would then receive
/// the log lines. They are pointed at /dev/null first. Log writes that fail (a full disk, a
/// closed pipe) are dropped; serving goes on.
enum StandardDescriptors {
    static func reserve() {
        for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
            let opened = open("/dev/null", O_RDWR)
            if opened >= 0 && opened != descriptor {
                dup2(opened, descriptor)
                close(opened)
            }
        }
    }
}

/// SIGTERM, SIGINT and SIGHUP are blocked in every thread and taken by `sigwait` on the main
/// thread, so no exporter code runs in signal-handler context. Threads inherit the signal mask
/// of the thread that creates them: `block()` must run before any thread is started.
enum ControlSignals {
    static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    private static var set: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signalNumber in handled { sigaddset(&set, signalNumber) }
        return set
    }

    static func block() {
        var set = set
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for the next of the handled signals.
    static func next() -> Int32 {
        var set = set
        var signalNumber: Int32 = 0
        while sigwait(&set, &signalNumber) != 0 {}
        return signalNumber
    }
}
