@testable import Exporter
import Exposition
import Foundation
import Testing
import TraceFS
import TraceFSTesting

/// The overhead breaker: rates from `Hits` between refreshes, a budget that must be exceeded
/// for the breaker's `for` before it acts, and what it does then.
@Suite struct OverheadBreakerTests {
    static let second: UInt64 = 1_000_000_000

    struct Rig {
        let fs = FakeKernelTraceFS()
        let controller: TriggerController
        let metrics = ExporterMetrics()
        let breaker: OverheadBreaker

        init(budget: Double = 1000, sustained: Double = 10, action: BreakerConfig.Action = .remove) throws {
            var config = try DefaultConfig.load()
            let i = try #require(config.triggerSets.firstIndex { $0.name == "context_switches" })
            config.triggerSets[i].breaker = BreakerConfig(maxEventsPerSecond: budget, sustained: sustained, action: action)
            controller = TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
            breaker = OverheadBreaker(controller: controller, metrics: metrics, logger: Fixtures.quietLogger)
        }

        /// The context_switches table at `hits`, read at second `at`.
        func observe(_ hits: UInt64, at seconds: UInt64, set: String = "context_switches") {
            let table = HistCollector.OwnedTableHits(
                set: set, event: EventName(system: "sched", event: "sched_switch"), table: "t", hits: hits)
            breaker.observe([table], at: seconds * OverheadBreakerTests.second)
            breaker.waitForTrips()
        }

        func trips() -> Double? {
            let family = metrics.families(statuses: [], config: controller.config)
                .first { $0.name == "ftrace_exporter_trigger_set_breaker_trips" }
            guard case .counter(let value)? = family?.metrics.first(where: { $0.labels == [Label("set", "context_switches")] })?.value
            else { return nil }
            return value
        }
    }

    @Test func aSetUnderItsBudgetIsLeftAlone() throws {
        let r = try Rig()
        try r.controller.install("context_switches")
        for second in 0..<30 { r.observe(UInt64(second) * 900, at: UInt64(second)) }
        #expect(try r.controller.status(of: "context_switches").state == .installed)
        #expect(r.breaker.state(of: "context_switches")?.eventsPerSecond == 900)
        #expect(r.breaker.state(of: "context_switches")?.lastTrip == nil)
        #expect(r.trips() == 0, "counted from 0 for a set with a breaker")
    }

    @Test func aSetOverItsBudgetForTheBreakersForIsRemoved() throws {
        let r = try Rig(budget: 1000, sustained: 10)
        try r.controller.install("context_switches")
        r.observe(0, at: 0)
        // Over budget for 5 s, then back under: the stretch starts anew.
        for second in 1...5 { r.observe(UInt64(second) * 5000, at: UInt64(second)) }
        #expect(r.breaker.state(of: "context_switches")?.overBudgetSince != nil)
        r.observe(25_100, at: 6)
        #expect(r.breaker.state(of: "context_switches")?.overBudgetSince == nil)
        #expect(try r.controller.status(of: "context_switches").state == .installed)
        // Over budget from second 7 on: tripped at the refresh 10 s later, not before.
        for second in 7...16 { r.observe(25_100 + UInt64(second - 6) * 2000, at: UInt64(second)) }
        #expect(try r.controller.status(of: "context_switches").state == .installed, "over budget for 9 s")
        r.observe(25_100 + 11 * 2000, at: 17)
        #expect(try r.controller.status(of: "context_switches").state == .absent, "over budget for 10 s: removed")
        let trip = try #require(r.breaker.state(of: "context_switches")?.lastTrip)
        #expect(trip.action == .remove && trip.failure == nil && trip.eventsPerSecond == 2000)
        #expect(r.trips() == 1)
        // The removed set's tables are gone: nothing more to rate, no second trip.
        r.breaker.observe([], at: 18 * Self.second)
        r.breaker.waitForTrips()
        #expect(r.trips() == 1)
        #expect(r.breaker.state(of: "context_switches")?.eventsPerSecond == nil)
    }

