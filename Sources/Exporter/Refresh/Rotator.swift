import Dispatch
import HistFormat
import Locking
import Logging
import Platform
import TraceFS

/// Keeps the latency sets measuring new work. Their bookkeeping tables gain an entry for every
/// new pid (or device and sector) and the kernel never evicts one, so a full table drops every
/// new task or request while the exported histogram looks healthy. The rotator looks at how full
/// they are on a timer of its own, apart from the refresh: a fork-heavy host or a busy disk can
/// fill a table between two refreshes. The next look comes after `rotation.check_interval`, or
/// sooner when the fill rate measured between two looks would reach the high-water mark before
/// then; at the mark the set is rotated (`TriggerController.rotate`).
public final class Rotator: Sendable {
    /// Looks never come closer together than this: reading a table makes the kernel sort it.
    public static let shortestCheckInterval = 0.1

    struct TableKey: Hashable {
        var set: String
        var event: EventName
    }

    struct Sample {
        var entries: UInt64
        var dropped: UInt64
        var at: UInt64
        /// New entries a second, between the last two looks (kept across a rotation).
        var rate: Double
    }

    struct State {
        var samples: [TableKey: Sample] = [:]
        var running = false
        /// Tables whose drops were logged and that have not dropped since, so a table that
        /// keeps dropping is logged once, not at every look.
        var dropping: Set<TableKey> = []
    }

    private let state = Locked(State())
    private let controller: TriggerController
    private let metrics: ExporterMetrics
    private let logger: Logger
    private let clock: @Sendable () -> UInt64
    private let queue = DispatchQueue(label: "ftrace_exporter.rotation")
    /// What the rotator read, for the refresh to take instead of reading it again.
    public let readings: HistReadings

    public init(
        controller: TriggerController, metrics: ExporterMetrics, logger: Logger, readings: HistReadings = HistReadings(),
        clock: @escaping @Sendable () -> UInt64 = monotonicNanoseconds
    ) {
        self.controller = controller
        self.metrics = metrics
        self.logger = logger
        self.readings = readings
        self.clock = clock
    }

    public func start() {
        state.withLock { $0.running = true }
        schedule(after: controller.config.rotation.checkInterval)
    }

    /// Stops the timer and waits for a look (and a rotation) under way, so that nothing is
    /// written after this returns.
    public func stop() {
        state.withLock { $0.running = false }
        queue.sync {}
    }

    private func schedule(after seconds: Double) {
        queue.asyncAfter(deadline: .now() + seconds) { [weak self] in
            guard let self, self.state.withLock({ $0.running }) else { return }
            let next = self.check()
            self.schedule(after: next)
        }
    }

    /// One look at every bookkeeping table of the sets this process owns, rotating the sets
    /// at their high-water mark. Returns the seconds until the next look.
    @discardableResult
    public func check() -> Double {
        let config = controller.config.rotation
        guard config.enabled else { return config.checkInterval }
        var next = config.checkInterval
        let all = controller.config
        let sets = controller.ownedSets.sorted().compactMap { all.triggerSet(named: $0) }.filter { !$0.bookkeepingTriggers.isEmpty }
        guard !sets.isEmpty else { return next }
        let start = clock()
        let files = controller.readBookkeepingFiles(of: sets, guarded: true)
        let now = clock()
        share(files, sets: sets, config: all, at: now)
        // Tables go on filling until the next look has read them, which comes no sooner than this
        // look took, and takes about as long again: a table that would pass the mark within
        // that is rotated now.
        let lead = 2 * Double(now &- start) / 1e9
        for set in sets {
            let name = set.name
            let tables = controller.bookkeepingTables(of: set, in: files)
            guard !tables.isEmpty else { continue }
            var full: BookkeepingTable?
            for table in tables {
                let mark = config.highWaterMark * Double(table.size)
                let rate = record(table, set: name, at: now, emptiedAt: controller.bookkeepingEmptied(name))
                let projected = Double(table.entries) + rate * lead
                if projected >= mark {
                    full = full ?? table
                } else if rate > 0 {
                    next = min(next, ((mark - Double(table.entries)) / rate - lead) / 2)
                }
            }
            guard let full else { continue }
            do throws(ControlError) {
                let report = try controller.rotate(name)
                let after = clock()
                resetAfterRotation(set: name, tables: tables, at: after)
                metrics.countRotation(set: name, seconds: report.seconds)
                logger.info("rotated the bookkeeping tables of a trigger set", metadata: [
                    "set": "\(name)", "table": "\(full.event)", "entries": "\(full.entries)", "size": "\(full.size)",
                    "high_water_mark": "\(config.highWaterMark)", "duration_seconds": "\(report.seconds)",
                ])
                for table in tables {
                    let rate = state.withLock { $0.samples[TableKey(set: name, event: table.event)]?.rate ?? 0 }
                    if rate > 0 { next = min(next, config.highWaterMark * Double(table.size) / rate / 2) }
                }
            } catch {
                metrics.countRotationFailure(set: name)
                logger.error("cannot rotate the bookkeeping tables of a trigger set", metadata: [
                    "set": "\(name)", "table": "\(full.event)", "err": "\(error)",
                ])
            }
        }
        // Looks take the kernel's event mutex for as long as it prints the tables, which the
        // refresh needs too: at least as long between looks as the last look took.
        let lookSeconds = Double(now &- start) / 1e9
        return max(Self.shortestCheckInterval, lookSeconds, next)
    }

