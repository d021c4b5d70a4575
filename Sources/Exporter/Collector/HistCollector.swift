import Cgroups
import Exposition
import HistFormat
import Logging
import Platform
import TraceFS

/// Reads every table the exporter exports, once, and turns them into metric families.
///
/// One refresh at a time: callers serialise `collect()` (the refresh loop does).
public final class HistCollector: @unchecked Sendable {
    public let config: ExporterConfig
    private(set) var reader: any TraceFileReader
    let logger: Logger
    let features: TraceFeatures
    private var formats: [String: EventFormat] = [:]
    /// What the previous refresh found, so a change is logged once (start-up reports the first).
    private var tracefsWasAvailable: Bool?

    /// Monotonic nanoseconds; tests pass a fixed clock so outputs are byte-stable.
    let clock: @Sendable () -> UInt64
    /// Names the cgroups of `decode: cgroup` labels; nil when no mapping has one.
    let cgroupPaths: CgroupPaths?

    public init(
        config: ExporterConfig, reader: any TraceFileReader, logger: Logger, features: TraceFeatures,
        clock: @escaping @Sendable () -> UInt64 = monotonicNanoseconds
    ) {
        self.config = config
        self.reader = reader
        self.logger = logger
        self.features = features
        self.clock = clock
        let decodesCgroups = config.triggerSets.contains { set in
            set.triggers.contains { $0.metric?.labels.contains { $0.decoder == .cgroup } ?? false }
        }
        cgroupPaths = decodesCgroups ? CgroupPaths(mount: config.cgroupMount, clock: clock) : nil
    }

    /// The tables the latest refresh read, for the admin API's table list and stack reads.
    let listings = TableListings()

    /// What clears of full tables took out of them, added back at every read.
    private(set) var carried = CarriedTables()

    /// Goes on adding what the previous collector carried (a reload's new collector takes
    /// over before its first refresh).
    public func continueCarrying(from previous: HistCollector) { carried = previous.carried }

    /// Lets go of what is carried for the tables of sets not installed by this process.
    public func forgetCarried(keeping owned: Set<String>) { carried.keep(sets: owned) }

    /// Where the rotator leaves its latest parse of files that hold only bookkeeping tables.
    private(set) var readings: HistReadings?

    /// Takes the rotator's reading of a file of ours that holds only bookkeeping tables when it
    /// is younger than the refresh interval, instead of reading the file again.
    public func share(_ readings: HistReadings) { self.readings = readings }

    /// Makes each read of tracefs wait for the controller's action under way (install, removal,
    /// rotation) and hold the next off, one file at a time: an action waits for one read, not
    /// for a whole refresh.
    func guardReads(with controller: TriggerController) {
        guard !(reader is ActionGuardedReader) else { return }
        reader = ActionGuardedReader(base: reader, controller: controller)
    }

    private func seconds(since start: UInt64) -> Double { Double(clock() &- start) / 1e9 }

    struct FileKey: Hashable, Comparable {
        var instance: TraceInstance
        var event: EventName
        static func < (a: FileKey, b: FileKey) -> Bool { (a.instance.label, a.event) < (b.instance.label, b.event) }
    }

    struct OwnedTrigger {
        var set: String
        var definition: TriggerDefinition
    }

    public func collect() -> [MetricFamily] { collectReporting().families }

    /// The `Hits` of one of our tables at a refresh: what the overhead breaker rates.
    public struct OwnedTableHits: Hashable, Sendable {
        public var set: String
        public var event: EventName
        public var table: String
        public var hits: UInt64
    }

    /// What one refresh read.
    public struct Collection: Sendable {
        public var families: [MetricFamily]
        /// The hist files that failed.
        public var failures: [TableFile]
        /// The files of our own triggers that were read.
        public var ownRead: [TableFile]
        public var ownHits: [OwnedTableHits]
        /// Tables of ours that clear when full and reached the high-water mark.
        public var fullTables: [FullTable] = []
    }

    /// An exported table to clear, its counts carried on.
    public struct FullTable: Sendable {
        public var set: String
        public var trigger: TriggerDefinition
        public var entries: UInt64
        public var size: Int
    }

    /// One event's hist file in one instance.
    public struct TableFile: Hashable, Sendable {
        public var instance: TraceInstance
        public var event: EventName
    }