    @Test func pauseIsTheOtherAction() throws {
        let r = try Rig(budget: 10, sustained: 0, action: .pause)
        try r.controller.install("context_switches")
        r.observe(0, at: 0)
        r.observe(100, at: 1)
        let status = try r.controller.status(of: "context_switches")
        #expect(status.state == .installed)
        #expect(status.triggers.allSatisfy { $0.paused }, "\(status.triggers.map(\.readBack))")
        #expect(r.breaker.state(of: "context_switches")?.lastTrip?.action == .pause)
    }

    @Test func aTableThatStartsAgainIsNotReadAsANegativeOrHugeRate() throws {
        let r = try Rig(budget: 1000, sustained: 0)
        try r.controller.install("context_switches")
        r.observe(1_000_000, at: 0)
        r.observe(10, at: 1)  // rotated or cleared: Hits went down
        #expect(r.breaker.state(of: "context_switches")?.eventsPerSecond == nil)
        r.observe(510, at: 2)
        #expect(r.breaker.state(of: "context_switches")?.eventsPerSecond == 500)
        #expect(try r.controller.status(of: "context_switches").state == .installed)
    }

    @Test func aFailedActionIsReportedWithTheKernelsError() throws {
        let r = try Rig(budget: 10, sustained: 0)
        try r.controller.install("context_switches")
        let trigger = "instances/ftrace_exporter/events/sched/sched_switch/trigger"
        r.fs.failNext(trigger, with: EBUSY, errorLog: nil)
        r.observe(0, at: 0)
        r.observe(100, at: 1)
        let trip = try #require(r.breaker.state(of: "context_switches")?.lastTrip)
        #expect(trip.failure?.contains("EBUSY") == true, "\(trip.failure ?? "no failure")")
        #expect(r.trips() == 1)
    }

    @Test func ratesAreExportedForEveryRatedSet() throws {
        let r = try Rig()
        try r.controller.install("context_switches")
        r.observe(0, at: 0, set: "wakeup_latency")
        r.observe(300, at: 2, set: "wakeup_latency")
        let family = r.metrics.families(statuses: [], config: r.controller.config)
            .first { $0.name == "ftrace_exporter_trigger_set_events_per_second" }
        #expect(family?.metrics.map(\.labels) == [[Label("set", "wakeup_latency")]])
        #expect(family?.metrics.first?.value == .gauge(150))
    }

    @Test func theConfigurationChecksTheBreaker() throws {
        func load(_ breaker: String) throws -> ExporterConfig {
            try ConfigLoader.load(yaml: """
                trigger_sets:
                  - name: s
                    breaker:
                \(breaker)
                    triggers:
                      - event: sched/sched_switch
                        command: "hist:keys=prev_comm"
                """, file: "b.yml")
        }
        let full = try load("      max_events_per_second: 5e4\n      for: 1m\n      action: pause")
        #expect(full.triggerSets[0].breaker == BreakerConfig(maxEventsPerSecond: 50_000, sustained: 60, action: .pause))
        let short = try load("      max_events_per_second: 100")
        #expect(short.triggerSets[0].breaker == BreakerConfig(maxEventsPerSecond: 100, sustained: 30, action: .remove))
        let bad: [(String, String)] = [
            ("      for: 1m", "a breaker needs max_events_per_second"),
            ("      max_events_per_second: 0", "max_events_per_second must be above 0"),
            ("      max_events_per_second: lots", "max_events_per_second"),
            ("      max_events_per_second: 10\n      for: 2d", "for must be a duration from 0s to 1d"),
            ("      max_events_per_second: 10\n      action: stop", "action must be pause or remove (got 'stop')"),
            ("      max_events_per_second: 10\n      budget: 3", "budget"),
        ]
        for (text, message) in bad {
            do {
                _ = try load(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".contains(message), "\(text): \(error)")
                #expect("\(error)".contains("b.yml:"), "names the file and line: \(error)")
            }
        }
    }
}
