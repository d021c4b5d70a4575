import HistFormat
import TraceFS

/// The exporter's whole configuration, validated: every value here is usable as is.
public struct ExporterConfig: Sendable, Equatable {
    /// Empty: find tracefs at the standard places or in /proc/mounts.
    public var tracefsPath: String
    /// The private instance our triggers live in; empty means the top level.
    public var instance: String
    public var refreshInterval: Seconds
    public var discovery: DiscoveryConfig
    public var lifecycle: LifecycleConfig
    public var rotation: RotationConfig = RotationConfig()
    /// The cgroup v2 mount that `decode: cgroup` labels name cgroups under.
    public var cgroupMount = ExporterConfig.defaultCgroupMount
    public static let defaultCgroupMount = "/sys/fs/cgroup"
    /// The allow-list: the only triggers the exporter will ever write.
    public var triggerSets: [TriggerSet]

    public var traceInstance: TraceInstance { TraceInstance(instance) }

    public func triggerSet(named name: String) -> TriggerSet? { triggerSets.first { $0.name == name } }
}

/// The kernel's bounds on a hist table's `size=`: it rounds the number up to a power of two and
/// refuses a result outside 2^7...2^17 (TRACING_MAP_BITS_MIN/MAX) with EINVAL.
public enum TableSize {
    public static let accepted = 65...131_072
    /// The size of a table whose trigger does not say.
    public static let kernelDefault = 2048
}

/// A duration in seconds, parsed from Prometheus-style text (`5s`, `250ms`, `1m30s`).
public struct Seconds: Sendable, Equatable, CustomStringConvertible {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatDuration(value) }
}

/// An overhead budget: when any table of the set counts more than `maxEventsPerSecond` (from
/// its `Hits` between two refreshes) for `sustained` seconds, the set is paused or removed.
public struct BreakerConfig: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        /// Pauses the counting tables; the bookkeeping triggers (which the kernel does not
        /// let pause) go on running.
        case pause
        case remove
    }

    public static let defaultSustained = 30.0
    public static let longestSustained = 86_400.0
    public static let largestBudget = 1e12

    public var maxEventsPerSecond: Double
    public var sustained: Double = BreakerConfig.defaultSustained
    public var action: Action = .remove

    public init(maxEventsPerSecond: Double, sustained: Double = BreakerConfig.defaultSustained, action: Action = .remove) {
        self.maxEventsPerSecond = maxEventsPerSecond
        self.sustained = sustained
        self.action = action
    }
}

/// The longest duration a time-boxed install or a set's `max_duration` may have.
public enum InstallDuration {
    public static let longest: Double = 30 * 86_400
}

public struct LifecycleConfig: Sendable, Equatable {
    public enum OnStart: String, Sendable { case adopt, clean }
    /// What to do with our triggers found in the kernel at start (a restart after a
    /// crash): adopt them as installed, or remove them before installing afresh.
    public var onStart: OnStart
    /// On SIGTERM/SIGINT, remove every set the exporter installed or adopted.
    public var removeOnExit: Bool
    /// At every refresh, put back the missing pieces of sets this process owns (removed or
    /// edited from outside). Off by default: a change made by hand is reported, not undone.
    public var repair: Bool = false
}

/// When the bookkeeping tables of our sets are emptied. Those tables pair two events through a
/// start timestamp keyed by something that does not repeat for long (a pid, a device and
/// sector); the kernel never evicts an entry, so a table that has seen `size=` distinct keys
/// drops every new one and the set stops measuring new work.
public struct RotationConfig: Sendable, Equatable {
    public static let defaultHighWaterMark = 0.5
    public static let defaultCheckInterval = 1.0
    /// Rotate the bookkeeping tables of the sets this process owns when they fill.
    public var enabled = true
    /// The fraction of a bookkeeping table's size at which its set is rotated.
    public var highWaterMark = RotationConfig.defaultHighWaterMark
    /// The longest time between two looks at the bookkeeping tables' fill; a measured fill
    /// rate that would reach the mark sooner brings the next look forward.
    public var checkInterval = RotationConfig.defaultCheckInterval

    public init() {}
}

