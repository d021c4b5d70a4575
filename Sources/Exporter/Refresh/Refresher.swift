import Dispatch
import Exposition
import Locking
import Logging
import Platform
import TraceFS

/// Keeps the current snapshot: rebuilt every refresh interval in the background, or on
/// scrape with one read shared by concurrent scrapes (single flight) when the interval is 0.
/// Scrapes only ever read a finished snapshot; they never wait on tracefs otherwise.
public final class Refresher: Sendable {
    struct State {
        var snapshot: MetricsSnapshot?
        var flight: DispatchGroup?
        var collector: HistCollector
        var interval: Double
        var timer: TimerHandle?
        /// Between start() and stop(): a reload may reschedule the timer only then.
        var running = false
        /// Scrapes waiting for a refresh that another scrape started.
        var sharing = 0
        /// The hist families of the last refresh, for a rebuild after an admin action.
        var histFamilies: [MetricFamily] = []
        /// Counts rebuilds after admin actions: a refresh that looked at the sets before one
        /// does not replace the snapshot that rebuild made.
        var generation = 0
        /// Given each snapshot before it is published, on the thread that made it.
        var beforePublishing: (@Sendable (MetricsSnapshot) -> Void)?
    }

    /// Dispatch sources are thread-safe; the handle lets one live in the locked state.
    struct TimerHandle: @unchecked Sendable {
        let source: DispatchSourceTimer
    }

    private let state: Locked<State>
    /// Rates our tables after every refresh and trips sets over their overhead budget.
    public let breaker: OverheadBreaker
    let controller: TriggerController
    let metrics: ExporterMetrics
    let logger: Logger
    private let queue = DispatchQueue(label: "ftrace_exporter.refresh")

    public init(collector: HistCollector, controller: TriggerController, metrics: ExporterMetrics, logger: Logger) {
        collector.guardReads(with: controller)
        self.state = Locked(State(collector: collector, interval: collector.config.refreshInterval.value))
        self.controller = controller
        self.metrics = metrics
        self.logger = logger
        self.breaker = OverheadBreaker(controller: controller, metrics: metrics, logger: logger)
        breaker.onTrip { [weak self] in self?.rebuildAfterChange() }
    }

    /// Ready once the first refresh has finished.
    public var isReady: Bool { state.withLock { $0.snapshot != nil } }

    public var refreshInterval: Double { state.withLock { $0.interval } }

    /// The collector refreshes read with: after a reload, the new configuration's.
    public var collector: HistCollector { state.withLock { $0.collector } }

    /// `handler` is given each new snapshot (of a refresh, or rebuilt after an admin action)
    /// before scrapes can see it, on the thread that made it: what every scrape of the snapshot
    /// would otherwise wait for (encoding, compression) is done there, while scrapes are still
    /// served the snapshot before it.
    public func beforePublishing(_ handler: @escaping @Sendable (MetricsSnapshot) -> Void) {
        state.withLock { $0.beforePublishing = handler }
    }

    /// Builds the first snapshot, then refreshes every interval (if the interval is not 0).
    public func start() {
        _ = refreshSharing()
        let interval = state.withLock { s -> Double in
            s.running = true
            return s.interval
        }
        schedule(every: interval)
    }

