@testable import Exporter
import Exposition
import Foundation
import Locking
import Testing
import TraceFS
import TraceFSTesting

/// Rotation of the bookkeeping tables against the in-memory model of the kernel: what is
/// written and in which order, what stays, and what is counted.
@Suite struct RotationTests {
    static let instance = TraceInstance.named("ftrace_exporter")
    static let waking = EventName(system: "sched", event: "sched_waking")
    static let switching = EventName(system: "sched", event: "sched_switch")
    static let output = EventName(system: "synthetic", event: "ftrace_exporter_wakeup_lat")
    static let wakingCommand = "hist:keys=pid:fte_wakeup_ts=common_timestamp.usecs:size=1024"
    static let switchCommand = "hist:keys=next_pid:fte_wakeup_lat=common_timestamp.usecs-$fte_wakeup_ts:onmatch(sched.sched_waking).ftrace_exporter_wakeup_lat($fte_wakeup_lat):size=1024"
    static let outputCommand = "hist:keys=cpu,lat.log2:vals=hitcount,lat"

    static let yaml = """
        rotation:
          high_water_mark: 0.5
          check_interval: 2s
        trigger_sets:
          - name: wakeup_latency
            synthetic_events: ["ftrace_exporter_wakeup_lat u64 lat"]
            triggers:
              - event: sched/sched_waking
                command: "\(wakingCommand)"
              - event: sched/sched_switch
                command: "\(switchCommand)"
              - event: synthetic/ftrace_exporter_wakeup_lat
                command: "\(outputCommand)"
                metric:
                  name: ftrace_wakeup_latency_seconds
                  help: h
                  type: histogram
                  bucket_key: lat
                  scale: 0.000001
                  sum_value: lat
                  labels: [{key: cpu, name: cpu}]
        """

    /// A controller with the set installed, a rotator on a clock the test moves, and the logs.
    struct Rig {
        let fs = FakeKernelTraceFS()
        let metrics = ExporterMetrics()
        let logs = LogLines()
        let now = Locked<UInt64>(1_000_000_000)
        let controller: TriggerController
        let rotator: Rotator
        /// Seconds the clock moves at every reading of it, as if every read took that long.
        let step = Locked<Double>(0)

        init(yaml: String = RotationTests.yaml) throws {
            let config = try ConfigLoader.load(yaml: yaml, file: "t.yml")
            controller = TriggerController(fs: fs, config: config, logger: logs.logger)
            try controller.install("wakeup_latency")
            rotator = Rotator(controller: controller, metrics: metrics, logger: logs.logger, clock: { [now, step] in
                let advance = UInt64(step.withLock { $0 } * 1e9)
                return now.withLock { $0 += advance; return $0 }
            })
        }

        func advance(_ seconds: Double) { now.withLock { $0 += UInt64(seconds * 1e9) } }

        /// Fills a table with `count` distinct pids.
        func fill(_ event: EventName, _ command: String, entries count: Int, dropped: UInt64 = 0) {
            let key = event == RotationTests.waking ? "pid" : "next_pid"
            let lines = (0..<count).map { "{ \(key): \(100_000 + $0) } hitcount: 1" }
            #expect(fs.setEntries(lines, dropped: dropped, event: event, instance: RotationTests.instance, matching: command))
        }

        func table(_ event: EventName) -> BookkeepingTable? {
            let set = controller.config.triggerSet(named: "wakeup_latency")!
            return controller.bookkeepingTables(of: set, in: controller.readBookkeepingFiles(of: [set], guarded: true)).first { $0.event == event }
        }

        func sample(_ family: String, _ labels: [Label]) -> Double? {
            let families = metrics.families(statuses: controller.statuses(), config: controller.config)
            guard let metric = families.first(where: { $0.name == family })?.allMetrics.first(where: { $0.labels == labels }) else { return nil }
            switch metric.value {
            case .counter(let v), .gauge(let v): return v
            default: return nil
            }
        }
    }

