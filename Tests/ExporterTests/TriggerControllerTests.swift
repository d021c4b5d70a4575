@testable import Exporter
import Foundation
import HistFormat
import Testing
import TraceFS
import TraceFSTesting

/// The admin controller against the in-memory model of the kernel's control semantics.
@Suite struct TriggerControllerTests {
    static let instance = "instances/ftrace_exporter/"

    func controller(_ fs: FakeKernelTraceFS, yaml: String? = nil) throws -> TriggerController {
        let config = try yaml.map { try ConfigLoader.load(yaml: $0, file: "t.yml") } ?? DefaultConfig.load()
        return TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
    }

    func successfulWrites(_ fs: FakeKernelTraceFS) -> [String] {
        fs.writes.filter { $0.result == 0 }.map { "\($0.path): \($0.text)" }
    }

    @Test func installWritesInOrderAndConfirms() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        #expect(try c.status(of: "wakeup_latency").state == .absent)
        let status = try c.install("wakeup_latency")
        #expect(status.state == .installed)
        #expect(successfulWrites(fs) == [
            "synthetic_events: ftrace_exporter_wakeup_lat u64 lat",
            "\(Self.instance)events/sched/sched_waking/trigger: hist:keys=pid:fte_wakeup_ts=common_timestamp.usecs:size=16384",
            "\(Self.instance)events/sched/sched_switch/trigger: hist:keys=next_pid:fte_wakeup_lat=common_timestamp.usecs-$fte_wakeup_ts:onmatch(sched.sched_waking).ftrace_exporter_wakeup_lat($fte_wakeup_lat):size=16384",
            "\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger: hist:keys=cpu,lat.log2:vals=hitcount,lat:size=8192",
        ])
        #expect(fs.exists("instances/ftrace_exporter"))
        #expect(c.ownedSets == ["wakeup_latency"])
    }

    @Test func installAndRemoveAreIdempotent() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        let writesAfterFirst = fs.writes.count
        #expect(try c.install("wakeup_latency").state == .installed)
        #expect(fs.writes.count == writesAfterFirst, "a second install writes nothing")
        #expect(try c.remove("wakeup_latency").state == .absent)
        let writesAfterRemove = fs.writes.count
        #expect(try c.remove("wakeup_latency").state == .absent)
        #expect(fs.writes.count == writesAfterRemove, "a second remove writes nothing")
    }

    @Test func removeRunsInReverseWithTheExactTextAndTheInstanceGoesAtStop() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        let start = fs.writes.count
        try c.remove("wakeup_latency")
        let removal = fs.writes[start...].map { "\($0.path): \($0.text)" }
        #expect(Array(removal) == [
            "\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger: !hist:keys=cpu,lat.log2:vals=hitcount,lat:size=8192",
            "\(Self.instance)events/sched/sched_switch/trigger: !hist:keys=next_pid:fte_wakeup_lat=common_timestamp.usecs-$fte_wakeup_ts:onmatch(sched.sched_waking).ftrace_exporter_wakeup_lat($fte_wakeup_lat):size=16384",
            "\(Self.instance)events/sched/sched_waking/trigger: !hist:keys=pid:fte_wakeup_ts=common_timestamp.usecs:size=16384",
            "synthetic_events: !ftrace_exporter_wakeup_lat",
        ])
        #expect(fs.exists("instances/ftrace_exporter"), "the instance is kept while the exporter runs")
        #expect(c.ownedSets.isEmpty)
        #expect(c.removeOwned().isEmpty)
        #expect(!fs.exists("instances/ftrace_exporter"))
    }

    @Test func aRejectedTriggerRollsBackAndReportsTheKernelsError() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        fs.failNext("\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger", with: EINVAL,
                    errorLog: "Couldn't find field")
        do {
            try c.install("wakeup_latency")
            Issue.record("install succeeded")
        } catch {
            #expect(error.httpStatus == 422)
            guard case .kernelRejected(_, let errno, let log) = error.kind else { Issue.record("\(error)"); return }
            #expect(errno == EINVAL)
            #expect(log?.contains("Couldn't find field") == true)
            #expect(error.rollback.map(\.result).allSatisfy { $0 == "ok" })
            #expect(error.rollback.count == 4, "two triggers, the synthetic event and the instance undone")
        }
        #expect(try c.status(of: "wakeup_latency").state == .absent)
        #expect(!fs.exists("instances/ftrace_exporter"))
        #expect(c.ownedSets.isEmpty)
    }

    @Test(arguments: [EBUSY, EEXIST, ENOENT, EINVAL, EACCES])
    func failuresAtEveryStepLeaveNothingBehind(_ errno: Int32) throws {
        let steps = [
            "instances/ftrace_exporter", "synthetic_events",
            "\(Self.instance)events/sched/sched_waking/trigger",
            "\(Self.instance)events/sched/sched_switch/trigger",
            "\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger",
        ]
        for step in steps {
            let fs = FakeKernelTraceFS()
            let c = try controller(fs)
            fs.failNext(step, with: errno)
            #expect(throws: ControlError.self, "\(step)") { try c.install("wakeup_latency") }
            #expect(try c.status(of: "wakeup_latency").state == .absent, "\(step) \(errno)")
            #expect(!fs.exists("instances/ftrace_exporter") || step == "instances/ftrace_exporter" && errno == EEXIST)
        }
    }

    @Test func aRemovalTheKernelIgnoresIsNotReportedAsDone() throws {
        // The kernel answers success to a removal that matched nothing; the read-back tells.
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        fs.ignoreNextWrite("\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger")
        do {
            try c.remove("wakeup_latency")
            Issue.record("remove reported success")
        } catch {
            guard case .notConfirmed = error.kind else { Issue.record("\(error)"); return }
            #expect(error.httpStatus == 500)
        }
    }

    /// A read-back that fails confirms nothing: the removal answers 500, not success.
    @Test func aRemovalWhoseReadBackFailsIsNotConfirmed() throws {
        // Each file is read once by the look before the removal; the second read is the read-back.
        for path in ["\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger", "synthetic_events"] {
            let fs = FakeKernelTraceFS()
            let c = try controller(fs)
            try c.install("wakeup_latency")
            fs.failRead(path, with: EIO, skipping: 1)
            do {
                try c.remove("wakeup_latency")
                Issue.record("remove reported success with \(path) unreadable")
            } catch {
                guard case .readBackFailed(let write, _) = error.kind else { Issue.record("\(path): \(error)"); continue }
                #expect(write.path == path)
                #expect(error.httpStatus == 500)
                #expect(error.description.contains("could not be confirmed"), "\(error)")
            }
        }
    }

    /// A trigger file that cannot be read is not taken for one without our triggers: the
    /// removal would skip them and answer success while they stay.
    @Test func anUnreadableTriggerFileFailsTheActionInsteadOfPassingForAbsent() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        fs.clearWrites()
        fs.failRead("\(Self.instance)events/sched/sched_switch/trigger", with: EACCES)
        do {
            try c.remove("wakeup_latency")
            Issue.record("remove went ahead")
        } catch {
            guard case .unreadable = error.kind else { Issue.record("\(error)"); return }
            #expect(error.httpStatus == 500)
        }
        #expect(fs.writes.isEmpty)
        #expect(try c.status(of: "wakeup_latency").state == .installed)
    }

    /// The instance goes at stop when nothing is left in it: an event without a trigger file (the
    /// kernel's ftrace/* events) holds nothing; a trigger file that cannot be read may, so the
    /// instance stays.
    @Test func theInstanceGoesUnlessAnEventsTriggersCannotBeRead() throws {
        for (errno, stays) in [(ENOENT, false), (EIO, true)] {
            let fs = FakeKernelTraceFS()
            let c = try controller(fs)
            try c.install("wakeup_latency")
            // The removal reads each trigger file of the set twice (look, read-back); the
            // instance check reads every event's file after that.
            fs.failRead("\(Self.instance)events/sched/sched_wakeup/trigger", with: errno)
            #expect(c.removeOwned().isEmpty)
            #expect(fs.exists("instances/ftrace_exporter") == stays, "\(errnoName(errno))")
        }
    }

    @Test func unknownSetsWriteNothing() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        for name in ["nope", "../wakeup_latency", "wakeup_latency:pause", "!wakeup_latency", "hist:keys=pid"] {
            #expect(throws: ControlError.self) { try c.install(name) }
            #expect(throws: ControlError.self) { try c.remove(name) }
            #expect(throws: ControlError.self) { try c.control(name, .clear) }
        }
        #expect(fs.writes.isEmpty)
    }

    @Test func kernelWithoutHistTriggersAnswers503() throws {
        let fs = FakeKernelTraceFS(features: .noHistTriggers)
        let c = try controller(fs)
        do {
            try c.install("wakeup_latency")
            Issue.record("installed without hist triggers")
        } catch {
            #expect(error.httpStatus == 503)
            #expect(error.description.contains("CONFIG_HIST_TRIGGERS"))
        }
        #expect(fs.writes.isEmpty)
    }

    @Test func pauseContinueClear() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        let paused = try c.control("wakeup_latency", .pause)
        // Only the counting table; the triggers holding variables cannot be paused.
        #expect(paused.triggers.map(\.paused) == [false, false, true])
        #expect(paused.state == .installed)
        let resumed = try c.control("wakeup_latency", .continue)
        #expect(resumed.triggers.allSatisfy { !$0.paused })
        #expect(fs.writes.filter { $0.result != 0 }.isEmpty)
        try c.control("wakeup_latency", .clear)
        #expect(fs.writes.last?.text.hasSuffix(":clear") == true)
    }

    @Test func controlWordGoesBeforeTheFilter() {
        #expect(TriggerController.controlCommand("hist:keys=a if b > 1", "pause") == "hist:keys=a:pause if b > 1")
        #expect(TriggerController.controlCommand("hist:keys=a", "cont") == "hist:keys=a:cont")
    }

    @Test func partialAndDriftedStates() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        // Someone removes our synthetic-event hist and puts an edited one in its place.
        let path = "\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger"
        try fs.append(path, "!hist:keys=cpu,lat.log2:vals=hitcount,lat")
        #expect(try c.status(of: "wakeup_latency").state == .partial)
        try fs.append(path, "hist:keys=cpu,lat.log2:vals=hitcount,lat:size=4096 if lat > 10")
        let drifted = try c.status(of: "wakeup_latency")
        #expect(drifted.state == .drifted)
        #expect(drifted.foreignTriggers.count == 1)
    }

    @Test func restartAdoptsOrCleansWithoutDuplicates() throws {
        let fs = FakeKernelTraceFS()
        try controller(fs).install("wakeup_latency")  // the run that crashed
        let adopting = try controller(fs)
        #expect(adopting.startUp().isEmpty)
        #expect(adopting.ownedSets == ["wakeup_latency"])
        #expect(fs.writes.filter { $0.result != 0 }.isEmpty, "no EEXIST from a second install")
        #expect(try adopting.status(of: "wakeup_latency").state == .installed)

        let yaml = DefaultConfig.yaml.replacingOccurrences(of: "on_start: adopt", with: "on_start: clean")
        let cleaning = try controller(fs, yaml: yaml)
        let before = fs.writes.count
        #expect(cleaning.startUp().isEmpty)
        let after = fs.writes[before...].map(\.text)
        #expect(after.filter { $0.hasPrefix("!") }.count == 4, "removed first")
        #expect(after.filter { !$0.hasPrefix("!") }.count == 4, "then installed again")
        #expect(fs.writes.filter { $0.result != 0 }.isEmpty)
    }

    @Test func removeOwnedAtExitLeavesTheKernelClean() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        #expect(c.startUp().isEmpty)
        #expect(c.removeOwned().isEmpty)
        #expect(try c.status(of: "wakeup_latency").state == .absent)
        #expect(!fs.exists("instances/ftrace_exporter"))
        #expect(String(decoding: try fs.read("synthetic_events"), as: UTF8.self).isEmpty)
    }

    @Test("a rollback the kernel ignores is reported as not confirmed, not as done")
    func aRollbackTheKernelIgnoresIsReported() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        let table = "\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger"
        let matcher = "\(Self.instance)events/sched/sched_switch/trigger"
        fs.failNext(table, with: EINVAL)
        fs.ignoreNextRemoval(matcher)
        do {
            try c.install("wakeup_latency")
            Issue.record("install succeeded")
        } catch {
            let matcherUndo = error.rollback.first { $0.write.path == matcher }
            #expect(matcherUndo?.result.hasPrefix("not confirmed") == true, "\(error.rollback)")
            #expect(error.rollback.filter { $0.write.path != matcher }.allSatisfy { $0.result == "ok" || $0.result == "EBUSY" })
        }
    }

    @Test("a rollback whose read-back fails is reported as not confirmed, not as done")
    func aRollbackWhoseReadBackFailsIsReported() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        let table = "\(Self.instance)events/synthetic/ftrace_exporter_wakeup_lat/trigger"
        let matcher = "\(Self.instance)events/sched/sched_switch/trigger"
        fs.failNext(table, with: EINVAL)
        // The install reads the matcher's file twice (the look first, its own read-back); the
        // third read is the undo's.
        fs.failRead(matcher, with: EIO, skipping: 2)
        do {
            try c.install("wakeup_latency")
            Issue.record("install succeeded")
        } catch {
            let matcherUndo = error.rollback.first { $0.write.path == matcher }
            #expect(matcherUndo?.result.hasPrefix("not confirmed: the read-back failed") == true, "\(error.rollback)")
        }
    }

    @Test("a set whose event this kernel lacks answers 503 naming the event, and writes nothing")
    func aMissingTracepointIsNamed() throws {
        let events = FakeKernelTraceFS.defaultEvents.filter { $0.system != "block" }
        let fs = FakeKernelTraceFS(events: events)
        let c = try controller(fs)
        do {
            try c.install("block_io_latency")
            Issue.record("installed without block events")
        } catch {
            #expect(error.httpStatus == 503)
            #expect(error.description.contains("no event block/block_rq_issue"), "\(error)")
        }
        #expect(fs.writes.isEmpty)
        let set = try #require(c.config.triggerSet(named: "block_io_latency"))
        #expect(c.unsupportedReason(for: set)?.contains("block/block_rq_issue") == true)
        #expect(c.unsupportedReason(for: try #require(c.config.triggerSet(named: "wakeup_latency"))) == nil)
    }

    @Test("a kernel without synthetic events answers 503 naming CONFIG_SYNTH_EVENTS")
    func kernelWithoutSyntheticEventsAnswers503() throws {
        let fs = FakeKernelTraceFS(features: .init(histTriggers: true, syntheticEvents: false))
        let c = try controller(fs)
        do {
            try c.install("wakeup_latency")
            Issue.record("installed without synthetic events")
        } catch {
            #expect(error.httpStatus == 503)
            #expect(error.description.contains("CONFIG_SYNTH_EVENTS"), "\(error)")
        }
        #expect(fs.writes.isEmpty)
        // A set without synthetic events still installs.
        #expect(try c.install("kmalloc_by_call_site").state == .installed)
    }

    @Test("common_stacktrace, as a key or in a variable, is unsupported before 6.5; stacktrace is not")
    func commonStacktraceNeedsAKernelThatHasIt() throws {
        let yaml = """
            trigger_sets:
              - name: key
                triggers:
                  - event: sched/sched_switch
                    command: "hist:keys=common_stacktrace:vals=hitcount:size=1024"
              - name: variable
                triggers:
                  - event: sched/sched_switch
                    command: "hist:keys=prev_pid:fte_st=common_stacktrace:size=1024"
              - name: older_name
                triggers:
                  - event: sched/sched_switch
                    command: "hist:keys=stacktrace:vals=hitcount:size=1024 if prev_comm == \\"common_stacktrace\\""

            """
        let fs = FakeKernelTraceFS()
        let c = try controller(fs, yaml: yaml)
        let sets = c.config.triggerSets
        for set in sets.prefix(2) {
            #expect(c.unsupportedReason(for: set)?.contains("'common_stacktrace' is 6.5 or later") == true, "\(set.name)")
        }
        #expect(c.unsupportedReason(for: sets[2]) == nil, "the name in a filter's string is no key")
        var newer = fs.features()
        newer.commonStacktrace = true
        #expect(sets.allSatisfy { c.unsupportedReason(for: $0, features: newer) == nil })
    }

    @Test("clear, pause and continue on a set that is not installed answer 409 and write nothing")
    func controlOnAnAbsentSet() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        for action in TriggerController.SetControl.allCases {
            do {
                try c.control("wakeup_latency", action)
                Issue.record("\(action) succeeded on an absent set")
            } catch {
                #expect(error.httpStatus == 409)
                #expect(error.description.contains("not installed"))
            }
        }
        #expect(fs.writes.isEmpty)
    }

    @Test("at stop the instance stays when someone else's trigger is in it; it goes once that trigger does")
    func theInstanceKeepsForeignTriggers() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        let foreign = "\(Self.instance)events/kmem/kmalloc/trigger"
        try fs.append(foreign, "hist:keys=call_site.sym:vals=bytes_req")
        #expect(c.removeOwned().isEmpty)
        #expect(fs.exists("instances/ftrace_exporter"), "removing the instance would take the foreign trigger with it")
        #expect(String(decoding: try fs.read(foreign), as: UTF8.self).contains("hist:keys=call_site.sym"))
        try fs.append(foreign, "!hist:keys=call_site.sym:vals=bytes_req")
        try c.install("wakeup_latency")
        #expect(c.removeOwned().isEmpty)
        #expect(!fs.exists("instances/ftrace_exporter"))
    }

    @Test("a reload that drops or changes an installed set, or moves the instance, is refused; other changes apply")
    func reloadRefusesToStrandInstalledSets() throws {
        let fs = FakeKernelTraceFS()
        let c = try controller(fs)
        try c.install("wakeup_latency")
        let yaml = DefaultConfig.yaml
        func load(_ text: String) throws -> ExporterConfig { try ConfigLoader.load(yaml: text, file: "reload.yml") }

        let changed = yaml.replacingOccurrences(of: "hist:keys=cpu,lat.log2:vals=hitcount,lat", with: "hist:keys=cpu,lat.log2:vals=hitcount,lat:size=4096")
        #expect(changed != yaml)
        #expect { try c.replaceConfig(try load(changed)) } throws: { ($0 as? ReloadConflict)?.description.contains("changes its triggers") == true }
        var moved = try DefaultConfig.load()
        moved.instance = "elsewhere"
        #expect { try c.replaceConfig(moved) } throws: { ($0 as? ReloadConflict)?.description.contains("instance changes") == true }
        var dropped = try DefaultConfig.load()
        dropped.triggerSets.removeAll { $0.name == "wakeup_latency" }
        #expect { try c.replaceConfig(dropped) } throws: { ($0 as? ReloadConflict)?.description.contains("drops it") == true }
        #expect(c.config == (try DefaultConfig.load()), "a refused reload changes nothing")

        // Changing only a description, or a set that is not installed, is fine.
        var described = try DefaultConfig.load()
        described.triggerSets[0].description = "(reloaded)"
        described.triggerSets.removeAll { $0.name == "syscall_latency" }
        try c.replaceConfig(described)
        #expect(c.config.triggerSets[0].description == "(reloaded)")
        #expect(c.config.triggerSet(named: "syscall_latency") == nil)
        #expect(try c.remove("wakeup_latency").state == .absent, "the installed set is still removable")
        try c.replaceConfig(try load(changed))
    }
}