    /// Hands the files that hold only bookkeeping tables to the refresh.
    private func share(_ files: [EventName: HistFile], sets: [TriggerSet], config: ExporterConfig, at time: UInt64) {
        let identities = sets.flatMap(\.bookkeepingTriggers).map(\.info.identity)
        let owned = controller.ownedSets
        for (event, file) in files {
            let others = config.triggerSets.filter { owned.contains($0.name) }.flatMap(\.triggers)
                .filter { $0.event == event && !$0.isBookkeeping }
            guard others.isEmpty else { continue }
            readings.store(file, of: event, at: time, stripping: identities)
        }
    }

    /// Notes a table's totals: counts its new drops and returns its fill rate: new entries a
    /// second since the previous look, or since the table was installed empty when that came
    /// after (a first look knows the rate already); else the last rate known.
    private func record(_ table: BookkeepingTable, set: String, at now: UInt64, emptiedAt: UInt64? = nil) -> Double {
        let key = TableKey(set: set, event: table.event)
        let (newDrops, rate, firstDrop) = state.withLock { s -> (UInt64, Double, Bool) in
            var previous = s.samples[key]
            if let emptiedAt, emptiedAt > (previous?.at ?? 0), emptiedAt < now {
                previous = Sample(entries: 0, dropped: 0, at: emptiedAt, rate: previous?.rate ?? 0)
            }
            let dropsBefore = previous.map { table.dropped >= $0.dropped ? $0.dropped : 0 } ?? 0
            let newDrops = table.dropped - dropsBefore
            var rate = previous?.rate ?? 0
            if let previous, table.entries >= previous.entries, now > previous.at {
                rate = Double(table.entries - previous.entries) / (Double(now - previous.at) / 1e9)
            }
            s.samples[key] = Sample(entries: table.entries, dropped: table.dropped, at: now, rate: rate)
            let firstDrop = newDrops > 0 && s.dropping.insert(key).inserted
            if newDrops == 0 { s.dropping.remove(key) }
            return (newDrops, rate, firstDrop)
        }
        if newDrops > 0 {
            metrics.countBookkeepingDrops(set: set, event: table.event, count: Double(newDrops))
        }
        if firstDrop {
            logger.warning(
                "a bookkeeping table filled before its set was rotated: new tasks or requests went unmeasured; raise its trigger's size= (at most 131072), or lower rotation.high_water_mark or rotation.check_interval",
                metadata: [
                    "set": "\(set)", "table": "\(table.event)", "size": "\(table.size)", "dropped": "\(newDrops)",
                    "fill_rate_per_second": "\(Int(rate))",
                ])
        }
        return rate
    }

    /// After a rotation the kernel's tables start empty, their `Dropped` at 0: drops after it
    /// are a new episode, logged again.
    private func resetAfterRotation(set: String, tables: [BookkeepingTable], at now: UInt64) {
        state.withLock { s in
            for table in tables {
                let key = TableKey(set: set, event: table.event)
                s.dropping.remove(key)
                let rate = s.samples[key]?.rate ?? 0
                s.samples[key] = Sample(entries: 0, dropped: 0, at: now, rate: rate)
            }
        }
    }
}
