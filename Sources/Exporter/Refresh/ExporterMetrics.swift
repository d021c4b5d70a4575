import Exposition
import Locking
import Platform
import TraceFS

/// The exporter's own counters and refresh facts, kept between refreshes.
public final class ExporterMetrics: Sendable {
    struct State {
        var adminRequests: [AdminKey: Double] = [:]
        var refreshErrors: [HistCollector.TableFile: Double] = [:]
        var lastRefreshSeconds: Double?
        var lastRefreshDuration: Double = 0
        var refreshes: Double = 0
        var scrapeDeadlineMisses: Double = 0
        var rotations: [String: Double] = [:]
        var rotationFailures: [String: Double] = [:]
        var rotationSeconds: [String: Double] = [:]
        var expiries: [String: Double] = [:]
        var breakerTrips: [String: Double] = [:]
        var eventRates: [String: Double] = [:]
        var expiryFailures: [String: Double] = [:]
        var bookkeepingDrops: [BookkeepingKey: Double] = [:]
        var tableClears: [TableClearKey: Double] = [:]
        var clearedCgroupEntries: [BookkeepingKey: Double] = [:]
        var lastReloadSuccessful = true
        /// When the configuration in use was loaded: the start, then each successful reload.
        var lastReloadSuccessSeconds: Double = 0
    }

    struct BookkeepingKey: Hashable {
        var set: String
        var event: EventName
    }

    /// One counter per set and event, labelled `set`, `system`, `event`, in that order.
    static func counters(bySetAndEvent values: [BookkeepingKey: Double]) -> [Metric] {
        values.sorted { ($0.key.set, $0.key.event) < ($1.key.set, $1.key.event) }.map {
            Metric(labels: [Label("set", $0.key.set), Label("system", $0.key.event.system), Label("event", $0.key.event.event)],
                   value: .counter($0.value))
        }
    }

    struct AdminKey: Hashable {
        var action: String
        var code: Int
    }

    let state = Locked(State())
    let startTimeSeconds: Double

    public init() {
        startTimeSeconds = wallClockSeconds()
        state.withLock { $0.lastReloadSuccessSeconds = startTimeSeconds }
    }

    /// A SIGHUP reload, taken or rejected (the running configuration then stays).
    public func recordReload(successful: Bool) {
        state.withLock { s in
            s.lastReloadSuccessful = successful
            if successful { s.lastReloadSuccessSeconds = wallClockSeconds() }
        }
    }

    public func countAdminRequest(action: String, code: Int) {
        state.withLock { $0.adminRequests[AdminKey(action: action, code: code), default: 0] += 1 }
    }

    /// `ownRead`: the files of our triggers read in this refresh. Their error counters start
    /// at 0, so `increase()` sees the first error (a series born at 1 shows no increase).
    func recordRefresh(at time: Double, duration: Double, failures: [HistCollector.TableFile], ownRead: [HistCollector.TableFile] = []) {
        state.withLock { s in
            s.lastRefreshSeconds = time
            s.lastRefreshDuration = duration
            s.refreshes += 1
            for f in ownRead where s.refreshErrors[f] == nil { s.refreshErrors[f] = 0 }
            for f in failures { s.refreshErrors[f, default: 0] += 1 }
        }
    }

    /// A scrape served the snapshot before the refresh it started, which was not done by the
    /// scrape's deadline.
    func countScrapeDeadlineMiss() {
        state.withLock { $0.scrapeDeadlineMisses += 1 }
    }

    func countRotation(set: String, seconds: Double) {
        state.withLock { s in
            s.rotations[set, default: 0] += 1
            s.rotationSeconds[set] = seconds
        }
    }

    func countBreakerTrip(set: String) {
        state.withLock { $0.breakerTrips[set, default: 0] += 1 }
    }

    /// The highest events-a-second among each set's tables at the last refresh.
    func recordEventRates(_ rates: [String: Double]) {
        state.withLock { $0.eventRates = rates }
    }

    func countExpiry(set: String) {
        state.withLock { $0.expiries[set, default: 0] += 1 }
    }

    func countExpiryFailure(set: String) {
        state.withLock { $0.expiryFailures[set, default: 0] += 1 }
    }

    func countRotationFailure(set: String) {
        state.withLock { $0.rotationFailures[set, default: 0] += 1 }
    }

    /// Events a bookkeeping table dropped, added up across rotations (each of which sets the
    /// kernel's own `Dropped` back to 0).
    func countBookkeepingDrops(set: String, event: EventName, count: Double) {
        state.withLock { $0.bookkeepingDrops[BookkeepingKey(set: set, event: event), default: 0] += count }
    }

    public var lastRefreshSeconds: Double? { state.withLock { $0.lastRefreshSeconds } }

