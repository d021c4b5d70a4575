@testable import ftrace_exporter
import Testing

@Suite struct FlagParserTests {
    func flags(_ arguments: [String]) throws -> Flags {
        let invocation = try FlagParser.parse(arguments).get()
        guard case .run(let flags) = invocation else {
            Issue.record("\(arguments) asked for \(invocation)")
            return Flags()
        }
        return flags
    }

    func failure(_ arguments: [String]) -> UsageError? {
        if case .failure(let error) = FlagParser.parse(arguments) { return error }
        return nil
    }

    @Test func theDefaultsAreTheREADMEs() throws {
        let defaults = try flags([])
        #expect(defaults.configFile == nil && defaults.tracefsPath == nil && defaults.webConfigFile == nil)
        #expect(defaults.adminTokenFile == nil && defaults.adminListenAddress == nil && defaults.refreshInterval == nil)
        #expect(!defaults.once && !defaults.checkConfig)
        #expect(defaults.listenAddresses == [":9747"] && defaults.telemetryPath == "/metrics")
        #expect(defaults.maxConnections == 4096 && defaults.connectionTimeout == "30s")
        #expect(defaults.logLevel == "info" && defaults.logFormat == "logfmt")
    }

    @Test func everyFlagSetsItsField() throws {
        let parsed = try flags([
            "--config.file", "c.yml", "--path.tracefs=/t", "--once", "--check-config", "--web.listen-address", "127.0.0.1:1",
            "--web.telemetry-path=/m", "--web.config.file", "w.yml", "--web.max-connections", "7", "--web.connection-timeout=5s",
            "--admin.token-file", "/tok", "--admin.listen-address=127.0.0.1:2", "--refresh.interval", "0", "--log.level", "debug",
            "--log.format=json",
        ])
        var expected = Flags()
        expected.configFile = "c.yml"
        expected.tracefsPath = "/t"
        expected.once = true
        expected.checkConfig = true
        expected.listenAddresses = ["127.0.0.1:1"]
        expected.telemetryPath = "/m"
        expected.webConfigFile = "w.yml"
        expected.maxConnections = 7
        expected.connectionTimeout = "5s"
        expected.adminTokenFile = "/tok"
        expected.adminListenAddress = "127.0.0.1:2"
        expected.refreshInterval = "0"
        expected.logLevel = "debug"
        expected.logFormat = "json"
        #expect(parsed == expected)
    }

    @Test func valuesMayHoldWhatFlagsDo() throws {
        #expect(try flags(["--config.file=a=b.yml"]).configFile == "a=b.yml")
        #expect(try flags(["--config.file", "-"]).configFile == "-")
        #expect(try flags(["--config.file=--once"]).configFile == "--once")
        #expect(try flags(["--config.file="]).configFile == "")
        #expect(try flags(["--log.level", "warn", "--log.level", "error"]).logLevel == "error")
        #expect(try flags(["--web.listen-address", "127.0.0.1:1", "--web.listen-address=[::1]:1"]).listenAddresses
            == ["127.0.0.1:1", "[::1]:1"], "repeatable: every one is kept, the default replaced")
    }

    @Test func helpAndVersionWinOverEverythingElse() throws {
        #expect(try FlagParser.parse(["--help"]).get() == .help)
        #expect(try FlagParser.parse(["--once", "-h", "--no-such-flag"]).get() == .help)
        #expect(try FlagParser.parse(["--version", "stray"]).get() == .version)
        #expect(try FlagParser.parse(["--version", "--help"]).get() == .help)
        // After "--" nothing is a flag.
        #expect(failure(["--", "--help"]) == UsageError("Unexpected argument '--help'"))
    }

    @Test func mistakesAreNamed() {
        #expect(failure(["--no-such-flag"]) == UsageError("Unknown option '--no-such-flag'"))
        #expect(failure(["--no-such-flag=1"]) == UsageError("Unknown option '--no-such-flag'"))
        #expect(failure(["-x"]) == UsageError("Unknown option '-x'"))
        #expect(failure(["stray"]) == UsageError("Unexpected argument 'stray'"))
        #expect(failure(["--web.listen-address"])
            == UsageError("Missing value for '--web.listen-address <[host]:port>'", flag: "--web.listen-address"))
        // A forgotten value is not filled with the next flag.
        #expect(failure(["--config.file", "--once"]) == UsageError("Missing value for '--config.file <file>'", flag: "--config.file"))
        #expect(failure(["--web.max-connections", "many"])
            == UsageError("The value 'many' is invalid for '--web.max-connections <n>'", flag: "--web.max-connections"))
        #expect(failure(["--once=yes"]) == UsageError("The option '--once' does not take any value, but 'yes' was specified."))
    }

    /// Every flag is listed with its value and default, within 80 columns.
    @Test func helpListsEveryFlag() {
        let text = FtraceExporterCommand.help.text
        #expect(text.hasPrefix("OVERVIEW: Prometheus exporter for Linux ftrace in-kernel histograms"))
        #expect(text.contains("\nUSAGE: ftrace_exporter <options>\n\nOPTIONS:\n"))
        for definition in FlagDefinition.all {
            #expect(text.contains("\n  \(definition.synopsis)"), "\(definition.name)")
        }
        for line in ["  --version               Show the version.", "  -h, --help              Show help information."] {
            #expect(text.contains(line + "\n"), "\(line)")
        }
        #expect(text.contains("  --log.level <level>     Log level: debug, info, warn, error. (default: info)\n"))
        #expect(text.contains("  --web.max-connections <n>\n                          Most concurrent HTTP connections per listener; more\n"))
        #expect(text.contains("(default: 4096)") && text.contains("(default: :9747)") && text.contains("(default: 30s)"))
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= CommandHelp.width }, "\(text)")
    }

    @Test func aUsageErrorShowsTheFlagsHelpAndTheUsage() {
        let help = FtraceExporterCommand.help
        #expect(help.usageErrorText(UsageError("Missing value for '--log.level <level>'", flag: "--log.level")) == """
            Error: Missing value for '--log.level <level>'
            Help:  --log.level <level>  Log level: debug, info, warn, error.
            Usage: ftrace_exporter <options>
              See 'ftrace_exporter --help' for more information.

            """)
        #expect(help.usageErrorText(UsageError("Unexpected argument 'x'")).hasPrefix("Error: Unexpected argument 'x'\nUsage: "))
    }
}
