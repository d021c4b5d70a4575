@testable import Exporter
import Foundation
import HistFormat
import Testing
import TraceFS
import TraceFSTesting

/// Probe events (kprobes, kretprobes, fprobes, tracepoint probes) in trigger sets: the same
/// guarantees as synthetic events, against the in-memory kernel.
@Suite struct ProbeEventTests {
    static let fsync = """
        trigger_sets:
          - name: fsync
            probe_events:
              - "p:ftrace_exporter_t_entry vfs_fsync_range"
              - "r:ftrace_exporter_t_return vfs_fsync_range"
            synthetic_events:
              - "ftrace_exporter_t_lat u64 lat; unsigned long func"
            triggers:
              - event: kprobes/ftrace_exporter_t_entry
                command: "hist:keys=common_pid:t_ts=common_timestamp:size=1024"
              - event: kprobes/ftrace_exporter_t_return
                command: "hist:keys=common_pid:t_lat=common_timestamp-$t_ts:onmatch(kprobes.ftrace_exporter_t_entry).ftrace_exporter_t_lat($t_lat,__probe_func):size=1024"
              - event: synthetic/ftrace_exporter_t_lat
                command: "hist:keys=func.sym,lat.log2:vals=hitcount,lat:size=1024"

        """

    static func set(probes: [String], event: String) -> String {
        """
        trigger_sets:
          - name: probes
            probe_events:
        \(probes.map { "      - \"\($0)\"" }.joined(separator: "\n"))
            triggers:
              - event: \(event)
                command: "hist:keys=common_pid:vals=hitcount:size=1024"

        """
    }

    func controller(_ fs: FakeKernelTraceFS, _ yaml: String) throws -> TriggerController {
        TriggerController(fs: fs, config: try ConfigLoader.load(yaml: yaml, file: "t.yml"), logger: Fixtures.quietLogger)
    }

    func writes(_ fs: FakeKernelTraceFS) -> [String] { fs.writes.map { "\($0.path): \($0.text)" } }

    // MARK: configuration

    @Test(arguments: [
        ("p:ftrace_exporter_a vfs_read", "kprobe", "kprobes/ftrace_exporter_a"),
        ("r:ftrace_exporter_a vfs_read", "kretprobe", "kprobes/ftrace_exporter_a"),
        ("r16:mine/ftrace_exporter_a vfs_read $retval", "kretprobe", "mine/ftrace_exporter_a"),
        ("p:ftrace_exporter_a vfs_read%return", "kretprobe", "kprobes/ftrace_exporter_a"),
        ("f:ftrace_exporter_a vfs_read%return ret=$retval", "fprobe", "fprobes/ftrace_exporter_a"),
        ("t:ftrace_exporter_a sched_switch prev=prev", "tracepointProbe", "tracepoints/ftrace_exporter_a"),
    ])
    func definitionsParse(_ text: String, _ kind: String, _ event: String) throws {
        let definition = try ProbeEventSyntax.parse(text).get()
        #expect(definition.kind.rawValue == kind)
        #expect(definition.event.description == event)
        #expect(definition.removal == "-:\(event)")
        #expect(definition.text == text)
    }