    public func collectReporting() -> Collection {
        var failures: [TableFile] = []
        var ownRead: [TableFile] = []
        var ownHits: [OwnedTableHits] = []
        var fullTables: [FullTable] = []
        var families = FamilyBuilder()
        HealthFamilies.declare(into: &families)
        HealthFamilies.features(&families, features)
        let tracefsAvailable = reader.exists("events")
        HealthFamilies.tracefs(&families, available: tracefsAvailable)
        if let before = tracefsWasAvailable, before != tracefsAvailable {
            if tracefsAvailable {
                logger.info("tracefs is available again", metadata: ["tracefs": "\(reader.root)"])
            } else {
                logger.warning("tracefs is gone (unmounted?): no table can be read until it is back", metadata: ["tracefs": "\(reader.root)"])
            }
        }
        tracefsWasAvailable = tracefsAvailable
        let ours = config.traceInstance

        var owned: [FileKey: [OwnedTrigger]] = [:]
        for set in config.triggerSets {
            for trigger in set.triggers {
                owned[FileKey(instance: ours, event: trigger.event), default: []].append(OwnedTrigger(set: set.name, definition: trigger))
            }
        }
        // Before install, our instance does not exist: its tables are absent, not failing.
        if case .named = ours, !reader.exists(ours.directory + "events") {
            logger.debug("exporter instance not present; its tables are not installed", metadata: ["instance": "\(ours.label)"])
            owned = [:]
        }
        // Without hist triggers no event has a hist file: the start said so once, and reading
        // them would log the same failure for every event at every refresh.
        if !features.histTriggers { owned = [:] }
        var files = Set(owned.keys)
        if config.discovery.enabled && features.histTriggers { files.formUnion(discoveryCandidates(excluding: ours)) }

        var withTables: Set<FileKey> = []
        var tables: [HistTableListing] = []
        let readAt = wallClockSeconds()
        defer { listings.replace(with: tables) }
        defer { if scannedEverything { discoveredFiles = withTables } }
        var discoveryBudget = config.discovery.seriesLimit
        var discoveryOverLimit = 0
        let discovery = DiscoveryMapper(pidLabels: config.discovery.pidLabels, stackLabels: config.discovery.stackLabels)
        for file in files.sorted() {
            let isOwned = owned[file] != nil
            let fileLabels = [
                Label("tracefs_instance", file.instance.label), Label("system", file.event.system), Label("event", file.event.event),
            ]
            let start = clock()
            if isOwned, let parsed = sharedReading(of: file, owned: owned[file] ?? []) {
                ownRead.append(TableFile(instance: file.instance, event: file.event))
                for block in parsed.blocks {
                    let match = owned[file]?.first { $0.definition.info.identity == block.triggerInfo.identity }
                    if let match { ownHits.append(Self.hits(of: block, set: match.set, event: file.event)) }
                    if match == nil && !config.discovery.enabled { continue }
                    tables.append(HistTableListing(block, instance: file.instance, event: file.event, set: match?.set, readAt: readAt))
                    _ = Self.addTable(
                        block, fileLabels: fileLabels, cgroupPaths: cgroupPaths, owner: match.map { TableOwner(set: $0.set, mapping: $0.definition.metric) },
                        discovery: discovery, discoveryBudget: &discoveryBudget, into: &families)
                }
                HealthFamilies.readResult(&families, fileLabels, success: true, seconds: seconds(since: start))
                continue
            }
            let bytes: [UInt8]
            do {
                bytes = try reader.readHist(file.event, in: file.instance)
            } catch {
                // Discovery skips events that vanish or have no hist file. For ours, an
                // event this kernel lacks is "not installed"; a missing hist file in an
                // existing event means no hist support, which is worth a warning.
                if isOwned {
                    if reader.exists(reader.eventDirectory(file.event, in: file.instance)) {
                        logger.warning("cannot read hist file", metadata: ["path": "\(error.path)", "err": "\(error)"])
                        failures.append(TableFile(instance: file.instance, event: file.event))
                        HealthFamilies.readResult(&families, fileLabels, success: false, seconds: seconds(since: start))
                    } else {
                        logger.debug("event not available", metadata: ["event": "\(file.event)", "instance": "\(file.instance.label)"])
                    }
                }
                continue
            }
            if bytes.isEmpty && !isOwned { continue }
            if isOwned { ownRead.append(TableFile(instance: file.instance, event: file.event)) } else { withTables.insert(file) }
            var parsed: HistFile
            do {
                parsed = try HistParser.parse(bytes)
            } catch {
                logger.error(
                    "cannot parse hist file",
                    metadata: ["path": "\(histPath(file))", "err": "\(error)"])
                failures.append(TableFile(instance: file.instance, event: file.event))
                HealthFamilies.readResult(&families, fileLabels, success: false, seconds: seconds(since: start))
                continue
            }
            if let format = format(file) { parsed = parsed.applyingSignedness(of: format) }

            var mapped = true
            for read in parsed.blocks {
                let match = owned[file]?.first { $0.definition.info.identity == read.triggerInfo.identity }
                if let match { ownHits.append(Self.hits(of: read, set: match.set, event: file.event)) }
                if match == nil && !config.discovery.enabled { continue }
                tables.append(HistTableListing(read, instance: file.instance, event: file.event, set: match?.set, readAt: readAt))
                var block = read
                var carriedEntries: Int?
                var rollUp: SeriesRollUp?
                if let match, match.definition.clearsWhenFull {
                    rollUp = carried.rollUp(set: match.set, event: file.event, table: read.triggerInfo.identity)
                    block = restoringCarried(read, of: match, event: file.event)
                    carriedEntries = carried.entryCount(set: match.set, event: file.event, table: read.triggerInfo.identity) ?? 0
                    if let full = fullTable(read, of: match) { fullTables.append(full) }
                }
                let result = Self.addTable(
                    block, fileLabels: fileLabels, cgroupPaths: cgroupPaths, owner: match.map { TableOwner(set: $0.set, mapping: $0.definition.metric) },
                    discovery: discovery, discoveryBudget: &discoveryBudget, carriedEntries: carriedEntries, rollUp: rollUp, into: &families)
                discoveryOverLimit += result.discoveryOverLimit
                if let column = result.missingColumn {
                    logger.error(
                        "hist table lacks a value column its metric mapping reads; its metrics are left out",
                        metadata: [
                            "path": "\(histPath(file))", "line": "\(block.line)",
                            "column": "\(column)", "metric": "\(match?.definition.metric?.name ?? "")",
                            "trigger": "\(block.triggerInfo.text)",
                        ])
                    mapped = false
                }
            }
            if !mapped { failures.append(TableFile(instance: file.instance, event: file.event)) }
            HealthFamilies.readResult(&families, fileLabels, success: mapped, seconds: seconds(since: start))
        }
        reportDiscoveryLimit(over: discoveryOverLimit)
        return Collection(families: families.build(), failures: failures, ownRead: ownRead, ownHits: ownHits, fullTables: fullTables)
    }

