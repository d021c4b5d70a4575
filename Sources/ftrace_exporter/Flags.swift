/// The command line's values, with the defaults the README's "Command line" table gives.
struct Flags: Equatable {
    var configFile: String?
    var tracefsPath: String?
    var once = false
    var checkConfig = false
    /// Repeatable: every address is served.
    var listenAddresses = [":9747"]
    var telemetryPath = "/metrics"
    var webConfigFile: String?
    var maxConnections = 4096
    var connectionTimeout = "30s"
    var scrapeTimeoutOffset = "500ms"
    var adminTokenFile: String?
    var adminListenAddress: String?
    var refreshInterval: String?
    var stateDirectory: String?
    var enableLifecycle = false
    var systemdSocket = false
    var logLevel = "info"
    var logFormat = "logfmt"
}

/// One flag: its name, what it sets, and its line in `--help`.
struct FlagDefinition {
    enum Target {
        case text(WritableKeyPath<Flags, String>)
        case optionalText(WritableKeyPath<Flags, String?>)
        case number(WritableKeyPath<Flags, Int>)
        case toggle(WritableKeyPath<Flags, Bool>)
        /// Repeatable: the first use replaces the default, each further one adds a value.
        case list(WritableKeyPath<Flags, [String]>)
    }

    let name: String
    /// What the value is, as `--help` shows it (`<file>`); nil for a flag without a value.
    let valueName: String?
    let help: String
    let target: Target

    init(_ name: String, _ valueName: String?, _ target: Target, _ help: String) {
        self.name = name
        self.valueName = valueName
        self.target = target
        self.help = help
    }

    /// The default shown in `--help`: the value `Flags()` starts with, when it has one.
    var defaultText: String? {
        switch target {
        case .text(let path): return Flags()[keyPath: path]
        case .number(let path): return String(Flags()[keyPath: path])
        case .list(let path): return Flags()[keyPath: path].joined(separator: ", ")
        case .optionalText, .toggle: return nil
        }
    }

    /// The flag as `--help` and its errors name it: `--config.file <file>`.
    var synopsis: String { valueName.map { "\(name) <\($0)>" } ?? name }
}

extension FlagDefinition {
    /// Every flag, in the order `--help` lists them.
    static var all: [FlagDefinition] {
        [
            .init("--config.file", "file", .optionalText(\.configFile),
                  "YAML configuration file. Without it, the built-in configuration is used."),
            .init("--path.tracefs", "dir", .optionalText(\.tracefsPath),
                  "tracefs mount point; overrides tracefs.path of the configuration."),
            .init("--once", nil, .toggle(\.once),
                  "Read the current tables once, print the exposition to stdout and exit. Installs nothing."),
            .init("--check-config", nil, .toggle(\.checkConfig),
                  "Check what the start would check (configuration, web configuration, token file) without touching the kernel, print the tracefs writes it would make, and exit."),
            .init("--web.listen-address", "[host]:port", .list(\.listenAddresses),
                  "Address to serve metrics (and, unless --admin.listen-address is given, the admin API) on; repeat the flag to serve on several."),
            .init("--web.telemetry-path", "path", .text(\.telemetryPath), "Path under which to expose metrics."),
            .init("--web.systemd-socket", nil, .toggle(\.systemdSocket),
                  "Serve metrics on the sockets systemd passes (socket activation) instead of --web.listen-address."),
            .init("--web.config.file", "file", .optionalText(\.webConfigFile),
                  "Web configuration file (TLS, basic auth, headers) in Prometheus exporter-toolkit format; re-read on SIGHUP."),
            .init("--web.max-connections", "n", .number(\.maxConnections),
                  "Most concurrent HTTP connections per listener; more are closed at once."),
            .init("--web.connection-timeout", "duration", .text(\.connectionTimeout),
                  "Idle HTTP connections are closed after this long."),
            .init("--web.scrape-timeout-offset", "duration", .text(\.scrapeTimeoutOffset),
                  "When refreshing on scrape, a scrape waits for the refresh at most Prometheus's scrape timeout (X-Prometheus-Scrape-Timeout-Seconds) less this, then is served the previous snapshot."),
            .init("--web.enable-lifecycle", nil, .toggle(\.enableLifecycle),
                  "Serve POST /-/reload, which reloads as SIGHUP does (the configuration and web configuration files)."),
            .init("--admin.token-file", "file", .optionalText(\.adminTokenFile),
                  "File holding the admin API's bearer token, 16 bytes or more (mode 0600 or 0400). Without it the admin API is off."),
            .init("--admin.listen-address", "[host]:port", .optionalText(\.adminListenAddress),
                  "Serve the admin API on this address only (e.g. 127.0.0.1:9748), not on the metrics listener."),
            .init("--refresh.interval", "duration", .optionalText(\.refreshInterval),
                  "Overrides refresh_interval of the configuration; 0 reads the kernel on every scrape."),
            .init("--state.directory", "dir", .optionalText(\.stateDirectory),
                  "Directory for what must outlive a restart (the deadlines of time-boxed installs). Default: $STATE_DIRECTORY (systemd's StateDirectory=), else /var/lib/ftrace_exporter."),
            .init("--log.level", "level", .text(\.logLevel), "Log level: debug, info, warn, error."),
            .init("--log.format", "format", .text(\.logFormat), "Log format: logfmt or json."),
        ]
    }
}