    @Test func belowTheMarkNothingIsWrittenAndTheNextLookFollowsTheFillRate() throws {
        let rig = try Rig()
        rig.fill(Self.waking, Self.wakingCommand, entries: 100)
        let writes = rig.fs.writes.count
        #expect(rig.rotator.check() == 2, "no fill rate yet: the configured interval")
        rig.advance(1)
        rig.fill(Self.waking, Self.wakingCommand, entries: 400)
        // 300 new entries a second; the mark is 512 of 1024, 112 entries away: half of 0.373 s.
        let next = rig.rotator.check()
        #expect(abs(next - 112.0 / 300 / 2) < 1e-9)
        rig.advance(1)
        rig.fill(Self.waking, Self.wakingCommand, entries: 410)
        #expect(rig.rotator.check() == 2, "at 10/s the mark is 10 s away: the configured interval")
        #expect(rig.fs.writes.count == writes)
        #expect(rig.sample("ftrace_exporter_trigger_set_rotations", [Label("set", "wakeup_latency")]) == 0)
    }

    /// A look holds the kernel's event mutex while the tables are printed, which the refresh
    /// needs too: the next look waits at least as long as the last one took.
    @Test func looksTakeAtMostHalfTheTime() throws {
        let rig = try Rig()
        rig.fill(Self.waking, Self.wakingCommand, entries: 10)
        rig.step.withLock { $0 = 3 }
        #expect(rig.rotator.check() >= 3, "a look of 3 s is followed by 3 s without one, past the 2 s interval")
    }

    /// The first look at a set this process installed already knows the fill rate: the tables
    /// started empty at the install.
    @Test func theFirstLookAfterAnInstallMeasuresTheFillSinceTheInstall() throws {
        let rig = try Rig()
        let rotator = Rotator(controller: rig.controller, metrics: rig.metrics, logger: rig.logs.logger)
        usleep(200_000)
        rig.fill(Self.waking, Self.wakingCommand, entries: 300)
        // About 1500 a second since the install: the mark (512) is a fraction of a second away.
        #expect(rotator.check() < 1)
    }

    /// Tables go on filling while a look reads them and while a rotation waits its turn: a
    /// table that will pass the mark by then is rotated now.
    @Test func aSlowLookRotatesBeforeTheMarkWhenTheFillRateWouldPassIt() throws {
        let rig = try Rig()
        rig.fill(Self.waking, Self.wakingCommand, entries: 100)
        rig.rotator.check()
        rig.advance(1)
        rig.fill(Self.waking, Self.wakingCommand, entries: 400)
        rig.step.withLock { $0 = 0.5 }
        // 300 a second (measured over 1.5 s: 200/s), and a look of 0.5 s: the lead is 1 s, so 400
        // entries are projected past 512 before a rotation decided now could empty the table.
        rig.rotator.check()
        #expect(rig.sample("ftrace_exporter_trigger_set_rotations", [Label("set", "wakeup_latency")]) == 1)
    }

    /// The refresh takes the rotator's latest reading of a file that holds only bookkeeping
    /// tables instead of making the kernel print them again.
    @Test func theRefreshTakesTheRotatorsReadingOfBookkeepingFiles() throws {
        let rig = try Rig(yaml: "refresh_interval: 5s\n" + RotationTests.yaml)
        rig.fill(Self.waking, Self.wakingCommand, entries: 300)
        let collector = HistCollector(config: rig.controller.config, reader: rig.fs, logger: Fixtures.quietLogger,
                                      features: rig.fs.features(), clock: { [now = rig.now] in now.withLock { $0 } })
        collector.share(rig.rotator.readings)
        rig.rotator.check()
        let readsBefore = rig.fs.readCount
        let text = String(decoding: ExpositionEncoder.encode(collector.collect(), format: .text004), as: UTF8.self)
        let wakingHist = "instances/ftrace_exporter/events/sched/sched_waking/hist"
        #expect(rig.fs.readLog[readsBefore...].allSatisfy { $0 != wakingHist }, "sched_waking was read again")
        #expect(text.contains("ftrace_hist_entries{tracefs_instance=\"ftrace_exporter\",system=\"sched\",event=\"sched_waking\""))
        #expect(text.contains("} 300\n"))
        rig.advance(6)
        _ = collector.collect()
        #expect(rig.fs.readLog[readsBefore...].contains(wakingHist), "a reading older than a refresh is not used")
    }