    /// The table with what earlier clears of ours took out of it added back.
    private func restoringCarried(_ block: HistBlock, of owner: OwnedTrigger, event: EventName) -> HistBlock {
        let restored = carried.restoring(block, set: owner.set, event: event)
        if restored.reset {
            logger.info(
                "a table the exporter clears when full was emptied by another hand (an admin clear, a re-install): its counters start again",
                metadata: ["set": "\(owner.set)", "event": "\(event)"])
        }
        return restored.block
    }

    /// The table when it has reached the rotation's high-water mark.
    private func fullTable(_ block: HistBlock, of owner: OwnedTrigger) -> FullTable? {
        let rotation = config.rotation
        let size = block.triggerInfo.size ?? TableSize.kernelDefault
        guard rotation.enabled, Double(block.totals.entries) >= rotation.highWaterMark * Double(size) else { return nil }
        return FullTable(set: owner.set, trigger: owner.definition, entries: block.totals.entries, size: size)
    }

    /// Carries a table one of our clears emptied: its entries, in the signedness the refresh
    /// reads them in, without those of cgroups removed since (a fresh walk of the mount
    /// decides), whose series go stale. Returns how many entries were carried and left out.
    public func carry(_ clear: TableClear, of full: FullTable) -> (kept: Int, dropped: Int) {
        let event = full.trigger.event
        var table = clear.table
        if let format = format(FileKey(instance: config.traceInstance, event: event)),
           let signed = HistFile(blocks: [table]).applyingSignedness(of: format).blocks.first {
            table = signed
        }
        let names = Set((full.trigger.metric?.labels ?? []).filter { $0.decoder == .cgroup }.map { FieldSpec(name: $0.key).canonicalName })
        let positions = table.triggerInfo.keys.indices.filter { names.contains(table.triggerInfo.keys[$0].canonicalName) }
        let live = cgroupPaths?.currentPaths(for: CgroupNames.ids(in: table.entries, at: positions)) ?? [:]
        return carried.carry(table, set: full.set, event: event) { entry in
            positions.allSatisfy { p in
                p < entry.keys.count && KeyLabels.unsignedNumber(entry.keys[p].value).map { live[$0] != nil } ?? false
            }
        }
    }

    static func hits(of block: HistBlock, set: String, event: EventName) -> OwnedTableHits {
        OwnedTableHits(set: set, event: event, table: tableID(block.triggerInfo), hits: block.totals.hits)
    }

