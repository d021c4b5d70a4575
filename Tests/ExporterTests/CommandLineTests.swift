import Exporter
import Foundation
import Testing
import TestKit

/// The built `ftrace_exporter` binary, run as a user would.
@Suite struct CommandLineTests {
    static func binary() -> URL? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent(),
            Fixtures.packageRoot.appendingPathComponent(".build/debug"),
        ]
        for dir in candidates {
            let url = dir.appendingPathComponent("ftrace_exporter")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// `standardOutput`: a file to write to instead of a pipe the test reads.
    func run(_ arguments: [String], standardOutput: FileHandle? = nil) throws -> Run {
        let exe = try #require(Self.binary(), "ftrace_exporter binary not built")
        let process = Process()
        process.executableURL = exe
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = standardOutput ?? out
        process.standardError = err
        try process.run()
        let stdout = standardOutput == nil ? out.fileHandleForReading.readDataToEndOfFile() : Data()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Read durations are the only values that change from run to run.
    func stable(_ exposition: String) -> String {
        exposition.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("ftrace_hist_read_duration_seconds{") ? Substring($0[..<$0.lastIndex(of: " ")!] + " 0") : $0 }
            .joined(separator: "\n")
    }

    @Test func onceMatchesTheGolden() throws {
        for tree in ["default-config", "44-sched-switch-four-hist-blocks-named-paused-filter"] {
            let r = try run(["--once", "--path.tracefs", Fixtures.trees.appendingPathComponent(tree).path])
            #expect(r.status == 0, "\(r.stderr)")
            let golden = try String(contentsOf: Fixtures.golden.appendingPathComponent("\(tree).prom"), encoding: .utf8)
            #expect(stable(r.stdout) == golden)
        }
    }

    @Test func onceWithAConfigFile() throws {
        let r = try run(["--once", "--config.file", Fixtures.configs.appendingPathComponent("corpus-mappings.yml").path,
                         "--path.tracefs", Fixtures.trees.appendingPathComponent("12-kmalloc-callsite-sym").path])
        #expect(r.status == 0)
        let golden = try String(contentsOf: Fixtures.golden.appendingPathComponent("12-kmalloc-callsite-sym@corpus-mappings.prom"), encoding: .utf8)
        #expect(stable(r.stdout) == golden)
    }

    /// A textfile collector's disk full, or a closed pipe: the output is incomplete, so the
    /// command must fail, not exit 0 over a truncated file.
    @Test func aFailedWriteToStandardOutputFailsTheCommand() throws {
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"), "/dev/full")
        defer { try? full.close() }
        for arguments in [["--once", "--path.tracefs", Fixtures.trees.appendingPathComponent("default-config").path], ["--check-config"]] {
            let r = try run(arguments, standardOutput: full)
            #expect(r.status == 1, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains("cannot write to standard output"), "\(r.stderr)")
            #expect(r.stderr.contains("ENOSPC"), "\(r.stderr)")
        }
    }

    @Test func kernelWithoutHistTriggersIsReportedNotFatal() throws {
        let r = try run(["--once", "--path.tracefs", Fixtures.trees.appendingPathComponent("no-hist-triggers").path])
        #expect(r.status == 0)
        #expect(r.stderr.contains("CONFIG_HIST_TRIGGERS"))
        #expect(r.stdout.contains("ftrace_kernel_feature{feature=\"hist_triggers\"} 0"))
    }

    @Test func missingTraceFSExitsWithAClearMessage() throws {
        let r = try run(["--once", "--path.tracefs", "/nonexistent/tracing"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent/tracing"))
        #expect(r.stderr.contains("ENOENT"))
        #expect(r.stdout.isEmpty)
    }

    @Test func invalidConfigExitsWithFileLineAndField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.yml")
        try "refresh_interval: 5s\ndiscovery:\n  enabeld: true\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try run(["--check-config", "--config.file", file.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(file.path):3:3: discovery.enabeld: unknown field"), "\(r.stderr)")
    }

    @Test func checkConfigPrintsTheWritesInOrder() throws {
        let r = try run(["--check-config"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("# tracefs: found at start (/sys/kernel/tracing, /sys/kernel/debug/tracing, then /proc/mounts); the commands below show /sys/kernel/tracing"))
        #expect(lines.last == "rmdir '/sys/kernel/tracing/instances/ftrace_exporter'", "the instance goes at stop: \(r.stdout)")
        #expect(lines.contains("# admin API: off (no --admin.token-file)"))
        let install = [
            "mkdir '/sys/kernel/tracing/instances/ftrace_exporter'",
            "echo 'ftrace_exporter_wakeup_lat u64 lat' >> '/sys/kernel/tracing/synthetic_events'",
            "echo 'hist:keys=pid:fte_wakeup_ts=common_timestamp.usecs:size=16384' >> '/sys/kernel/tracing/instances/ftrace_exporter/events/sched/sched_waking/trigger'",
        ]
        let positions = install.map { lines.firstIndex(of: $0) }
        #expect(positions.allSatisfy { $0 != nil }, "\(r.stdout)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(lines.contains("echo '!ftrace_exporter_wakeup_lat' >> '/sys/kernel/tracing/synthetic_events'"))
        #expect(lines.contains("echo '!hist:keys=cpu,lat.log2:vals=hitcount,lat:size=8192' >> '/sys/kernel/tracing/instances/ftrace_exporter/events/synthetic/ftrace_exporter_wakeup_lat/trigger'"))
    }

    @Test func jsonLogsAndVersion() throws {
        let r = try run(["--once", "--log.format", "json", "--path.tracefs", Fixtures.trees.appendingPathComponent("no-hist-triggers").path])
        let line = try #require(r.stderr.split(separator: "\n").first { $0.contains("CONFIG_HIST_TRIGGERS") })
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(object?["level"] == "warn", "the level names --log.level takes")
        #expect(object?["msg"]?.contains("CONFIG_HIST_TRIGGERS") == true)
        let v = try run(["--version"])
        let lines = v.stdout.split(separator: "\n").map(String.init)
        // Laid out like `node_exporter --version`; the revision is the commit built, or
        // `unknown` outside a git checkout.
        #expect(lines.first?.range(of: #"^ftrace_exporter, version \d+\.\d+\.\d+ \(branch: \S+, revision: ([0-9a-f]{40}|unknown)\)$"#,
                                   options: .regularExpression) != nil, "\(v.stdout)")
        #expect(lines.dropFirst().map { $0.split(separator: ":").first.map(String.init) ?? "" }
                == ["  build user", "  build date", "  swift version", "  platform"], "\(v.stdout)")
        #expect(lines.first?.contains("version \(ExporterVersion.version) ") == true)
        let bad = try run(["--log.level", "loud"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--log.level"))
    }

    /// What `--check-config` prints is where the daemon would write: the path given by flag.
    @Test func checkConfigUsesThePathOfTheFlag() throws {
        let r = try run(["--check-config", "--path.tracefs", "/mnt/tracing"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("# tracefs: /mnt/tracing (--path.tracefs)\n"))
        let commands = r.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(!commands.isEmpty && commands.allSatisfy { $0.contains("'/mnt/tracing/") }, "\(r.stdout)")
        #expect(commands.last == "rmdir '/mnt/tracing/instances/ftrace_exporter'")
    }

    /// The token file the daemon would refuse is refused by the dry run, with the same words.
    @Test("--check-config checks the admin token file as the start does", arguments: [
        (0o644, "openssl-rand-hex-32-token-0123456789", "chmod 600"),
        (0o600, "short", "at least 16"),
        (0o600, "", "is empty"),
    ] as [(Int, String, String)])
    func checkConfigChecksTheTokenFile(mode: Int, token: String, advice: String) throws {
        let path = try writeTemporaryFile(token + "\n", mode: mode, prefix: "token")
        let file = URL(fileURLWithPath: path)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try run(["--check-config", "--admin.token-file", file.path])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains(advice), "\(r.stderr)")
        #expect(r.stdout.isEmpty)

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        try "0123456789abcdef0123\n".write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let accepted = try run(["--check-config", "--admin.token-file", file.path, "--admin.listen-address", "127.0.0.1:9748"])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.stdout.contains("# admin API: on 127.0.0.1:9748, token from \(file.path) (20 bytes)"), "\(accepted.stdout)")
    }

    /// At a terminal `--check-config` speaks in sentences; in a pipe it writes log records.
    @Test func checkConfigErrorsAtATerminalAreSentences() throws {
        let exe = try #require(Self.binary())
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "refresh_interval: soon\n".write(to: file, atomically: true, encoding: .utf8)
        // script(1) runs the command with a pseudo-terminal as its standard error.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "'\(exe.path)' --check-config --config.file '\(file.path)'", "/dev/null"]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(text.hasPrefix("ftrace_exporter: invalid configuration: \(file.path):1:"), "\(text)")
        #expect(!text.contains("level=error"))
        let piped = try run(["--check-config", "--config.file", file.path])
        #expect(piped.stderr.hasPrefix("ts=") && piped.stderr.contains("level=error"), "\(piped.stderr)")
    }

    /// A wrong --path.tracefs is named for what it is, not as a kernel without hist triggers.
    @Test("a path that is not tracefs says what it is", arguments: [
        ("/etc/passwd", "not a directory"),
        ("/", "not tracefs (a directory on"),
        ("/nonexistent/tracing", "ENOENT"),
    ])
    func aPathThatIsNotTraceFS(path: String, message: String) throws {
        let r = try run(["--once", "--path.tracefs", path])
        #expect(r.status == 1)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!r.stderr.contains("CONFIG_HIST_TRIGGERS"), "\(r.stderr)")
    }

    /// Host names are resolved, as Go's net.Listen does; one that does not resolve is a usage error.
    @Test func listenAddressesResolveHostNames() throws {
        let r = try run(["--web.listen-address", "no-such-host.invalid:9747", "--once"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("cannot resolve 'no-such-host.invalid'"), "\(r.stderr)")
        let admin = try run(["--admin.listen-address", "no-such-host.invalid:9748", "--check-config"])
        #expect(admin.status == 2)
    }

    /// Two listeners on one socket are a usage error, not a bind failure after the first started.
    @Test func theAdminListenerNeedsItsOwnPort() throws {
        for (main, admin) in [("127.0.0.1:9747", "127.0.0.1:9747"), (":9747", "127.0.0.1:9747"), ("127.0.0.1:9747", "[::]:9747")] {
            let r = try run(["--web.listen-address", main, "--admin.listen-address", admin, "--check-config"])
            #expect(r.status == 2, "\(main) \(admin): \(r.stderr)")
            #expect(r.stderr.contains("another port"), "\(r.stderr)")
        }
        #expect(try run(["--web.listen-address", ":9747", "--admin.listen-address", "127.0.0.1:9748", "--check-config"]).status == 0)
        // The admin port is checked against every metrics listener, and those against each other.
        let second = try run(["--web.listen-address", ":9747", "--web.listen-address", "127.0.0.1:9748",
                              "--admin.listen-address", "127.0.0.1:9748", "--check-config"])
        #expect(second.status == 2 && second.stderr.contains("another port"), "\(second.stderr)")
        let twice = try run(["--web.listen-address", ":9747", "--web.listen-address", "127.0.0.1:9747", "--check-config"])
        #expect(twice.status == 2 && twice.stderr.contains("given twice for the same port"), "\(twice.stderr)")
        let many = try run((0..<17).flatMap { ["--web.listen-address", "127.0.0.1:\(9760 + $0)"] } + ["--check-config"])
        #expect(many.status == 2 && many.stderr.contains("at most 16"), "\(many.stderr)")
    }

    /// A configuration file has a bound: /dev/zero or a log named by mistake is refused at
    /// once, not read until memory runs out.
    @Test func aConfigurationPastItsBoundIsRefused() throws {
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).yml")
        defer { try? FileManager.default.removeItem(at: big) }
        try Data(String(repeating: "# padding\n", count: 110_000).utf8).write(to: big)
        for path in ["/dev/zero", big.path] {
            let r = try run(["--check-config", "--config.file", path])
            #expect(r.status == 2, "\(path): \(r.stderr)")
            #expect(r.stderr.contains("larger than 1 MiB"), "\(path): \(r.stderr)")
        }
    }

    /// Every usage error exits 2, which the systemd unit does not restart on (the argument
    /// parser's own code is 64); help and version still exit 0.
    @Test func usageErrorsExit2() throws {
        for arguments in [["--no-such-flag"], ["--web.listen-address"], ["--once", "--check-config"], ["stray"],
                          ["--web.max-connections", "many"], ["--web.scrape-timeout-offset", "soon"]] {
            let r = try run(arguments)
            #expect(r.status == 2, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains("Error:") && r.stderr.contains("Usage:"), "\(arguments): \(r.stderr)")
        }
        #expect(try run(["--help"]).status == 0)
        #expect(try run(["--version"]).status == 0)
    }
}
