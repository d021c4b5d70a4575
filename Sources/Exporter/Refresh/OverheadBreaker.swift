import Dispatch
import Locking
import Logging
import Platform
import TraceFS

/// Keeps sets within their overhead budget (`breaker` in the configuration). After every
/// refresh it rates each of our tables' events a second from their `Hits` since the refresh
/// before; a set any of whose tables stays over `max_events_per_second` for the breaker's `for`
/// is paused or removed, on the breaker's own queue (the refresh does not wait for it).
public final class OverheadBreaker: Sendable {
    struct TableKey: Hashable {
        var set: String
        var event: EventName
        var table: String
    }

    /// What the status API shows of a set's breaker.
    public struct SetState: Sendable, Equatable {
        /// The highest rate among the set's tables at the last refresh that could rate them.
        public var eventsPerSecond: Double?
        /// Wall-clock seconds since when the set has been over budget without a break.
        public var overBudgetSince: Double?
        public var lastTrip: Trip?
    }

    public struct Trip: Sendable, Equatable {
        public var at: Double
        public var eventsPerSecond: Double
        public var action: BreakerConfig.Action
        /// nil when the action was done; else why it failed.
        public var failure: String?
    }

    struct State {
        var samples: [TableKey: (hits: UInt64, at: UInt64)] = [:]
        var sets: [String: SetState] = [:]
        /// Monotonic start of the current stretch over budget, per set.
        var overSince: [String: UInt64] = [:]
        /// Sets whose trip is queued or running: not tripped twice.
        var tripping: Set<String> = []
        var running = true
    }

    private let state = Locked(State())
    private let controller: TriggerController
    private let metrics: ExporterMetrics
    private let logger: Logger
    private let queue = DispatchQueue(label: "ftrace_exporter.breaker")
    private let afterTrip = Locked<(@Sendable () -> Void)?>(nil)

    init(controller: TriggerController, metrics: ExporterMetrics, logger: Logger) {
        self.controller = controller
        self.metrics = metrics
        self.logger = logger
    }

    /// `body` runs after a trip's action (the snapshot is rebuilt).
    func onTrip(_ body: @escaping @Sendable () -> Void) {
        afterTrip.withLock { $0 = body }
    }

    public func state(of set: String) -> SetState? { state.withLock { $0.sets[set] } }

    /// Stops tripping and waits for a trip under way, so nothing is written after this returns.
    public func stop() {
        state.withLock { $0.running = false }
        queue.sync {}
    }

    /// Waits for the trips queued so far.
    func waitForTrips() {
        queue.sync {}
    }

    /// One refresh's reading of our tables, taken at `now` (monotonic nanoseconds).
    public func observe(_ tables: [HistCollector.OwnedTableHits], at now: UInt64) {
        let config = controller.config
        var rates: [String: Double] = [:]
        var due: [(set: TriggerSet, breaker: BreakerConfig, rate: Double)] = []
        let wallNow = controller.wallClock()
        state.withLock { s in
            var seen: Set<TableKey> = []
            for table in tables {
                let key = TableKey(set: table.set, event: table.event, table: table.table)
                seen.insert(key)
                defer { s.samples[key] = (table.hits, now) }
                // A table read anew (installed, rotated or cleared since) starts a new count.
                guard let previous = s.samples[key], table.hits >= previous.hits, now > previous.at else { continue }
                let rate = Double(table.hits - previous.hits) / (Double(now - previous.at) / 1e9)
                rates[table.set] = max(rates[table.set] ?? 0, rate)
            }
            for key in s.samples.keys where !seen.contains(key) { s.samples[key] = nil }
            for (name, rate) in rates {
                s.sets[name, default: SetState()].eventsPerSecond = rate
            }
            for name in Set(s.sets.keys).subtracting(rates.keys) {
                s.sets[name]?.eventsPerSecond = nil
            }
            for set in config.triggerSets {
                guard let breaker = set.breaker, let rate = rates[set.name], rate > breaker.maxEventsPerSecond else {
                    s.overSince[set.name] = nil
                    s.sets[set.name]?.overBudgetSince = nil
                    continue
                }
                let since = s.overSince[set.name] ?? now
                if s.overSince[set.name] == nil {
                    s.overSince[set.name] = now
                    s.sets[set.name, default: SetState()].overBudgetSince = wallNow
                }
                if Double(now - since) / 1e9 >= breaker.sustained, s.running, s.tripping.insert(set.name).inserted {
                    due.append((set, breaker, rate))
                }
            }
        }
        metrics.recordEventRates(rates)
        for (set, breaker, rate) in due {
            queue.async { [self] in trip(set, breaker, rate: rate) }
        }
    }

    private func trip(_ set: TriggerSet, _ breaker: BreakerConfig, rate: Double) {
        defer { state.withLock { _ = $0.tripping.remove(set.name) } }
        guard state.withLock({ $0.running }) else { return }
        var failure: String?
        do throws(ControlError) {
            switch breaker.action {
            case .pause: _ = try controller.control(set.name, .pause)
            case .remove: _ = try controller.remove(set.name)
            }
        } catch {
            failure = error.description
        }
        let trip = Trip(at: controller.wallClock(), eventsPerSecond: rate, action: breaker.action, failure: failure)
        state.withLock { s in
            s.overSince[set.name] = nil
            s.sets[set.name, default: SetState()].overBudgetSince = nil
            s.sets[set.name, default: SetState()].lastTrip = trip
            // Counts from before the action are not compared with those after it.
            for key in s.samples.keys where key.set == set.name { s.samples[key] = nil }
        }
        metrics.countBreakerTrip(set: set.name)
        let metadata: Logger.Metadata = [
            "set": "\(set.name)", "action": "\(breaker.action.rawValue)", "events_per_second": "\(Int(rate))",
            "max_events_per_second": "\(Int(breaker.maxEventsPerSecond))", "for": "\(formatDuration(breaker.sustained))",
        ]
        if let failure {
            logger.error("overhead breaker tripped but its action failed", metadata: metadata.merging(["err": "\(failure)"]) { $1 })
        } else {
            logger.warning(
                breaker.action == .remove ? "overhead breaker tripped: the set was removed" : "overhead breaker tripped: the set was paused",
                metadata: metadata)
        }
        afterTrip.withLock { $0 }?()
    }
}
