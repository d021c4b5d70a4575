#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HistFormat
import Platform

/// Where a trigger lives: the top level of tracefs or one named instance.
public enum TraceInstance: Hashable, Sendable, CustomStringConvertible {
    case topLevel
    case named(String)

    /// The `tracefs_instance` label value: empty for the top level.
    public var label: String {
        switch self {
        case .topLevel: return ""
        case .named(let name): return name
        }
    }

    public init(_ name: String) { self = name.isEmpty ? .topLevel : .named(name) }

    /// The directory, relative to the tracefs root, that holds this instance's files.
    public var directory: String {
        switch self {
        case .topLevel: return ""
        case .named(let name): return "instances/\(name)/"
        }
    }

    public var description: String {
        switch self {
        case .topLevel: return "top level"
        case .named(let name): return "instance \(name)"
        }
    }
}

/// An event, named as `events/<system>/<event>`.
public struct EventName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var system: String
    public var event: String

    public init(system: String, event: String) {
        self.system = system
        self.event = event
    }

    /// Parses `sys/event` (also `sys:event`, as trace-cmd writes it).
    public init?(_ text: String) {
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "/" || $0 == ":" })
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
              parts.allSatisfy({ !$0.contains(".") && !$0.contains(" ") })
        else { return nil }
        self.init(system: String(parts[0]), event: String(parts[1]))
    }

    public var description: String { "\(system)/\(event)" }

    public static func < (a: EventName, b: EventName) -> Bool { (a.system, a.event) < (b.system, b.event) }
}

/// What the running kernel's tracing supports, probed rather than guessed from a version.
public struct TraceFeatures: Equatable, Sendable {
    public var histTriggers: Bool
    public var syntheticEvents: Bool
    public var errorLog: Bool
    public var linearBuckets: Bool
    public var commonStacktrace: Bool
    public var percentAndGraph: Bool
    public var noHitcount: Bool
    /// kprobe and kretprobe events (`p:`, `r:`; CONFIG_KPROBE_EVENTS).
    public var kprobeEvents: Bool = false
    /// fprobe events (`f:`; CONFIG_FPROBE_EVENTS, 6.5+).
    public var fprobeEvents: Bool = false
    /// Tracepoint probes with BTF arguments (`t:`; CONFIG_FPROBE_EVENTS, 6.5+).
    public var tracepointProbes: Bool = false
}

/// Read access to one tracefs mount (or a fixture tree laid out the same way).
public protocol TraceFileReader: Sendable {
    /// The root, for messages and labels.
    var root: String { get }
    /// The whole file, read until EOF.
    func read(_ relativePath: String) throws(TraceFSError) -> [UInt8]
    /// Directory entries, sorted; throws ENOENT when the directory is missing.
    func list(_ relativePath: String) throws(TraceFSError) -> [String]
    func exists(_ relativePath: String) -> Bool
}

/// The real tracefs (or a directory tree shaped like one).
public struct TraceFS: TraceFileReader {
    public static let standardLocations = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    public let root: String
    /// Why this tracefs is only read although it is the kernel's (it could not be written or
    /// locked at start), or nil.
    public var readOnlyReason: String?

    public init(root: String) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    /// Finds tracefs: the explicit path when given, else the standard places, else
    /// any `tracefs` line in `/proc/mounts`.
    public static func locate(
        explicitPath: String?, candidates: [String] = standardLocations, mounts: String = "/proc/mounts"
    ) throws(TraceFSError) -> TraceFS {
        if let explicitPath, !explicitPath.isEmpty {
            let fs = TraceFS(root: explicitPath)
            switch SystemCalls.kind(explicitPath) {
            case .directory: break
            case nil: throw .system(SystemCalls.accessError(explicitPath), explicitPath)
            case .file, .other: throw TraceFSError(.notADirectory, path: explicitPath)
            }
            if fs.exists("events") { return fs }
            let errno = SystemCalls.accessError(fs.path("events"))
            if errno == EACCES || errno == EPERM { throw .system(errno, explicitPath) }
            throw TraceFSError(.notTraceFS(filesystem: Filesystem.name(of: explicitPath)), path: explicitPath)
        }
        for candidate in candidates {
            if SystemCalls.kind(candidate + "/events") == .directory { return TraceFS(root: candidate) }
            // Mounted but closed to us (tracefs is root-only, mode 0700): say so, rather than
            // "not found", which would send the operator looking for a mount.
            let errno = SystemCalls.accessError(candidate + "/events")
            if errno == EACCES || errno == EPERM { throw .system(errno, candidate) }
        }
        if let table = try? SystemCalls.readWholeFile(mounts, limit: 16 << 20) {
            for line in String(decoding: table, as: UTF8.self).split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count >= 3 && fields[2] == "tracefs" {
                    let mountPoint = unescapeMountPath(String(fields[1]))
                    if SystemCalls.kind(mountPoint + "/events") == .directory { return TraceFS(root: mountPoint) }
                }
            }
        }
        throw TraceFSError(.notMounted(searched: candidates), path: "")
    }

    /// Whether `root` is the kernel's tracefs, which the exporter writes to; nil when it is,
    /// else why nothing will be written there.
    public var writeRefusal: String? {
        if let readOnlyReason { return readOnlyReason }
        if Filesystem.isTraceFS(root) { return nil }
        let errno = SystemCalls.accessError(root)
        if errno != 0 { return "tracefs is not available at \(root): \(errnoName(errno))" }
        return TraceFSError(.notAMount(filesystem: Filesystem.name(of: root)), path: root).description
    }

    public func path(_ relativePath: String) -> String { relativePath.isEmpty ? root : root + "/" + relativePath }

    /// The most a tracefs file may hold. The largest real ones are hist files: 131072 entries
    /// (the kernel's most) of a few hundred bytes each, or of stack traces of a few KiB.
    public static let maximumFileBytes = 512 << 20

    public func read(_ relativePath: String) throws(TraceFSError) -> [UInt8] {
        try SystemCalls.readWholeFile(path(relativePath), limit: Self.maximumFileBytes)
    }

    public func list(_ relativePath: String) throws(TraceFSError) -> [String] {
        try SystemCalls.listDirectory(path(relativePath))
    }

    public func exists(_ relativePath: String) -> Bool { SystemCalls.kind(path(relativePath)) != nil }
}

