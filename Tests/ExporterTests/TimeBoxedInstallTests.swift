@testable import Exporter
import Exposition
import Foundation
import Locking
import Platform
import Testing
import TestKit
import TraceFS
import TraceFSTesting

/// Installs with a duration or under a set's max_duration: their deadlines, the state file
/// that keeps them across restarts, and their removal when the time is up.
@Suite struct TimeBoxedInstallTests {
    /// A wall clock the test moves.
    final class Clock: Sendable {
        let now = Locked(1_800_000_000.0)
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
        var read: @Sendable () -> Double { { [now] in now.withLock { $0 } } }
    }

    final class StateDirectory {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)").path
        var file: String { SetDeadlines.path(in: path, instance: "ftrace_exporter") }
        var text: String? { try? String(contentsOfFile: file, encoding: .utf8) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func controller(
        _ fs: FakeKernelTraceFS, _ clock: Clock, state: StateDirectory? = nil, yaml: String = DefaultConfig.yaml
    ) throws -> TriggerController {
        TriggerController(
            fs: fs, config: try ConfigLoader.load(yaml: yaml, file: "t.yml"), logger: Fixtures.quietLogger,
            deadlines: SetDeadlines(path: state?.file), wallClock: clock.read)
    }

    // MARK: The state file

    @Test func theDeadlinesFileRoundTripsAndNamesWhatIsWrong() throws {
        let deadlines = ["syscall_latency": 1_800_003_600.25, "wakeup_latency": 1_800_000_060]
        let text = String(decoding: DeadlinesFile.render(deadlines), as: UTF8.self)
        #expect(text.hasPrefix("# ftrace_exporter: "))
        #expect(text.hasSuffix("syscall_latency 1800003600.250\nwakeup_latency 1800000060\n"))
        #expect(try DeadlinesFile.parse(Array(text.utf8)) == deadlines)
        #expect(try DeadlinesFile.parse([]) == [:])

        let bad: [(String, String)] = [
            ("a 1\nb\n", "line 2: expected 'set-name unix-seconds'"),
            ("a b c\n", "line 1: expected"),
            ("a/b 1\n", "line 1: 'a/b' is not a trigger set name"),
            ("a soon\n", "line 1: 'soon' is not a time in seconds"),
            ("a -5\n", "line 1: '-5' is not a time"),
            ("a inf\n", "line 1: 'inf' is not a time"),
            ("a 1\na 2\n", "line 2: set 'a' is listed twice"),
        ]
        for (input, message) in bad {
            #expect(throws: DeadlinesFile.Problem.self) { try DeadlinesFile.parse(Array(input.utf8)) }
            do { _ = try DeadlinesFile.parse(Array(input.utf8)) } catch { #expect(error.description.hasPrefix(message), "\(input)") }
        }
        #expect(throws: DeadlinesFile.Problem(line: 0, message: "not UTF-8 text")) { try DeadlinesFile.parse([0x61, 0x20, 0xFF]) }
        let huge = [UInt8](repeating: 0x23, count: DeadlinesFile.sizeLimit + 1)
        #expect(throws: DeadlinesFile.Problem(line: 0, message: "larger than 64 KiB")) { try DeadlinesFile.parse(huge) }
        let many = (0...DeadlinesFile.entryLimit).map { "s\($0) 1\n" }.joined()
        #expect(throws: DeadlinesFile.Problem.self) { try DeadlinesFile.parse(Array(many.utf8)) }
    }

    // MARK: Installing with a duration

    @Test func anInstallWithADurationGetsADeadlineSavedBeforeItInstalls() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        let state = StateDirectory()
        let c = try controller(fs, clock, state: state)
        #expect(try c.install("wakeup_latency", for: 600).state == .installed)
        #expect(c.deadlines.deadline(of: "wakeup_latency") == 1_800_000_600)
        #expect(state.text?.contains("wakeup_latency 1800000600\n") == true)
        let mode = try FileManager.default.attributesOfItem(atPath: state.file)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // Installing again sets the deadline anew; without a duration (and no max_duration)
        // the set stays until removed.
        clock.advance(100)
        try c.install("wakeup_latency", for: 60)
        #expect(c.deadlines.deadline(of: "wakeup_latency") == 1_800_000_160)
        try c.install("wakeup_latency")
        #expect(c.deadlines.deadline(of: "wakeup_latency") == nil)
        #expect(state.text?.contains("wakeup_latency") == false)

        try c.install("wakeup_latency", for: 60)
        try c.remove("wakeup_latency")
        #expect(c.deadlines.all.isEmpty, "a removal forgets the deadline")
    }

    @Test func maxDurationIsTheDefaultAndTheLimit() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        let c = try controller(fs, clock)
        #expect(c.config.triggerSet(named: "syscall_latency")?.maxDuration == 3600)
        #expect(c.config.triggerSet(named: "kmalloc_by_call_site")?.maxDuration == 3600)
        #expect(c.config.triggerSet(named: "wakeup_latency")?.maxDuration == nil)

        try c.install("syscall_latency")
        #expect(c.deadlines.deadline(of: "syscall_latency") == 1_800_003_600)
        try c.install("syscall_latency", for: 300)
        #expect(c.deadlines.deadline(of: "syscall_latency") == 1_800_000_300)

        let writes = fs.writes.count
        let refused = #expect(throws: ControlError.self) { try c.install("syscall_latency", for: 7200) }
        #expect(refused?.httpStatus == 400)
        #expect(refused?.description == "trigger set 'syscall_latency' may be installed for at most 1h (its max_duration); asked for 2h")
        #expect(c.deadlines.deadline(of: "syscall_latency") == 1_800_000_300, "a refused install changes nothing")
        for duration in [0.5, 31 * 86_400.0] {
            let error = #expect(throws: ControlError.self) { try c.install("wakeup_latency", for: duration) }
            #expect(error?.description.hasPrefix("an install's duration must be from 1s to 30d") == true)
        }
        #expect(fs.writes.count == writes)
    }