    /// The families describing the exporter itself, for the snapshot being built.
    /// `unsupported`: the sets this kernel (or tracefs) cannot run.
    /// `deadlines`: when each time-boxed set is removed, in seconds since the epoch.
    func families(
        statuses: [TriggerSetStatus], config: ExporterConfig, unsupported: Set<String> = [], deadlines: [String: Double] = [:]
    ) -> [MetricFamily] {
        let s = state.withLock { $0 }
        let refreshInterval = config.refreshInterval.value
        var out: [MetricFamily] = []
        out.append(MetricFamily(
            name: "ftrace_exporter_build", help: "ftrace_exporter's version, as --version prints it; the value is always 1.", type: .info,
            metrics: [Metric(labels: [
                Label("version", ExporterVersion.version), Label("revision", ExporterVersion.revision),
                Label("branch", ExporterVersion.branch), Label("swiftversion", ExporterVersion.swiftVersion),
            ], value: .info)]))
        let cached = refreshInterval > 0
            ? "Values are cached: every metric here comes from the snapshot of the last refresh, taken every \(formatDuration(refreshInterval))."
            : "Values are read from the kernel when scraped (refresh on scrape)."
        if let last = s.lastRefreshSeconds {
            out.append(MetricFamily(
                name: "ftrace_exporter_last_refresh_timestamp_seconds",
                help: "When the metrics served were read from the kernel, in seconds since the epoch. " + cached,
                type: .gauge, metrics: [Metric(labels: [], value: .gauge(last))]))
        }
        out.append(MetricFamily(
            name: "ftrace_exporter_refresh_duration_seconds", help: "Time the previous refresh took to read and encode every table.",
            type: .gauge, metrics: [Metric(labels: [], value: .gauge(s.lastRefreshDuration))]))
        out.append(MetricFamily(
            name: "ftrace_exporter_refreshes", help: "Refreshes of the metrics snapshot.", type: .counter,
            metrics: [Metric(labels: [], value: .counter(s.refreshes))]))
        out.append(MetricFamily(
            name: "ftrace_exporter_scrape_deadline_misses",
            help: "Scrapes served the snapshot before the refresh they started, which was not done by the scrape's deadline (X-Prometheus-Scrape-Timeout-Seconds less --web.scrape-timeout-offset). Only when refreshing on scrape.",
            type: .counter, metrics: [Metric(labels: [], value: .counter(s.scrapeDeadlineMisses))]))
        out.append(MetricFamily(
            name: "ftrace_exporter_refresh_errors", help: "Hist files that could not be read or parsed, by refresh.",
            type: .counter,
            metrics: s.refreshErrors.sorted { ($0.key.instance.label, $0.key.event) < ($1.key.instance.label, $1.key.event) }.map {
                Metric(labels: [Label("tracefs_instance", $0.key.instance.label), Label("system", $0.key.event.system),
                                Label("event", $0.key.event.event)], value: .counter($0.value))
            }))
        out.append(MetricFamily(
            name: "ftrace_exporter_admin_requests", help: "Admin API requests, by action and HTTP status code.", type: .counter,
            metrics: s.adminRequests.sorted { ($0.key.action, $0.key.code) < ($1.key.action, $1.key.code) }.map {
                Metric(labels: [Label("action", $0.key.action), Label("code", String($0.key.code))], value: .counter($0.value))
            }))
        var stateMetrics: [Metric] = []
        for status in statuses {
            for state in TriggerSetStatus.State.allCases {
                stateMetrics.append(Metric(
                    labels: [Label("set", status.name), Label("state", state.rawValue)], value: .gauge(status.state == state ? 1 : 0)))
            }
        }
        out.append(MetricFamily(
            name: "ftrace_exporter_trigger_set_state",
            help: "State of each allow-listed trigger set in the kernel: 1 for the current state (absent, installed, partial, drifted).",
            type: .gauge, metrics: stateMetrics))
        out.append(MetricFamily(
            name: "ftrace_exporter_trigger_set_install_on_start",
            help: "1 for each allow-listed trigger set the configuration installs at start (install_on_start), else 0: the sets expected installed.",
            type: .gauge,
            metrics: config.triggerSets.map { Metric(labels: [Label("set", $0.name)], value: .gauge($0.installOnStart ? 1 : 0)) }))
        out.append(MetricFamily(
            name: "ftrace_exporter_trigger_set_supported",
            help: "1 for each allow-listed trigger set this kernel can run, else 0: an event or kernel option it needs is missing, or tracefs is not writable (the reason is in /api/v1/trigger-sets/{name}).",
            type: .gauge,
            metrics: config.triggerSets.map { Metric(labels: [Label("set", $0.name)], value: .gauge(unsupported.contains($0.name) ? 0 : 1)) }))
        out.append(MetricFamily(
            name: "ftrace_exporter_config_last_reload_successful",
            help: "Whether the last configuration reload (SIGHUP) was taken: 1, or 0 when it was rejected and the previous configuration runs on.",
            type: .gauge, metrics: [Metric(labels: [], value: .gauge(s.lastReloadSuccessful ? 1 : 0))]))
        out.append(MetricFamily(
            name: "ftrace_exporter_config_last_reload_success_timestamp_seconds",
            help: "When the configuration in use was loaded (at start or by the last reload taken), in seconds since the epoch.",
            type: .gauge, metrics: [Metric(labels: [], value: .gauge(s.lastReloadSuccessSeconds))]))
        return out + expiryFamilies(s, config, deadlines) + breakerFamilies(s, config) + rotationFamilies(s, config)
            + tableClearFamilies(s, config)
            + ProcessMetrics.families()
    }