    private func schedule(every interval: Double) {
        guard interval > 0 else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(50))
        timer.setEventHandler { [weak self] in _ = self?.refreshSharing() }
        let handle = TimerHandle(source: timer)
        let kept = state.withLock { s -> Bool in
            guard s.running, s.timer == nil else { return false }
            s.timer = handle
            return true
        }
        if kept {
            timer.resume()
        } else {
            // Dispatch traps when a source is released suspended: cancelled, it never fires.
            timer.cancel()
            timer.resume()
        }
    }

    public func stop() {
        let handle = state.withLock { s -> TimerHandle? in
            let t = s.timer
            s.timer = nil
            s.running = false
            return t
        }
        handle?.source.cancel()
        breaker.stop()
    }

    /// After a configuration reload: the new collector and refresh interval apply at once, and
    /// the snapshot is rebuilt so the next scrape shows the new sets, mappings and HELP texts.
    public func reload(collector: HistCollector) {
        collector.guardReads(with: controller)
        collector.continueCarrying(from: self.collector)
        let interval = collector.config.refreshInterval.value
        let replaced = state.withLock { s -> TimerHandle?? in
            s.collector = collector
            guard s.interval != interval else { return .none }
            s.interval = interval
            let old = s.timer
            s.timer = nil
            return .some(old)
        }
        if case .some(let old) = replaced {
            old?.source.cancel()
            schedule(every: interval)
        }
        // A refresh under way reads with the previous collector: the new snapshot is one
        // started after it.
        state.withLock { $0.flight }?.wait()
        _ = refreshSharing()
    }

    /// After a change this process made (an admin action, a rejected reload): the snapshot is
    /// rebuilt at once from the tables the last refresh read and the sets' state now, without
    /// reading the tables again (printing them takes the kernel seconds under load). A set just
    /// removed is gone from it, one just installed shows as installed, and the counts of its
    /// tables come with the next refresh.
    public func rebuildAfterChange() {
        let (collector, hist, built) = state.withLock { s in
            s.generation += 1
            return (s.collector, s.histFamilies, s.snapshot != nil)
        }
        guard built else { return }
        let snapshot = assemble(hist, statuses: controller.statuses(), collector: collector)
        state.withLock { $0.beforePublishing }?(snapshot)
        state.withLock { $0.snapshot = snapshot }
    }

    /// The snapshot a scrape serves: the current one, or, when refreshing on scrape, a fresh
    /// one shared with every scrape that arrives while it is being built.
    ///
    /// With `deadline` (seconds, from the scrape's `X-Prometheus-Scrape-Timeout-Seconds`), a
    /// scrape that refreshes waits for the refresh at most that long and is otherwise served the
    /// snapshot before it, counted as a missed deadline: Prometheus would drop a late answer
    /// whole. The refresh goes on on the refresh queue and serves the scrapes after it.
    public func snapshotForScrape(deadline: Double? = nil) -> MetricsSnapshot {
        let (interval, current) = state.withLock { ($0.interval, $0.snapshot) }
        if interval > 0, let current { return current }
        guard let deadline, current != nil else { return refreshSharing() }
        let group: DispatchGroup
        let joined: Bool
        switch joinFlight() {
        case .led(let led, let collector):
            queue.async { _ = self.fly(led, collector) }
            (group, joined) = (led, false)
        case .joined(let running):
            (group, joined) = (running, true)
        }
        let inTime = group.wait(timeout: .now() + .nanoseconds(Int(min(deadline, 86_400) * 1e9))) == .success
        if !inTime {
            metrics.countScrapeDeadlineMiss()
            logger.debug("refresh not done by the scrape's deadline; serving the previous snapshot", metadata: ["deadline_seconds": "\(deadline)"])
        }
        return state.withLock { s in
            if joined { s.sharing -= 1 }
            return s.snapshot!
        }
    }

    public var current: MetricsSnapshot? { state.withLock { $0.snapshot } }

    /// How many scrapes are waiting on a refresh another scrape started.
    package var scrapesSharingARefresh: Int { state.withLock { $0.sharing } }

    /// Runs one refresh, or waits for the one already running and returns its result.
    @discardableResult
    public func refreshSharing() -> MetricsSnapshot {
        switch joinFlight() {
        case .led(let group, let collector):
            return fly(group, collector)
        case .joined(let group):
            group.wait()
            return state.withLock { s in
                s.sharing -= 1
                return s.snapshot!
            }
        }
    }

    private enum Flight {
        /// A refresh this caller must run (`fly`): the group is left when it is done.
        case led(DispatchGroup, HistCollector)
        /// The refresh already running, counted in `sharing` until the joiner is done waiting.
        case joined(DispatchGroup)
    }

    private func joinFlight() -> Flight {
        state.withLock { s in
            if let running = s.flight {
                s.sharing += 1
                return .joined(running)
            }
            let group = DispatchGroup()
            group.enter()
            s.flight = group
            return .led(group, s.collector)
        }
    }

    /// Builds and publishes the refresh `group` stands for, then ends it.
    private func fly(_ group: DispatchGroup, _ collector: HistCollector) -> MetricsSnapshot {
        let (snapshot, families, generation) = build(collector)
        state.withLock { $0.beforePublishing }?(snapshot)
        let served = state.withLock { s -> MetricsSnapshot in
            // A rebuild after an admin action since this refresh looked at the sets is newer.
            if s.generation == generation || s.snapshot == nil {
                s.snapshot = snapshot
                s.histFamilies = families
            }
            s.flight = nil
            return s.snapshot!
        }
        group.leave()
        HeapTrim.afterRefresh()
        return served
    }

    private func build(_ collector: HistCollector) -> (MetricsSnapshot, [MetricFamily], generation: Int) {
        let start = monotonicNanoseconds()
        controller.repairOwned()
        let collection = collector.collectReporting()
        let (families, failures, ownRead) = (collection.families, collection.failures, collection.ownRead)
        breaker.observe(collection.ownHits, at: monotonicNanoseconds())
        collector.forgetCarried(keeping: controller.ownedSets)
        clear(collection.fullTables, collector)
        let generation = state.withLock { $0.generation }
        let statuses = controller.statuses()
        let duration = Double(monotonicNanoseconds() &- start) / 1e9
        metrics.recordRefresh(at: wallClockSeconds(), duration: duration, failures: failures, ownRead: ownRead)
        logger.debug("refreshed", metadata: ["duration_seconds": "\(duration)", "failures": "\(failures.count)"])
        return (assemble(families, statuses: statuses, collector: collector), families, generation)
    }

    /// The snapshot of `hist` families and the exporter's own, without the series of sets now
    /// absent from the kernel (removed while their tables were read, or since).
    private func assemble(_ hist: [MetricFamily], statuses: [TriggerSetStatus], collector: HistCollector) -> MetricsSnapshot {
        let config = collector.config
        let absent = Set(statuses.filter { $0.state == .absent }.map(\.name))
        var shown = hist
        if !absent.isEmpty {
            let mapped = Set(config.triggerSets.filter { absent.contains($0.name) }
                .flatMap { $0.triggers.compactMap(\.metric) }
                .flatMap { [$0.name] + $0.values.map(\.familyName) })
            shown = hist.filter { !mapped.contains($0.name) }.map { family in
                var family = family
                family.metrics.removeAll { $0.labels.contains { $0.name == "trigger_set" && absent.contains($0.value) } }
                family.blocks.removeAll { $0.prefix.contains { $0.name == "trigger_set" && absent.contains($0.value) } }
                return family
            }
        }
        let unsupported = Set(config.triggerSets.filter { controller.unsupportedReason(for: $0, features: collector.features) != nil }.map(\.name))
        let own = metrics.families(statuses: statuses, config: config, unsupported: unsupported, deadlines: controller.deadlines.all)
        return MetricsSnapshot(families: (shown + own).sorted { $0.name < $1.name })
    }
}