public struct DiscoveryConfig: Sendable, Equatable {
    /// Export hist tables that no configured trigger owns.
    public var enabled: Bool
    /// At most this many series from all discovered tables together.
    public var seriesLimit: Int
    /// Keep the pid of `.execname` keys as a `pid` label (unbounded; off by default).
    public var pidLabels: Bool
    /// Keep stack keys as a folded-stack label, a series per distinct stack (unbounded; off by
    /// default: entries are summed over their stacks, which the stacks endpoint shows instead).
    public var stackLabels: Bool = false
    /// How often every event is checked for new hist tables; known tables are read every refresh.
    public var rescanInterval: Double
}

/// A named group of probe events, synthetic events and triggers installed and removed together.
public struct TriggerSet: Sendable, Equatable {
    public var name: String
    public var description: String
    public var installOnStart: Bool
    /// Definitions written to `dynamic_events` (or `kprobe_events`) before anything else,
    /// e.g. `p:ftrace_exporter_fsync vfs_fsync_range`.
    public var probeEvents: [ProbeEventDefinition] = []
    /// Definitions written to `synthetic_events`, e.g. `fte_wakeup_lat u64 lat`.
    public var syntheticEvents: [SyntheticEventDefinition]
    /// In install order; removal runs in reverse.
    public var triggers: [TriggerDefinition]
    /// The longest an install lasts: an install without a duration gets this one, and a longer
    /// one is refused. nil: installs last until removed unless they give a duration.
    public var maxDuration: Double? = nil
    /// The set's overhead budget: what happens when its tables count more events a second
    /// than it allows.
    public var breaker: BreakerConfig? = nil

    /// The triggers that only carry state from one event to the other (a start timestamp and
    /// the match that reads it), as opposed to the tables that are exported. They gain an entry
    /// for every new key and are what rotation empties.
    public var bookkeepingTriggers: [TriggerDefinition] {
        triggers.filter { $0.isBookkeeping }
    }
}

extension TriggerDefinition {
    /// A trigger without a metric that defines variables or runs an action.
    public var isBookkeeping: Bool { metric == nil && (!info.variables.isEmpty || !info.actions.isEmpty) }

    /// An exported table keyed by cgroup: it gains entries for every new cgroup, which outlive
    /// the cgroup, so the exporter clears it at the high-water mark and carries its counts on.
    /// Only a trigger without variables takes the kernel's `:clear`.
    public var clearsWhenFull: Bool {
        info.variables.isEmpty && (metric?.labels.contains { $0.decoder == .cgroup } ?? false)
    }
}

/// A kprobe, kretprobe, fprobe or tracepoint probe the set defines.
public struct ProbeEventDefinition: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// `p:`, on a function's entry (or an offset into it).
        case kprobe
        /// `r:`, on a function's return.
        case kretprobe
        /// `f:`, on a function's entry, or its return with `%return` (6.5+, CONFIG_FPROBE_EVENTS).
        case fprobe
        /// `t:`, on a tracepoint, with BTF arguments (6.5+, CONFIG_FPROBE_EVENTS; fields through pointers, `next->pid`, 6.6+).
        case tracepointProbe

        /// The letter that starts a definition and its read-back.
        public var letter: Character {
            switch self {
            case .kprobe: return "p"
            case .kretprobe: return "r"
            case .fprobe: return "f"
            case .tracepointProbe: return "t"
            }
        }

        /// The group the kernel gives an event whose definition names none.
        public var defaultGroup: String {
            switch self {
            case .kprobe, .kretprobe: return "kprobes"
            case .fprobe: return "fprobes"
            case .tracepointProbe: return "tracepoints"
            }
        }
    }

    public var kind: Kind
    /// The event it makes: `events/<group>/<name>`.
    public var event: EventName
    /// The exact text written.
    public var text: String

    /// What removes it: `-:<group>/<name>`.
    public var removal: String { "-:\(event.system)/\(event.event)" }
}

public struct SyntheticEventDefinition: Sendable, Equatable {
    public var name: String
    /// The exact text written.
    public var text: String

    /// Whether a field is a stack (`long[]`), which kernels before 6.3 refuse.
    public var carriesStack: Bool {
        guard case .success(let definition) = SyntheticEventSyntax.parse(text) else { return false }
        return definition.fields.contains { $0.type.hasSuffix("long[]") }
    }
}