/// `/proc/mounts` writes spaces and some other bytes as octal escapes (`\040`).
func unescapeMountPath(_ s: String) -> String {
    var out: [UInt8] = []
    let b = Array(s.utf8)
    var i = 0
    while i < b.count {
        if b[i] == 0x5C, i + 3 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
            out.append(v)
            i += 4
        } else {
            out.append(b[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

extension TraceFileReader {
    public func eventDirectory(_ event: EventName, in instance: TraceInstance) -> String {
        "\(instance.directory)events/\(event.system)/\(event.event)"
    }

    /// Reads and parses one event's hist file. A missing file is ENOENT, which callers
    /// report as "no hist support" or "event gone", never as a crash.
    public func readHist(_ event: EventName, in instance: TraceInstance) throws(TraceFSError) -> [UInt8] {
        try read(eventDirectory(event, in: instance) + "/hist")
    }

    public func readTrigger(_ event: EventName, in instance: TraceInstance) throws(TraceFSError) -> [UInt8] {
        try read(eventDirectory(event, in: instance) + "/trigger")
    }

    public func readFormat(_ event: EventName, in instance: TraceInstance) throws(TraceFSError) -> EventFormat {
        // The format is the same in every instance; read the top-level copy when an
        // instance lacks the event directory.
        let bytes: [UInt8]
        do {
            bytes = try read(eventDirectory(event, in: instance) + "/format")
        } catch where instance != .topLevel {
            bytes = try read(eventDirectory(event, in: .topLevel) + "/format")
        }
        return EventFormat.parse(String(decoding: bytes, as: UTF8.self))
    }

    /// The named instances present (without the top level).
    public func instances() -> [TraceInstance] {
        ((try? list("instances")) ?? []).map { .named($0) }
    }

    /// Every event directory of an instance. Names only, no stat per event: a system
    /// directory holds its events plus the `enable` and `filter` files, and tracefs
    /// instances hold a few thousand events.
    public func events(in instance: TraceInstance) throws(TraceFSError) -> [EventName] {
        let base = instance.directory + "events"
        var result: [EventName] = []
        for system in try list(base) where system != "enable" && system != "header_page" && system != "header_event" {
            guard let events = try? list(base + "/" + system) else { continue }
            for event in events where event != "enable" && event != "filter" {
                result.append(EventName(system: system, event: event))
            }
        }
        return result
    }

    /// Probes the kernel's tracing features from the files it offers and its README,
    /// the way the kernel's own selftests declare their requirements.
    public func features() -> TraceFeatures {
        let readme = (try? read("README")) ?? []
        // On the bytes: the README is tens of KiB, and admin actions probe it each time.
        func mentions(_ text: String) -> Bool {
            readme.withUnsafeBufferPointer { firstOffset(of: Array(text.utf8), in: $0) != nil }
        }
        var hist = mentions("hist trigger")
        if !hist, let systems = try? list("events") {
            outer: for system in systems {
                for event in (try? list("events/" + system)) ?? [] where exists("events/\(system)/\(event)/hist") {
                    hist = true
                    break outer
                }
            }
        }
        return TraceFeatures(
            histTriggers: hist,
            syntheticEvents: exists("synthetic_events"),
            errorLog: exists("error_log"),
            linearBuckets: mentions(".buckets=size"),
            commonStacktrace: mentions("common_stacktrace"),
            percentAndGraph: mentions(".percent") && mentions(".graph"),
            noHitcount: mentions("[:nohitcount]"),
            // The lines the kernel's own selftests require (tools/testing/selftests/ftrace).
            kprobeEvents: exists("kprobe_events") || mentions("p[:[<group>/][<event>]] <place> [<args>]"),
            fprobeEvents: mentions("f[:[<group>/][<event>]] <func-name>[%return] [<args>]"),
            tracepointProbes: mentions("t[:[<group>/][<event>]] <tracepoint> [<args>]")
        )
    }
}