    @Test func atTheMarkTheBookkeepingTriggersComeOutInReverseAndGoBackInOrder() throws {
        let rig = try Rig()
        rig.fill(Self.waking, Self.wakingCommand, entries: 512)
        rig.fill(Self.switching, Self.switchCommand, entries: 300)
        #expect(rig.fs.setEntries(["{ cpu: 0, lat: ~ 2^4 } hitcount: 700  lat: 9000"], event: Self.output,
                                   instance: Self.instance, matching: Self.outputCommand))
        rig.fs.clearWrites()
        rig.rotator.check()
        let path = "instances/ftrace_exporter/events/sched/"
        #expect(rig.fs.writes.map { "\($0.path): \($0.text)" } == [
            "\(path)sched_switch/trigger: !\(Self.switchCommand)",
            "\(path)sched_waking/trigger: !\(Self.wakingCommand)",
            "\(path)sched_waking/trigger: \(Self.wakingCommand)",
            "\(path)sched_switch/trigger: \(Self.switchCommand)",
        ])
        #expect(rig.fs.writes.allSatisfy { $0.result == 0 })
        #expect(rig.table(Self.waking)?.entries == 0)
        #expect(rig.table(Self.switching)?.entries == 0)
        #expect(try rig.controller.status(of: "wakeup_latency").state == .installed)
        let hist = String(decoding: try rig.fs.readHist(Self.output, in: Self.instance), as: UTF8.self)
        #expect(hist.contains("hitcount:        700") || hist.contains("hitcount: 700"), "the exported table is untouched:\n\(hist)")
        #expect(hist.contains("Hits: 700"))
        #expect(rig.sample("ftrace_exporter_trigger_set_rotations", [Label("set", "wakeup_latency")]) == 1)
        #expect(rig.sample("ftrace_exporter_trigger_set_rotation_duration_seconds", [Label("set", "wakeup_latency")]) != nil)
        #expect(rig.logs.lines.contains { $0.contains("rotated the bookkeeping tables") && $0.contains("set=wakeup_latency") && $0.contains("table=sched/sched_waking") })
    }

    @Test func dropsAreCountedAcrossRotationsAndLoggedOnce() throws {
        let rig = try Rig()
        let labels = [Label("set", "wakeup_latency"), Label("system", "sched"), Label("event", "sched_waking")]
        #expect(rig.sample("ftrace_exporter_bookkeeping_dropped", labels) == 0, "the series exists before the first drop")
        rig.fill(Self.waking, Self.wakingCommand, entries: 1024, dropped: 7)
        rig.rotator.check()
        #expect(rig.sample("ftrace_exporter_bookkeeping_dropped", labels) == 7)
        #expect(rig.table(Self.waking)?.dropped == 0, "the kernel's count starts again after the rotation")
        rig.advance(1)
        rig.fill(Self.waking, Self.wakingCommand, entries: 1024, dropped: 5)
        rig.rotator.check()
        #expect(rig.sample("ftrace_exporter_bookkeeping_dropped", labels) == 12)
        #expect(rig.sample("ftrace_exporter_trigger_set_rotations", [Label("set", "wakeup_latency")]) == 2)
        let warnings = rig.logs.lines.filter { $0.contains("a bookkeeping table filled before its set was rotated") }
        #expect(warnings.count == 2, "each episode of drops is logged: \(warnings)")
        #expect(warnings.first?.contains("table=sched/sched_waking") == true)
        #expect(warnings.first?.contains("size=") == true)
    }

    @Test func aFailedRemovalPutsBackWhatWasRemoved() throws {
        let rig = try Rig()
        rig.fill(Self.waking, Self.wakingCommand, entries: 600)
        rig.fs.failNext("instances/ftrace_exporter/events/sched/sched_waking/trigger", with: EBUSY)
        rig.rotator.check()
        #expect(try rig.controller.status(of: "wakeup_latency").state == .installed, "the removed sched_switch trigger is back")
        #expect(rig.sample("ftrace_exporter_trigger_set_rotations", [Label("set", "wakeup_latency")]) == 0)
        #expect(rig.sample("ftrace_exporter_trigger_set_rotation_failures", [Label("set", "wakeup_latency")]) == 1)
        #expect(rig.logs.lines.contains { $0.contains("cannot rotate") && $0.contains("EBUSY") })
    }

    @Test func aFailedReinstallIsUndoneAndLeavesTheSetPartialWithItsOutputIntact() throws {
        let rig = try Rig()
        rig.fill(Self.waking, Self.wakingCommand, entries: 600)
        rig.fs.failNextAddition("instances/ftrace_exporter/events/sched/sched_switch/trigger", with: EINVAL, errorLog: "Couldn't find variable")
        #expect(throws: ControlError.self) { try rig.controller.rotate("wakeup_latency") }
        let status = try rig.controller.status(of: "wakeup_latency")
        #expect(status.state == .partial)
        #expect(status.triggers.map(\.present) == [false, false, true])
        #expect(try rig.controller.install("wakeup_latency").state == .installed, "an install puts the rest back")
    }

    /// A paused set stays paused: the exported table is not touched, and the bookkeeping
    /// triggers, which the kernel cannot pause, keep filling and are rotated.
    @Test func aPausedSetRotatesAndStaysPaused() throws {
        let rig = try Rig()
        try rig.controller.control("wakeup_latency", .pause)
        rig.fill(Self.waking, Self.wakingCommand, entries: 600)
        rig.rotator.check()
        #expect(rig.sample("ftrace_exporter_trigger_set_rotations", [Label("set", "wakeup_latency")]) == 1)
        let status = try rig.controller.status(of: "wakeup_latency")
        #expect(status.state == .installed)
        #expect(status.triggers.map(\.paused) == [false, false, true])
    }

    /// A restart adopts the set left by a crash, and rotates it like one it installed.
    @Test func anAdoptedSetRotates() throws {
        let rig = try Rig()
        let restarted = TriggerController(fs: rig.fs, config: rig.controller.config, logger: rig.logs.logger)
        #expect(restarted.startUp().isEmpty)
        #expect(restarted.ownedSets == ["wakeup_latency"])
        rig.fill(Self.waking, Self.wakingCommand, entries: 700)
        let rotator = Rotator(controller: restarted, metrics: rig.metrics, logger: rig.logs.logger, clock: { 1 })
        rotator.check()
        #expect(rig.sample("ftrace_exporter_trigger_set_rotations", [Label("set", "wakeup_latency")]) == 1)
        #expect(try restarted.status(of: "wakeup_latency").state == .installed)
    }

    @Test func onlyOwnedInstalledSetsRotate() throws {
        let rig = try Rig()
        try rig.controller.remove("wakeup_latency")
        #expect(throws: ControlError.self) { try rig.controller.rotate("wakeup_latency") }
        rig.fs.clearWrites()
        rig.rotator.check()
        #expect(rig.fs.writes.isEmpty)
    }

    @Test func disabledRotationOnlyWaits() throws {
        let rig = try Rig(yaml: Self.yaml.replacingOccurrences(of: "  high_water_mark: 0.5", with: "  enabled: false"))
        rig.fill(Self.waking, Self.wakingCommand, entries: 1000)
        rig.fs.clearWrites()
        #expect(rig.rotator.check() == 2)
        #expect(rig.fs.writes.isEmpty)
    }

    @Test func theRotatorRunsOnItsOwnTimerAndStopsBeforeTheRemoval() throws {
        let rig = try Rig(yaml: Self.yaml.replacingOccurrences(of: "check_interval: 2s", with: "check_interval: 100ms"))
        rig.fill(Self.waking, Self.wakingCommand, entries: 700)
        rig.rotator.start()
        let deadline = Date().addingTimeInterval(5)
        while rig.sample("ftrace_exporter_trigger_set_rotations", [Label("set", "wakeup_latency")]) != 1 && Date() < deadline {
            usleep(20_000)
        }
        rig.rotator.stop()
        #expect(rig.sample("ftrace_exporter_trigger_set_rotations", [Label("set", "wakeup_latency")]) == 1)
        _ = rig.controller.removeOwned()
        let writes = rig.fs.writes.count
        usleep(300_000)
        #expect(rig.fs.writes.count == writes, "nothing is written once stopped")
    }
}