public struct TriggerDefinition: Sendable, Equatable {
    public var event: EventName
    /// The exact command written, and removed with `!` + this text.
    public var command: String
    public var info: TriggerInfo
    public var metric: MetricMapping?
}

/// How one trigger's table becomes Prometheus metrics.
public struct MetricMapping: Sendable, Equatable {
    public enum Kind: String, Sendable { case histogram, counter, gauge }

    public var name: String
    public var help: String
    public var kind: Kind
    /// Keys that become labels; other keys (but the bucket key) are summed over.
    public var labels: [LabelMapping]
    public var seriesLimit: Int

    // Histograms.
    public var bucketKey: String?
    public var scale: Scale
    /// The value column holding the sum of the bucket key's raw field.
    public var sumValue: String?
    /// Upper bounds in base units; nil for the default of `.log2` keys.
    public var buckets: [Double]?

    // Counters: one family per listed column.
    public var values: [ValueMapping]

    // Gauges: `max` or `changed` (the per-entry handler line), or a value column.
    public var gaugeValue: String?
}

public struct LabelMapping: Sendable, Equatable {
    /// The key's field name as in the trigger (`cpu`, `common_pid`, `call_site`).
    public var key: String
    /// The label name.
    public var name: String
    /// For `.execname` keys: also export the pid under this label name.
    public var pidLabel: String?
    /// How a numeric key becomes a label value, when the number alone says little.
    public var decoder: LabelDecoder?

    /// The labels `decode: cgroup` adds beside the cgroup's path, named as kube-state-metrics'
    /// `uid` is joined to and as runtimes name containers.
    public static let podUIDLabel = "pod_uid"
    public static let containerIDLabel = "container_id"
}

public enum LabelDecoder: String, Sendable, Equatable, CaseIterable {
    /// A kernel `dev_t` as `MAJOR:MINOR`.
    case device
    /// `sched_switch`'s `prev_state` as the letters `ps` shows (`R`, `S`, `D`, ...; `R+` preempted).
    case taskState = "task_state"
    /// A system call's negative return value as the error's name (`-2` is `ENOENT`); any
    /// other value as its signed decimal.
    case errno
    /// A cgroup v2 id as the cgroup's path under the mount, with the `pod_uid` and
    /// `container_id` the path names as two more labels (empty where it names none).
    case cgroup
}

public struct ValueMapping: Sendable, Equatable {
    /// The value column (`hitcount`, `bytes_req`).
    public var column: String
    /// The family name for this column: `<name>_total` for hitcount, else `<name>_<suffix>_total`.
    public var familyName: String
    public var help: String
    public var scale: Scale
}

/// A unit conversion kept exact where it can be: dividing by 1e6 gives the double
/// nearest to the decimal, multiplying by 1e-6 often does not (`1024 * 1e-6`).
public struct Scale: Sendable, Equatable, CustomStringConvertible {
    public var factor: Double
    let divisor: Double?

    public init(_ factor: Double) {
        self.factor = factor
        let inverse = (1 / factor).rounded()
        divisor = factor < 1 && inverse >= 2 && abs(inverse * factor - 1) < 1e-12 ? inverse : nil
    }

    public static let one = Scale(1)

    public func apply(_ raw: Double) -> Double {
        if let divisor { return raw / divisor }
        return raw * factor
    }

    public var description: String { formatScale(factor) }
}

func formatScale(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return String(v)
}

func formatDuration(_ seconds: Double) -> String {
    if seconds == 0 { return "0s" }
    if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
    guard seconds == seconds.rounded(), seconds < 1e12 else { return "\(seconds)s" }
    // As Prometheus writes durations: the largest units first, none that is zero (1h30m).
    var rest = Int64(seconds)
    var text = ""
    for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
        text += "\(rest / size)\(unit)"
        rest %= size
    }
    return text
}

extension ExporterConfig {
    /// The configuration with the command line's `--refresh.interval` applied.
    public func overriding(refreshInterval: Double?) -> ExporterConfig {
        var copy = self
        if let refreshInterval { copy.refreshInterval = Seconds(refreshInterval) }
        return copy
    }
}
