@testable import Exporter
import Foundation
import Testing
import TestKit
import TraceFS
import TraceFSTesting

/// SIGHUP's configuration reload over the in-memory kernel: taken, or rejected with the running
/// configuration kept, and the outcome in the exporter's own metrics either way.
@Suite struct ConfigReloaderTests {
    struct Running {
        let file: URL
        let controller: TriggerController
        let refresher: Refresher
        let reloader: ConfigReloader

        func write(_ yaml: String) throws { try yaml.write(to: file, atomically: true, encoding: .utf8) }

        func metric(_ name: String) -> String? {
            let text = String(decoding: refresher.current?.text ?? [], as: UTF8.self)
            return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.map { String($0.dropFirst(name.count + 1)) }
        }
    }

    /// `loopStarted`: false leaves the refresh loop unstarted (a reload during start-up).
    func start(holdsInstance: Bool = true, refreshIntervalFlag: Double? = nil, loopStarted: Bool = true) throws -> Running {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("ftrace_exporter.yml")
        try DefaultConfig.yaml.write(to: file, atomically: true, encoding: .utf8)
        let fs = FakeKernelTraceFS()
        let config = try ConfigSource.load(path: file.path).overriding(refreshInterval: refreshIntervalFlag)
        let controller = TriggerController(fs: fs, config: config, logger: quietLogger)
        let metrics = ExporterMetrics()
        let collector = HistCollector(config: config, reader: fs, logger: quietLogger, features: fs.features(), clock: { 0 })
        let refresher = Refresher(collector: collector, controller: controller, metrics: metrics, logger: quietLogger)
        let rotator = Rotator(controller: controller, metrics: metrics, logger: quietLogger)
        collector.share(rotator.readings)
        _ = controller.startUp()
        if loopStarted { refresher.start() } else { refresher.refreshSharing() }
        let reloader = ConfigReloader(
            options: .init(configFile: file.path, tracefsFromCommandLine: false, refreshInterval: refreshIntervalFlag, holdsInstance: holdsInstance),
            controller: controller, refresher: refresher, rotator: rotator, metrics: metrics, reader: fs, logger: quietLogger)
        return Running(file: file, controller: controller, refresher: refresher, reloader: reloader)
    }

    @Test func aValidFileIsTakenAndCounted() throws {
        let r = try start()
        defer { r.refresher.stop() }
        try r.write(DefaultConfig.yaml.replacingOccurrences(of: "refresh_interval: 5s", with: "refresh_interval: 7s"))
        r.reloader.reload()
        #expect(r.controller.config.refreshInterval.value == 7)
        #expect(r.refresher.refreshInterval == 7)
        #expect(r.metric("ftrace_exporter_config_last_reload_successful") == "1")
    }

    @Test func aNewCgroupMountAppliesAtOnceAndCarriedCountsStay() throws {
        let r = try start()
        defer { r.refresher.stop() }
        let before = r.refresher.collector
        #expect(before.cgroupPaths?.mount == "/sys/fs/cgroup")
        try r.write("cgroup_mount: /run/cgroup2\n" + DefaultConfig.yaml)
        r.reloader.reload()
        #expect(r.metric("ftrace_exporter_config_last_reload_successful") == "1")
        let after = r.refresher.collector
        #expect(after !== before)
        #expect(after.cgroupPaths?.mount == "/run/cgroup2", "cgroup ids are named under the new mount from the next refresh")
        #expect(after.carried === before.carried, "what earlier clears carried is added on after the reload")
    }

    @Test func aReloadBeforeTheRefreshLoopStartsSchedulesNothing() throws {
        let r = try start(loopStarted: false)
        defer { r.refresher.stop() }
        try r.write(DefaultConfig.yaml.replacingOccurrences(of: "refresh_interval: 5s", with: "refresh_interval: 7s"))
        r.reloader.reload()
        #expect(r.refresher.refreshInterval == 7)
        #expect(r.metric("ftrace_exporter_config_last_reload_successful") == "1")
    }

    @Test func theRefreshIntervalFlagStillWins() throws {
        let r = try start(refreshIntervalFlag: 2)
        defer { r.refresher.stop() }
        try r.write(DefaultConfig.yaml.replacingOccurrences(of: "refresh_interval: 5s", with: "refresh_interval: 7s"))
        r.reloader.reload()
        #expect(r.refresher.refreshInterval == 2)
    }

    @Test func anInvalidFileIsRejectedAndTheRunningOneStays() throws {
        let r = try start()
        defer { r.refresher.stop() }
        try r.write("refresh_interval: [\n")
        r.reloader.reload()
        #expect(r.controller.config.refreshInterval.value == 5)
        #expect(r.metric("ftrace_exporter_config_last_reload_successful") == "0")
        // The next valid file is taken again.
        try r.write(DefaultConfig.yaml)
        r.reloader.reload()
        #expect(r.metric("ftrace_exporter_config_last_reload_successful") == "1")
    }

    @Test func aRejectedWebConfigurationMakesTheReloadCountAsFailed() throws {
        let r = try start()
        defer { r.refresher.stop() }
        r.reloader.reload(webTaken: false)
        #expect(r.metric("ftrace_exporter_config_last_reload_successful") == "0")
    }

    @Test func theInstanceHeldSinceStartCannotChange() throws {
        let r = try start()
        defer { r.refresher.stop() }
        try r.write(DefaultConfig.yaml.replacingOccurrences(of: "instance: ftrace_exporter ", with: "instance: other "))
        r.reloader.reload()
        #expect(r.controller.config.instance == "ftrace_exporter")
        #expect(r.metric("ftrace_exporter_config_last_reload_successful") == "0")
    }

    @Test func tracefsPathIsFixedAtStart() throws {
        let r = try start(holdsInstance: false)
        defer { r.refresher.stop() }
        try r.write(DefaultConfig.yaml.replacingOccurrences(of: "path: \"\"  ", with: "path: /elsewhere"))
        r.reloader.reload()
        #expect(r.controller.config.tracefsPath == "")
        #expect(r.metric("ftrace_exporter_config_last_reload_successful") == "0")
    }

    /// A set installed by this process cannot disappear from the allow-list under it.
    @Test func droppingAnInstalledSetIsRejected() throws {
        let r = try start()
        defer { r.refresher.stop() }
        #expect(try r.controller.status(of: "wakeup_latency").state == .installed)
        try r.write(DefaultConfig.yaml.replacingOccurrences(of: "- name: wakeup_latency\n", with: "- name: renamed_wakeup_latency\n"))
        r.reloader.reload()
        #expect(r.controller.config.triggerSet(named: "wakeup_latency") != nil)
        #expect(r.metric("ftrace_exporter_config_last_reload_successful") == "0")
    }
}
