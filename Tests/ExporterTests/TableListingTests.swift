@testable import Exporter
import HistFormat
import Platform
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
        #expect(collector.tables.map(\.id) == tables.map(\.id), "the same ids at every refresh")
    }

    @Test func aCollisionStillGivesUniqueIDs() throws {
        let block = try #require(try HistParser.parse("# event histogram\n#\n# trigger info: hist:keys=pid:vals=hitcount:sort=hitcount:size=2048 [active]\n#\n\n\nTotals:\n    Hits: 0\n    Entries: 0\n    Dropped: 0\n").blocks.first)
        let listing = HistTableListing(block, instance: .topLevel, event: EventName(system: "a", event: "b"), set: nil, readAt: 0)
        let listings = TableListings()
        listings.replace(with: [listing, listing, listing])
        #expect(listings.all.map(\.id) == [listing.id, listing.id + "-2", listing.id + "-3"])
    }
}

/// A stack request serves the table the latest refresh read: it reads no tracefs file, so it
/// neither prints the event's other tables again nor waits for the controller's action under way.
@Suite struct StackSnapshotTests {
    @Test func theStacksAreThoseOfTheLatestRefreshWithoutARead() throws {
        let fs = FakeKernelTraceFS()
        let trigger = "hist:keys=stacktrace"
        let event = EventName(system: "sched", event: "sched_switch")
        try fs.append("events/sched/sched_switch/trigger", trigger)
        fs.setEntries(["{ stacktrace:\n         __schedule+0x4f8/0xa00\n         do_idle+0x166/0x2b0\n} hitcount:          3"],
                      event: event, instance: .topLevel, matching: trigger)
        let config = try DefaultConfig.load()
        let controller = TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
        let collector = HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 })
        let refresher = Refresher(collector: collector, controller: controller, metrics: ExporterMetrics(), logger: Fixtures.quietLogger)
        let before = wallClockSeconds()
        refresher.refreshSharing()
        let listing = try #require(collector.tables.first { $0.stackKey != nil })
        #expect(listing.readAt >= before && listing.readAt <= wallClockSeconds())

        fs.setEntries(["{ stacktrace:\n         __schedule+0x4f8/0xa00\n         io_schedule+0x46/0x70\n} hitcount:          9"],
                      event: event, instance: .topLevel, matching: trigger)
        let reads = fs.readCount
        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            controller.whileNoActionRuns {
                held.signal()
                release.wait()
            }
        }
        held.wait()
        let profile = try collector.stackProfile(table: listing.id)
        release.signal()
        #expect(profile.stacks.map(\.frames) == [["do_idle", "__schedule"]], "the refresh's table, while an action runs")
        #expect(profile.timeNanos == Int64(listing.readAt * 1e9))
        #expect(fs.readCount == reads, "no tracefs read on request: \(fs.readLog.suffix(fs.readCount - reads))")

        refresher.refreshSharing()
        #expect(try collector.stackProfile(table: listing.id).stacks.map(\.frames) == [["io_schedule", "__schedule"]])
    }
}
