@testable import Exporter
import HistFormat
import Testing
import TraceFS

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