    @Test func aDeadlineThatCannotBeSavedInstallsNothing() throws {
        let fs = FakeKernelTraceFS()
        let c = TriggerController(
            fs: fs, config: try DefaultConfig.load(), logger: Fixtures.quietLogger,
            deadlines: SetDeadlines(path: "/dev/null/state/ftrace_exporter.deadlines"), wallClock: Clock().read)
        let error = #expect(throws: ControlError.self) { try c.install("wakeup_latency", for: 60) }
        #expect(error?.httpStatus == 500)
        #expect(error?.description == "the install's deadline cannot be kept across a restart, so nothing was installed: cannot write /dev/null/state/ftrace_exporter.deadlines: ENOTDIR")
        #expect(fs.writes.isEmpty)
        #expect(try c.status(of: "wakeup_latency").state == .absent)
        // Without a deadline there is nothing to save: the install goes ahead.
        #expect(try c.install("wakeup_latency").state == .installed)
    }

    @Test func aFailedInstallLeavesTheDeadlineAsItWas() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs, Clock())
        fs.failNext("instances/ftrace_exporter/events/synthetic/ftrace_exporter_wakeup_lat/trigger", with: EINVAL, errorLog: "bad")
        #expect(throws: ControlError.self) { try c.install("wakeup_latency", for: 60) }
        #expect(c.deadlines.all.isEmpty)
    }

    // MARK: Expiry

    @Test func setsAreRemovedWhenTheirDeadlinePassesAndNotBefore() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        let c = try controller(fs, clock)
        try c.install("wakeup_latency", for: 60)
        try c.install("syscall_latency", for: 120)
        clock.advance(59)
        #expect(c.expireDue().isEmpty)
        #expect(try c.status(of: "wakeup_latency").state == .installed)
        clock.advance(1)
        let expired = c.expireDue()
        #expect(expired.map(\.set) == ["wakeup_latency"])
        #expect(expired.allSatisfy { $0.error == nil })
        #expect(try c.status(of: "wakeup_latency").state == .absent)
        #expect(try c.status(of: "syscall_latency").state == .installed)
        #expect(c.deadlines.all == ["syscall_latency": 1_800_000_120])
        #expect(c.ownedSets == ["syscall_latency"])
    }

    @Test func aRemovalThatFailsAtTheDeadlineIsReportedAndKept() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        let c = try controller(fs, clock)
        try c.install("wakeup_latency", for: 60)
        clock.advance(61)
        fs.failNext("instances/ftrace_exporter/events/synthetic/ftrace_exporter_wakeup_lat/trigger", with: EBUSY, errorLog: nil)
        let first = c.expireDue()
        #expect(first.count == 1 && first[0].error != nil)
        #expect(c.deadlines.deadline(of: "wakeup_latency") == 1_800_000_060, "kept, to be tried again")
        let second = c.expireDue()
        #expect(second.count == 1 && second[0].error == nil)
        #expect(try c.status(of: "wakeup_latency").state == .absent)
    }

    @Test func theExpiryTimerRemovesTheSetAndCountsIt() throws {
        let fs = FakeKernelTraceFS()
        let c = TriggerController(fs: fs, config: try DefaultConfig.load(), logger: Fixtures.quietLogger)
        let metrics = ExporterMetrics()
        let removed = Locked(0)
        let expiry = InstallExpiry(controller: c, metrics: metrics, logger: Fixtures.quietLogger) { removed.withLock { $0 += 1 } }
        expiry.start()
        defer { expiry.stop() }
        try c.install("wakeup_latency", for: 1)
        let families = metrics.families(statuses: c.statuses(), config: c.config, deadlines: c.deadlines.all)
        let gauge = families.first { $0.name == "ftrace_exporter_trigger_set_expiry_timestamp_seconds" }
        #expect(gauge?.metrics.map(\.labels) == [[Label("set", "wakeup_latency")]])
        let started = Date()
        // The timer removes the set, counts it, then calls back: wait for the last of the three.
        while removed.withLock({ $0 }) == 0, Date().timeIntervalSince(started) < timeBound(5) {
            usleep(20_000)
        }
        #expect(try c.status(of: "wakeup_latency").state == .absent)
        #expect(Date().timeIntervalSince(started) < timeBound(3), "removed within a second or so of its deadline")
        #expect(removed.withLock { $0 } == 1)
        let after = metrics.families(statuses: c.statuses(), config: c.config, deadlines: c.deadlines.all)
        #expect(after.first { $0.name == "ftrace_exporter_trigger_set_expiry_timestamp_seconds" }?.metrics.isEmpty == true)
        let counted = after.first { $0.name == "ftrace_exporter_trigger_set_expirations" }?.metrics
            .first { $0.labels == [Label("set", "wakeup_latency")] }
        #expect(counted?.value == .counter(1))
    }

    // MARK: Restarts and reloads

    @Test func aRestartThatAdoptsTheSetKeepsItsDeadline() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        let state = StateDirectory()
        try controller(fs, clock, state: state).install("syscall_latency", for: 900)  // the run that crashed
        clock.advance(300)
        let adopting = try controller(fs, clock, state: state)
        #expect(adopting.startUp().isEmpty)
        #expect(adopting.ownedSets.contains("syscall_latency"))
        #expect(adopting.deadlines.deadline(of: "syscall_latency") == 1_800_000_900, "the original deadline, not 900 s from now")
        #expect(adopting.deadlines.deadline(of: "wakeup_latency") == nil, "installed at start without a max_duration")

        // Deadlines of sets that are not adopted are dropped.
        try adopting.remove("syscall_latency")
        try SetDeadlines(path: state.file).set("context_switches", 1_900_000_000)
        let again = try controller(fs, clock, state: state)
        #expect(again.startUp().isEmpty)
        #expect(again.deadlines.all.isEmpty)
        #expect(state.text?.contains("context_switches") == false)
    }

    @Test func aDeadlineReadsBackAsItWasShown() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        clock.advance(0.78199)
        let state = StateDirectory()
        let first = try controller(fs, clock, state: state)
        try first.install("syscall_latency", for: 900)
        let shown = utcTimestamp(unixSeconds: try #require(first.deadlines.deadline(of: "syscall_latency")))
        #expect(shown.hasSuffix(":15:00.782Z"), "\(shown)")
        let adopting = try controller(fs, clock, state: state)
        #expect(adopting.startUp().isEmpty)
        #expect(utcTimestamp(unixSeconds: try #require(adopting.deadlines.deadline(of: "syscall_latency"))) == shown)
    }

    @Test func anAdoptedSetWithoutASavedDeadlineGetsItsMaxDurationFromNow() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        let state = StateDirectory()
        try controller(fs, clock).install("syscall_latency")  // deadline kept in memory only
        try FileManager.default.createDirectory(atPath: state.path, withIntermediateDirectories: true)
        try "syscall_latency soon\n".write(toFile: state.file, atomically: true, encoding: .utf8)
        clock.advance(60)
        let adopting = try controller(fs, clock, state: state)
        #expect(adopting.startUp().isEmpty)
        #expect(adopting.deadlines.deadline(of: "syscall_latency") == 1_800_003_660)
    }

    @Test func aCleanStartForgetsTheDeadlines() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        let state = StateDirectory()
        try controller(fs, clock, state: state).install("syscall_latency", for: 900)
        let yaml = DefaultConfig.yaml.replacingOccurrences(of: "on_start: adopt", with: "on_start: clean")
        let cleaning = try controller(fs, clock, state: state, yaml: yaml)
        #expect(cleaning.startUp().isEmpty)
        #expect(try cleaning.status(of: "syscall_latency").state == .absent)
        #expect(cleaning.deadlines.all.isEmpty)
    }

    @Test func anInstallOnStartSetWithAMaxDurationIsTimeBoxedToo() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        let yaml = DefaultConfig.yaml.replacingOccurrences(
            of: "install_on_start: true\n", with: "install_on_start: true\n    max_duration: 2h\n")
        #expect(yaml != DefaultConfig.yaml)
        let c = try controller(fs, clock, yaml: yaml)
        #expect(c.startUp().isEmpty)
        #expect(c.deadlines.deadline(of: "wakeup_latency") == 1_800_007_200)
    }

    @Test func aReloadedMaxDurationShortensWhatIsLeft() throws {
        let fs = FakeKernelTraceFS()
        let clock = Clock()
        let c = try controller(fs, clock)
        try c.install("wakeup_latency")
        try c.install("syscall_latency", for: 3000)
        clock.advance(1000)
        var fresh = try DefaultConfig.load()
        for i in fresh.triggerSets.indices where ["wakeup_latency", "syscall_latency"].contains(fresh.triggerSets[i].name) {
            fresh.triggerSets[i].maxDuration = 600
        }
        try c.replaceConfig(fresh)
        #expect(c.deadlines.deadline(of: "wakeup_latency") == 1_800_001_600, "a permanent install now ends 10 min from the reload")
        #expect(c.deadlines.deadline(of: "syscall_latency") == 1_800_001_600, "2000 s left, cut to 600")
    }

    @Test func theConfigurationRefusesAMaxDurationOutOfRange() {
        for bad in ["0", "soon", "31d", "-1h"] {
            let yaml = DefaultConfig.yaml.replacingOccurrences(of: "max_duration: 1h          #", with: "max_duration: \"\(bad)\" #")
            #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml, file: "t.yml") }
            do { _ = try ConfigLoader.load(yaml: yaml, file: "t.yml") } catch {
                #expect("\(error)".contains("max_duration must be a duration from 1s to 30d"), "\(bad): \(error)")
            }
        }
    }
}
