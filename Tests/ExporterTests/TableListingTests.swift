@testable import Exporter
import HistFormat
import Testing
import TraceFS
import TraceFSTesting
import Foundation

/// The tables a refresh read, as the admin API lists them.
@Suite struct TableListingTests {
    @Test func theSameTriggerOnAnotherEventOrInstanceIsAnotherTable() throws {
        let info = try TriggerInfo.parse("hist:name=shared:keys=pid:vals=hitcount:sort=hitcount:size=2048 [active]")
        let waking = EventName(system: "sched", event: "sched_waking")
        let wakeup = EventName(system: "sched", event: "sched_wakeup")
        let ids = [
            tableID(info, instance: .topLevel, event: waking), tableID(info, instance: .topLevel, event: wakeup),
            tableID(info, instance: .named("other"), event: waking),
        ]
        #expect(Set(ids).count == 3)
        #expect(ids.allSatisfy { $0.hasPrefix(tableID(info) + "-") }, "the table label's id leads")
        let paused = try TriggerInfo.parse("hist:name=shared:keys=pid:vals=hitcount:sort=hitcount:size=4096 [paused]")
        #expect(tableID(paused, instance: .topLevel, event: waking) == ids[0], "size and pause state are not the table's identity")
    }

    @Test func everyTableReadIsListedOnceWithItsStackKey() throws {
        let fs = Fixtures.tree("44-sched-switch-four-hist-blocks-named-paused-filter")
        let collector = HistCollector(config: try DefaultConfig.load(), reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 })
        #expect(collector.tables.isEmpty, "nothing before the first refresh")
        _ = collector.collect()
        let tables = collector.tables
        #expect(tables.count == 4)
        #expect(Set(tables.map(\.id)).count == 4)
        #expect(tables.allSatisfy { $0.event.description == "sched/sched_switch" && $0.set == nil })
        let stacks = Fixtures.tree("47-sched-switch-key-then-stacktrace")
        let stackCollector = HistCollector(config: try DefaultConfig.load(), reader: stacks, logger: Fixtures.quietLogger, features: stacks.features(), clock: { 0 })
        _ = stackCollector.collect()
        #expect(stackCollector.tables.map(\.stackKey) == ["stacktrace"])
        _ = collector.collect()
        #expect(collector.tables == tables, "the same ids at every refresh")
    }

    @Test func aCollisionStillGivesUniqueIDs() throws {
        let block = try #require(try HistParser.parse("# event histogram\n#\n# trigger info: hist:keys=pid:vals=hitcount:sort=hitcount:size=2048 [active]\n#\n\n\nTotals:\n    Hits: 0\n    Entries: 0\n    Dropped: 0\n").blocks.first)
        let listing = HistTableListing(block, instance: .topLevel, event: EventName(system: "a", event: "b"), set: nil)
        let listings = TableListings()
        listings.replace(with: [listing, listing, listing])
        #expect(listings.all.map(\.id) == [listing.id, listing.id + "-2", listing.id + "-3"])
    }
}

/// A stack read on request goes through the refresh's guarded reader: it waits for the
/// controller's action under way (reading a hist file while a synthetic event is deleted
/// crashed Linux 6.1).
@Suite struct StackReadGuardTests {
    @Test func aStackReadWaitsForTheActionUnderWay() throws {
        let fs = FakeKernelTraceFS()
        let trigger = "hist:keys=stacktrace"
        try fs.append("events/sched/sched_switch/trigger", trigger)
        fs.setEntries(["{ stacktrace:\n         __schedule+0x4f8/0xa00\n         do_idle+0x166/0x2b0\n} hitcount:          3"],
                      event: EventName(system: "sched", event: "sched_switch"), instance: .topLevel, matching: trigger)
        let config = try DefaultConfig.load()
        let controller = TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
        let collector = HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 })
        let refresher = Refresher(collector: collector, controller: controller, metrics: ExporterMetrics(), logger: Fixtures.quietLogger)
        refresher.refreshSharing()
        let id = try #require(collector.tables.first { $0.stackKey != nil }?.id)
        #expect(try collector.stackProfile(table: id).stacks.map(\.frames) == [["do_idle", "__schedule"]])

        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            controller.whileNoActionRuns {
                held.signal()
                release.wait()
            }
        }
        held.wait()
        Thread.detachNewThread {
            _ = try? collector.stackProfile(table: id)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 0.3) == .timedOut, "the read waits while an action runs")
        release.signal()
        #expect(done.wait(timeout: .now() + 10) == .success)
    }
}