    /// The rotator's reading of one of our files, when every trigger of ours on it is a
    /// bookkeeping one (none has a metric to map) and the reading is younger than a refresh.
    private func sharedReading(of file: FileKey, owned: [OwnedTrigger]) -> HistFile? {
        guard let readings, config.refreshInterval.value > 0, file.instance == config.traceInstance,
              owned.allSatisfy({ $0.definition.isBookkeeping })
        else { return nil }
        let age = UInt64(config.refreshInterval.value * 1e9)
        let now = clock()
        return readings.file(of: file.event, since: now > age ? now - age : 0)
    }

    /// Whether the previous refresh left discovered series out, so that reaching the limit is
    /// logged once, not at every refresh; the count is in `ftrace_hist_series_over_limit`.
    private var discoveryLimitReached = false

    private func reportDiscoveryLimit(over: Int) {
        if over > 0 && !discoveryLimitReached {
            logger.warning(
                "discovery series limit reached: series of discovered tables are left out (counted per table in ftrace_hist_series_over_limit); raise discovery.series_limit or map the busy tables",
                metadata: ["series_limit": "\(config.discovery.seriesLimit)", "left_out": "\(over)"])
        }
        discoveryLimitReached = over > 0
    }

    /// What adding one table found.
    struct TableResult {
        /// Discovered series the discovery budget had no room for.
        var discoveryOverLimit = 0
        /// A column the owner's mapping reads that the table lacks; its families were left out.
        var missingColumn: String?
    }

    /// One table's families: its owner's mapping, or discovery's generic families when no
    /// set owns it (an owned table without a mapping has none), and its health families.
    static func addTable(
        _ block: HistBlock, fileLabels: [Label], cgroupPaths: CgroupPaths? = nil, owner: TableOwner?, discovery: DiscoveryMapper,
        discoveryBudget: inout Int, carriedEntries: Int? = nil, rollUp: SeriesRollUp? = nil, into families: inout FamilyBuilder
    ) -> TableResult {
        let id = tableID(block.triggerInfo)
        let tableLabels = fileLabels + [Label("table", id), Label("trigger_set", owner?.set ?? "")]
        var overLimit = 0
        var unnamedCgroupEntries: Int?
        var result = TableResult()
        if let owner {
            if let mapping = owner.mapping {
                let output = ConfiguredTableMapper(mapping: mapping, cgroupPaths: cgroupPaths, rollUp: rollUp).map(block)
                if let column = output.missingColumn {
                    result.missingColumn = column
                } else {
                    output.families.forEach { families.add($0) }
                }
                overLimit = output.seriesOverLimit
                if mapping.labels.contains(where: { $0.decoder == .cgroup }) { unnamedCgroupEntries = output.unnamedCgroupEntries }
            }
        } else {
            let output = discovery.map(block, baseLabels: fileLabels + [Label("table", id)], remaining: &discoveryBudget)
            overLimit = output.seriesOverLimit
            result.discoveryOverLimit = overLimit
            DiscoveryFamilies.add(output, into: &families)
        }
        HealthFamilies.table(
            &families, tableLabels, block, seriesOverLimit: overLimit, unnamedCgroupEntries: unnamedCgroupEntries, carriedEntries: carriedEntries)
        return result
    }

    /// Event files found holding tables at the last full scan.
    private var discoveredFiles: Set<FileKey> = []
    private var lastFullScan: UInt64?
    private var scannedEverything = false

    /// The hist files discovery reads this refresh. Listing and opening every event's
    /// hist file (a few thousand) costs far more than reading the tables, so the full scan
    /// runs every `rescan_interval`; between scans only files that held tables are read.
    /// Our own instance is left to the trigger-set state, which reports foreign triggers there.
    private func discoveryCandidates(excluding ours: TraceInstance) -> Set<FileKey> {
        let now = clock()
        let interval = UInt64(config.discovery.rescanInterval * 1e9)
        if let last = lastFullScan, now &- last < interval {
            scannedEverything = false
            return discoveredFiles
        }
        lastFullScan = now
        scannedEverything = true
        var files: Set<FileKey> = []
        for instance in [TraceInstance.topLevel] + reader.instances() where instance != ours || ours == .topLevel {
            for event in (try? reader.events(in: instance)) ?? [] { files.insert(FileKey(instance: instance, event: event)) }
        }
        return files
    }

    /// The hist file's full path, for messages that must name it.
    private func histPath(_ file: FileKey) -> String {
        let root = reader.root.hasSuffix("/") ? String(reader.root.dropLast()) : reader.root
        return "\(root)/\(reader.eventDirectory(file.event, in: file.instance))/hist"
    }

    private func format(_ file: FileKey) -> EventFormat? {
        let key = "\(file.instance.label)/\(file.event)"
        if let cached = formats[key] { return cached }
        guard let format = try? reader.readFormat(file.event, in: file.instance) else { return nil }
        formats[key] = format
        return format
    }
}
