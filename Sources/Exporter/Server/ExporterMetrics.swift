#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Exposition
import Locking
import TraceFS

/// The exporter's own counters and refresh facts, kept between refreshes.
public final class ExporterMetrics: Sendable {
    struct State {
        var adminRequests: [AdminKey: Double] = [:]
        var refreshErrors: [HistCollector.TableFile: Double] = [:]
        var lastRefreshSeconds: Double?
        var lastRefreshDuration: Double = 0
        var refreshes: Double = 0
    }

    struct AdminKey: Hashable {
        var action: String
        var code: Int
    }

    private let state = Locked(State())
    let startTimeSeconds: Double

    public init() {
        startTimeSeconds = wallClockSeconds()
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

    public var lastRefreshSeconds: Double? { state.withLock { $0.lastRefreshSeconds } }

    /// The families describing the exporter itself, for the snapshot being built.
    func families(statuses: [TriggerSetStatus], refreshInterval: Double) -> [MetricFamily] {
        let s = state.withLock { $0 }
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
        return out + ProcessMetrics.families()
    }
}

func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
