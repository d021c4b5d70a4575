import Exporter
import Platform
import TraceFS

/// JSON renderings of what the admin API reports.
enum StatusJSON {
    static func features(_ f: TraceFeatures) -> JSON {
        .object([
            ("hist_triggers", .bool(f.histTriggers)), ("synthetic_events", .bool(f.syntheticEvents)),
            ("error_log", .bool(f.errorLog)), ("linear_buckets", .bool(f.linearBuckets)),
            ("common_stacktrace", .bool(f.commonStacktrace)), ("percent_graph", .bool(f.percentAndGraph)),
            ("nohitcount", .bool(f.noHitcount)), ("kprobe_events", .bool(f.kprobeEvents)),
            ("fprobe_events", .bool(f.fprobeEvents)), ("tracepoint_probes", .bool(f.tracepointProbes)),
        ])
    }

    static func missingFeatures(_ f: TraceFeatures) -> JSON {
        var missing: [JSON] = []
        if !f.histTriggers { missing.append(.string("hist triggers (CONFIG_HIST_TRIGGERS)")) }
        if !f.syntheticEvents { missing.append(.string("synthetic events (CONFIG_SYNTH_EVENTS)")) }
        if !f.errorLog { missing.append(.string("error_log (kernel 5.2+)")) }
        return .array(missing)
    }

    /// `deadline`: when a time-boxed install ends, in seconds since the epoch.
    static func set(
        _ status: TriggerSetStatus, _ set: TriggerSet?, unsupportedReason: String? = nil, deadline: Double? = nil,
        breaker: OverheadBreaker.SetState? = nil
    ) -> JSON {
        .object([
            ("name", .string(status.name)),
            ("description", .string(set?.description ?? "")),
            ("install_on_start", .bool(set?.installOnStart ?? false)),
            ("max_duration_seconds", set?.maxDuration.map(JSON.number) ?? .null),
            ("state", .string(status.state.rawValue)),
            ("expires_at", deadline.map { .string(utcTimestamp(unixSeconds: $0)) } ?? .null),
            ("expires_at_timestamp_seconds", deadline.map(JSON.number) ?? .null),
            ("breaker", set?.breaker.map { Self.breaker($0, breaker) } ?? .null),
            ("supported", .bool(unsupportedReason == nil)),
            ("unsupported_reason", unsupportedReason.map(JSON.string) ?? .null),
            ("paused", .bool(status.triggers.contains { $0.present && $0.paused })),
            ("probe_events", .array(status.probeEvents.map {
                .object([("event", .string($0.event.description)), ("kind", .string($0.kind)), ("present", .bool($0.present))])
            })),
            ("synthetic_events", .array(status.syntheticEvents.map {
                .object([("name", .string($0.name)), ("present", .bool($0.present))])
            })),
            ("triggers", .array(status.triggers.map { t in
                .object([
                    ("event", .string(t.event.description)), ("command", .string(t.command)),
                    ("present", .bool(t.present)), ("paused", .bool(t.paused)),
                    ("read_back", t.readBack.map(JSON.string) ?? .null),
                ])
            })),
            ("foreign_triggers", .array(status.foreignTriggers.map(JSON.string))),
            ("metrics", .array((set?.triggers ?? []).compactMap { $0.metric.map { .string($0.name) } })),
        ])
    }

    /// A set's overhead budget and where it stands.
    static func breaker(_ config: BreakerConfig, _ state: OverheadBreaker.SetState?) -> JSON {
        .object([
            ("max_events_per_second", .number(config.maxEventsPerSecond)),
            ("for_seconds", .number(config.sustained)),
            ("action", .string(config.action.rawValue)),
            ("events_per_second", state?.eventsPerSecond.map(JSON.number) ?? .null),
            ("over_budget_since", state?.overBudgetSince.map { .string(utcTimestamp(unixSeconds: $0)) } ?? .null),
            ("last_trip", state?.lastTrip.map { trip in
                .object([
                    ("at", .string(utcTimestamp(unixSeconds: trip.at))), ("events_per_second", .number(trip.eventsPerSecond.rounded())),
                    ("action", .string(trip.action.rawValue)), ("error", trip.failure.map(JSON.string) ?? .null),
                ])
            } ?? .null),
        ])
    }

    static func error(_ error: ControlError) -> JSON {
        var pairs: [(String, JSON)] = [("error", .string(error.description))]
        if case .kernelRejected(let write, let errno, let log) = error.kind {
            pairs.append(("write", .string(write.description)))
            pairs.append(("errno", .string(errnoName(errno))))
            pairs.append(("error_log", log.map(JSON.string) ?? .null))
        }
        if !error.rollback.isEmpty {
            pairs.append(("rolled_back", .array(error.rollback.map {
                .object([("write", .string($0.write.description)), ("result", .string($0.result))])
            })))
        }
        return .object(pairs)
    }
}