    @Test(arguments: [
        ("vfs_read", "a probe event is"),
        ("p vfs_read", "names no event"),
        ("p:vfs_read_probe vfs_read", "'ftrace_exporter_<name>'"),
        ("p:ftrace_exporter_a", "a probe event is"),
        ("p4:ftrace_exporter_a vfs_read", "only a kretprobe"),
        ("r0:ftrace_exporter_a vfs_read", "maxactive"),
        ("e:ftrace_exporter_a sched.sched_switch", "event probes"),
        ("s:ftrace_exporter_a u64 lat", "synthetic_events"),
        ("x:ftrace_exporter_a vfs_read", "not a probe kind"),
        ("-:kprobes/ftrace_exporter_a", "removal"),
        ("p:synthetic/ftrace_exporter_a vfs_read", "belongs to the kernel"),
        ("p:1group/ftrace_exporter_a vfs_read", "not a valid group"),
        ("p:ftrace_exporter_a-b vfs_read", "not a valid event name"),
        ("t:ftrace_exporter_a sched_switch%return", "no return"),
        ("p:ftrace_exporter_a vfs_read # comment", "'#'"),
    ])
    func badDefinitionsAreRefusedAtLoad(_ text: String, _ words: String) {
        let yaml = Self.set(probes: [text], event: "kprobes/ftrace_exporter_a")
        #expect {
            try ConfigLoader.load(yaml: yaml, file: "t.yml")
        } throws: { error in
            let message = "\(error)"
            return message.contains("t.yml:4:9") && message.contains("probe_events[0]") && message.contains(words)
        }
    }

    @Test func aProbeDefinedTwiceIsRefused() {
        let yaml = Self.set(probes: ["p:ftrace_exporter_a vfs_read", "r:ftrace_exporter_a vfs_write"], event: "kprobes/ftrace_exporter_a")
        #expect { try ConfigLoader.load(yaml: yaml, file: "t.yml") } throws: { "\($0)".contains("defined twice") }
        let twoSets = Self.fsync + Self.fsync.replacingOccurrences(of: "trigger_sets:\n", with: "")
            .replacingOccurrences(of: "name: fsync", with: "name: fsync2")
            .replacingOccurrences(of: "ftrace_exporter_t_lat", with: "ftrace_exporter_t2_lat")
            .replacingOccurrences(of: "t_ts", with: "t2_ts").replacingOccurrences(of: "t_lat=", with: "t2_lat=")
        #expect { try ConfigLoader.load(yaml: twoSets, file: "t.yml") } throws: { "\($0)".contains("also defined by trigger set 'fsync'") }
    }

    // MARK: install and removal

    @Test func installWritesProbesFirstAndRemovalTakesThemLast() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs, Self.fsync)
        let installed = try c.install("fsync")
        #expect(installed.state == .installed)
        #expect(installed.probeEvents.map(\.present) == [true, true])
        #expect(writes(fs).prefix(3) == [
            "dynamic_events: p:ftrace_exporter_t_entry vfs_fsync_range",
            "dynamic_events: r:ftrace_exporter_t_return vfs_fsync_range",
            "synthetic_events: ftrace_exporter_t_lat u64 lat; unsigned long func",
        ])
        #expect(fs.exists("instances/ftrace_exporter/events/kprobes/ftrace_exporter_t_return/trigger"))
        let start = fs.writes.count
        #expect(try c.remove("fsync").state == .absent)
        #expect(Array(writes(fs)[start...].suffix(3)) == [
            "synthetic_events: !ftrace_exporter_t_lat",
            "dynamic_events: -:kprobes/ftrace_exporter_t_return",
            "dynamic_events: -:kprobes/ftrace_exporter_t_entry",
        ])
        #expect(fs.writes.allSatisfy { $0.result == 0 })
        #expect(!String(decoding: try fs.read("dynamic_events"), as: UTF8.self).contains("ftrace_exporter_t_"))
    }

    @Test func checkConfigShowsEveryProbeWrite() throws {
        let config = try ConfigLoader.load(yaml: Self.fsync, file: "t.yml")
        let report = CheckConfigReport.render(config, tracefs: .flag("/t"), adminAPI: "off", webConfiguration: "none")
        #expect(report.contains("echo 'p:ftrace_exporter_t_entry vfs_fsync_range' >> '/t/dynamic_events'"))
        #expect(report.contains("echo 'r:ftrace_exporter_t_return vfs_fsync_range' >> '/t/dynamic_events'"))
        #expect(report.contains("echo '-:kprobes/ftrace_exporter_t_entry' >> '/t/dynamic_events'"))
        let install = report.range(of: "# install:")!.upperBound
        let remove = report.range(of: "# remove:")!.lowerBound
        let probe = report.range(of: "p:ftrace_exporter_t_entry")!.lowerBound
        #expect(probe > install && probe < remove)
        #expect(report.hasSuffix("echo '-:kprobes/ftrace_exporter_t_entry' >> '/t/dynamic_events'\n\n# at stop, after the sets are removed (kept when something else is left in it):\nrmdir '/t/instances/ftrace_exporter'\n"))
    }

    /// The kernel refuses a probe on a symbol it does not have: the error carries its
    /// error_log text, and what was written before is taken back.
    @Test func aRejectedProbeIsReportedWithTheKernelsWordsAndRolledBack() throws {
        let fs = FakeKernelTraceFS()
        let yaml = Self.fsync.replacingOccurrences(of: "r:ftrace_exporter_t_return vfs_fsync_range", with: "r:ftrace_exporter_t_return no_such_function")
        let c = try controller(fs, yaml)
        #expect {
            try c.install("fsync")
        } throws: { error in
            guard let e = error as? ControlError, case .kernelRejected(let write, let errno, let log) = e.kind else { return false }
            return write.path == "dynamic_events" && errno == ENOENT && log?.contains("Invalid probed address or symbol") == true
                && e.rollback.map(\.write.description) == ["echo '-:kprobes/ftrace_exporter_t_entry' >> dynamic_events", "rmdir instances/ftrace_exporter"]
                && e.rollback.allSatisfy { $0.result == "ok" }
        }
        #expect(String(decoding: try fs.read("dynamic_events"), as: UTF8.self) == "")
        #expect(try c.status(of: "fsync").state == .absent)
    }

    /// The kernel answered success but the probe is not there: not confirmed, and rolled back.
    @Test func aProbeMissingFromTheReadBackIsNotConfirmed() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs, Self.fsync)
        fs.ignoreNextWrite("dynamic_events")
        #expect {
            try c.install("fsync")
        } throws: { error in
            guard let e = error as? ControlError, case .notConfirmed(let write, _) = e.kind else { return false }
            return write.path == "dynamic_events"
                && e.rollback.map(\.write.description) == ["echo '-:kprobes/ftrace_exporter_t_entry' >> dynamic_events", "rmdir instances/ftrace_exporter"]
        }
        #expect(try c.status(of: "fsync").state == .absent)
    }

    /// A removal the kernel ignored leaves the probe: the removal fails as not confirmed.
    @Test func aProbeLeftAfterItsRemovalIsNotConfirmed() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs, Self.fsync)
        try c.install("fsync")
        fs.ignoreNextRemoval("dynamic_events")
        #expect {
            try c.remove("fsync")
        } throws: { error in
            guard let e = error as? ControlError, case .notConfirmed(let write, let readBack) = e.kind else { return false }
            return write.description.contains("-:kprobes/ftrace_exporter_t_return") && readBack.contains("ftrace_exporter_t_return")
        }
        #expect(try c.status(of: "fsync").state == .partial)
        #expect(try c.remove("fsync").state == .absent, "a second removal finishes the job")
    }

    /// A trigger someone else put on our probe event keeps the kernel from deleting it (EBUSY).
    @Test func aProbeInUseIsReportedBusy() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs, Self.fsync)
        try c.install("fsync")
        try fs.append("events/kprobes/ftrace_exporter_t_entry/trigger", "hist:keys=common_pid:vals=hitcount")
        #expect {
            try c.remove("fsync")
        } throws: { error in
            guard let e = error as? ControlError, case .kernelRejected(let write, let errno, _) = e.kind else { return false }
            return errno == EBUSY && write.description.contains("-:kprobes/ftrace_exporter_t_entry")
        }
    }

    @Test func aRestartAdoptsTheSetWithItsProbes() throws {
        let fs = FakeKernelTraceFS()
        try controller(fs, Self.fsync).install("fsync")
        let restarted = try controller(fs, Self.fsync)
        #expect(restarted.startUp().isEmpty)
        #expect(restarted.ownedSets == ["fsync"])
        #expect(restarted.removeOwned().isEmpty)
        #expect(String(decoding: try fs.read("dynamic_events"), as: UTF8.self) == "")
    }

    /// A probe left alone (its triggers removed from outside) makes the set partial; repair
    /// writes what is missing and leaves the probe.
    @Test func aSetWithOnlyItsProbesLeftIsPartial() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs, Self.fsync)
        try c.install("fsync")
        let config = try ConfigLoader.load(yaml: Self.fsync, file: "t.yml")
        for trigger in config.triggerSets[0].triggers.reversed() {
            try fs.append("instances/ftrace_exporter/events/\(trigger.event)/trigger", "!" + trigger.command)
        }
        try fs.append("synthetic_events", "!ftrace_exporter_t_lat")
        let status = try c.status(of: "fsync")
        #expect(status.state == .partial)
        #expect(status.probeEvents.allSatisfy { $0.present })
        #expect(try c.install("fsync").state == .installed)
    }

    // MARK: what the kernel offers

    @Test func fprobesAndTracepointProbesNeedAKernelThatHasThem() throws {
        for probe in ["f:ftrace_exporter_a vfs_read", "t:ftrace_exporter_a sched_switch"] {
            let event = probe.hasPrefix("f") ? "fprobes/ftrace_exporter_a" : "tracepoints/ftrace_exporter_a"
            let yaml = Self.set(probes: [probe], event: event)
            let old = FakeKernelTraceFS()
            let c = try controller(old, yaml)
            let reason = try #require(c.unsupportedReason(for: c.config.triggerSets[0]))
            #expect(reason.contains("6.") && reason.contains("CONFIG_FPROBE_EVENTS"), "\(reason)")
            #expect(throws: ControlError.self) { try c.install("probes") }
            #expect(old.writes.isEmpty, "nothing is written for an unsupported set")

            let new = FakeKernelTraceFS(features: .withFprobes)
            let onNew = try controller(new, yaml)
            #expect(onNew.unsupportedReason(for: onNew.config.triggerSets[0]) == nil)
            #expect(try onNew.install("probes").state == .installed)
            #expect(String(decoding: try new.read("dynamic_events"), as: UTF8.self).hasPrefix(probe.prefix(1) + ":\(event) "))
            #expect(try onNew.remove("probes").state == .absent)
        }
    }

    @Test func kprobesNeedAKernelThatHasThem() throws {
        let fs = FakeKernelTraceFS(features: .init(kprobeEvents: false))
        let c = try controller(fs, Self.fsync)
        #expect(c.unsupportedReason(for: c.config.triggerSets[0])?.contains("CONFIG_KPROBE_EVENTS") == true)
        #expect(fs.features().kprobeEvents == false)
        #expect(FakeKernelTraceFS().features().kprobeEvents)
        #expect(FakeKernelTraceFS(features: .withFprobes).features().fprobeEvents)
    }

    /// A reload may not change the probes of an installed set: removing them needs the text
    /// that was written.
    @Test func aReloadThatChangesTheProbesOfAnInstalledSetIsRefused() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs, Self.fsync)
        try c.install("fsync")
        let changed = try ConfigLoader.load(yaml: Self.fsync.replacingOccurrences(of: "r:ftrace", with: "r8:ftrace"), file: "t.yml")
        #expect(throws: ReloadConflict.self) { try c.replaceConfig(changed) }
    }
}