    /// The expiry counters have a series for every set that can be time-boxed (a max_duration,
    /// or an install with a duration seen), from the start at 0.
    private func expiryFamilies(_ s: State, _ config: ExporterConfig, _ deadlines: [String: Double]) -> [MetricFamily] {
        let names = Set(config.triggerSets.filter { $0.maxDuration != nil }.map(\.name)).union(deadlines.keys)
            .union(s.expiries.keys).union(s.expiryFailures.keys).sorted()
        return [
            MetricFamily(
                name: "ftrace_exporter_trigger_set_expiry_timestamp_seconds",
                help: "When a time-boxed trigger set is removed (an install with a duration, or the set's max_duration), in seconds since the epoch; no series for a set without a deadline.",
                type: .gauge,
                metrics: deadlines.sorted { $0.key < $1.key }.map { Metric(labels: [Label("set", $0.key)], value: .gauge($0.value)) }),
            MetricFamily(
                name: "ftrace_exporter_trigger_set_expirations",
                help: "Time-boxed trigger sets removed at their deadline.",
                type: .counter, metrics: names.map { Metric(labels: [Label("set", $0)], value: .counter(s.expiries[$0] ?? 0)) }),
            MetricFamily(
                name: "ftrace_exporter_trigger_set_expiration_failures",
                help: "Removals at a deadline that failed; the log says why, and the removal is tried again every 10 s.",
                type: .counter, metrics: names.map { Metric(labels: [Label("set", $0)], value: .counter(s.expiryFailures[$0] ?? 0)) }),
        ]
    }

    private func breakerFamilies(_ s: State, _ config: ExporterConfig) -> [MetricFamily] {
        let names = Set(config.triggerSets.filter { $0.breaker != nil }.map(\.name)).union(s.breakerTrips.keys).sorted()
        return [
            MetricFamily(
                name: "ftrace_exporter_trigger_set_events_per_second",
                help: "Events a second counted by the busiest table of each installed set, from its Hits between the last two refreshes: what the overhead breaker compares with max_events_per_second.",
                type: .gauge,
                metrics: s.eventRates.sorted { $0.key < $1.key }.map { Metric(labels: [Label("set", $0.key)], value: .gauge($0.value)) }),
            MetricFamily(
                name: "ftrace_exporter_trigger_set_breaker_trips",
                help: "Times a set's overhead breaker tripped (a table over max_events_per_second for the breaker's for) and paused or removed the set.",
                type: .counter, metrics: names.map { Metric(labels: [Label("set", $0)], value: .counter(s.breakerTrips[$0] ?? 0)) }),
        ]
    }

    /// Every set with bookkeeping tables has its series from the start, at 0, so that
    /// `increase()` sees the first rotation or drop.
    private func rotationFamilies(_ s: State, _ config: ExporterConfig) -> [MetricFamily] {
        let rotating = config.triggerSets.filter { !$0.bookkeepingTriggers.isEmpty }
        let names = Set(rotating.map(\.name)).union(s.rotations.keys).union(s.rotationFailures.keys).sorted()
        var drops = s.bookkeepingDrops
        for set in rotating {
            for trigger in set.bookkeepingTriggers where drops[BookkeepingKey(set: set.name, event: trigger.event)] == nil {
                drops[BookkeepingKey(set: set.name, event: trigger.event)] = 0
            }
        }
        return [
            MetricFamily(
                name: "ftrace_exporter_trigger_set_rotations",
                help: "Rotations of a trigger set's bookkeeping tables (its pairing triggers removed and installed again at the high-water mark).",
                type: .counter, metrics: names.map { Metric(labels: [Label("set", $0)], value: .counter(s.rotations[$0] ?? 0)) }),
            MetricFamily(
                name: "ftrace_exporter_trigger_set_rotation_failures",
                help: "Rotations that failed; the log says why, and the set reads as partial when its pairing triggers could not be put back.",
                type: .counter, metrics: names.map { Metric(labels: [Label("set", $0)], value: .counter(s.rotationFailures[$0] ?? 0)) }),
            MetricFamily(
                name: "ftrace_exporter_trigger_set_rotation_duration_seconds",
                help: "Time the last rotation of the set took, from the first removal to the last confirmed re-install; pairs started before or ending within it are not measured.",
                type: .gauge, metrics: s.rotationSeconds.sorted { $0.key < $1.key }.map { Metric(labels: [Label("set", $0.key)], value: .gauge($0.value)) }),
            MetricFamily(
                name: "ftrace_exporter_bookkeeping_dropped",
                help: "Events a bookkeeping table of a set dropped because it was full, added up across rotations: new tasks or requests the set did not measure.",
                type: .counter, metrics: Self.counters(bySetAndEvent: drops)),
        ]
    }
}
