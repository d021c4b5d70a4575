#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HistFormat
import Locking
import TraceFS

/// An in-memory tracefs that answers control writes the way a Linux 6.1 kernel does:
/// hist triggers with their read-back, duplicate and removal rules, variables and
/// `onmatch()` chains with their EBUSY teardown order, named hists, synthetic events,
/// instances, `error_log`, and the `trace_clock` side effect.
///
/// Paths are relative to the tracefs root, as with ``TraceFS``. Hist tables start empty;
/// ``setEntries(_:hits:dropped:event:instance:matching:)`` fills them with entry lines in
/// the kernel's rendering. Every `append` is recorded in ``writes``, and
/// ``failNext(_:with:errorLog:)`` / ``failAll(_:with:)`` inject failures.
public final class FakeKernelTraceFS: TraceFileSystem, @unchecked Sendable {
    /// Kernel options the fake can do without.
    public struct Features: Equatable, Sendable {
        /// `CONFIG_HIST_TRIGGERS`: `hist` files, the `hist` command, the README section.
        public var histTriggers: Bool
        /// `CONFIG_SYNTH_EVENTS`: the `synthetic_events` file and `events/synthetic/`.
        public var syntheticEvents: Bool
        /// The `error_log` files (5.2+).
        public var errorLog: Bool
        /// `CONFIG_KPROBE_EVENTS`: `kprobe_events`, `p:` and `r:` probes.
        public var kprobeEvents: Bool
        /// `CONFIG_FPROBE_EVENTS` (6.5+): `f:` and `t:` probes, which 6.1 lacks.
        public var fprobeEvents: Bool

        public init(
            histTriggers: Bool = true, syntheticEvents: Bool = true, errorLog: Bool = true, kprobeEvents: Bool = true,
            fprobeEvents: Bool = false
        ) {
            self.histTriggers = histTriggers
            self.syntheticEvents = syntheticEvents
            self.errorLog = errorLog
            self.kprobeEvents = kprobeEvents
            self.fprobeEvents = fprobeEvents
        }

        /// Everything a Debian 6.1 kernel has.
        public static let full = Features()
        /// Everything a Debian 6.12 kernel has that the model knows: 6.1's, and fprobes.
        public static let withFprobes = Features(fprobeEvents: true)
        /// A kernel built without `CONFIG_HIST_TRIGGERS` (and so without synthetic events).
        public static let noHistTriggers = Features(histTriggers: false, syntheticEvents: false, errorLog: true)
    }

    /// The events a fresh fake offers, each with a real (or realistic) 6.1 `format` file.
    public static let defaultEvents: [EventName] = [
        "sched/sched_waking", "sched/sched_switch", "sched/sched_wakeup", "sched/sched_process_exec",
        "raw_syscalls/sys_enter", "raw_syscalls/sys_exit", "kmem/kmalloc",
        "block/block_rq_issue", "block/block_rq_complete", "irq/irq_handler_entry", "irq/irq_handler_exit",
    ].map { EventName($0)! }

    /// The 6.1 `format` file the fake uses for a well-known event (the default set and
    /// `workqueue/workqueue_queue_work`, which has a real `cpu` field).
    public static func referenceFormat(for event: EventName) -> String? {
        KernelText.format(event.description)
    }

    public let root: String

    private let lock = Lock()
    private var state: KernelState
    private var writeLog: [(path: String, text: String, result: Int32)] = []
    private var pendingFaults: [String: [(errno: Int32, message: String?)]] = [:]
    private var ignoredWrites: Set<String> = []
    private var ignoredRemovals: Set<String> = []
    private var pendingAdditionFaults: [String: (errno: Int32, message: String?)] = [:]
    private var reads: [String] = []
    private var persistentFaults: [String: Int32] = [:]
    /// Read faults: reads of the path to let through first, then the errno of the next one.
    private var readFaults: [String: (skip: Int, errno: Int32)] = [:]
    private var nextPlaceholderID = 600
    private var appendHook: (@Sendable (_ path: String, _ text: String) -> Void)?

    /// - Parameters:
    ///   - events: the events every instance offers; unknown ones get a format with only
    ///     the common fields (use ``addEvent(_:format:)`` to give them real ones).
    ///   - features: kernel options to leave out.
    ///   - root: only used in error paths and messages.
    public init(events: [EventName] = FakeKernelTraceFS.defaultEvents, features: Features = .full,
                root: String = "/sys/kernel/tracing") {
        self.root = root
        self.state = KernelState(features: features)
        for event in events { addEventLocked(event, format: Self.referenceFormat(for: event)) }
    }

    /// Adds (or replaces) an event in every instance.
    public func addEvent(_ event: EventName, format: String) {
        lock.withLock { addEventLocked(event, format: format) }
    }

    private func addEventLocked(_ event: EventName, format: String?) {
        if let format {
            state.addEvent(event, format: format)
            return
        }
        nextPlaceholderID += 1
        state.addEvent(event, format: (KernelText.formatHead(name: event.event, id: nextPlaceholderID) + ["print fmt: \"\"", ""])
            .joined(separator: "\n"))
    }

    // MARK: test control

    /// Every `append`, in order, with the errno it returned (0 for success).
    public var writes: [(path: String, text: String, result: Int32)] {
        lock.withLock { writeLog }
    }

    /// How many files have been read, to tell shared refreshes from repeated ones.
    public var readCount: Int { lock.withLock { reads.count } }

    /// Every file read, in order, as the path it was read by.
    public var readLog: [String] { lock.withLock { reads } }

    /// Forgets the recorded writes.
    public func clearWrites() {
        lock.withLock { writeLog.removeAll() }
    }

    /// Makes the next append, truncate, mkdir or rmdir of `relativePath` fail
    /// with `errno`, optionally logging `errorLog` in the error_log that owns the path.
    /// Several calls queue up.
    public func failNext(_ relativePath: String, with errno: Int32, errorLog: String? = nil) {
        lock.withLock { pendingFaults[Self.normalize(relativePath), default: []].append((errno, errorLog)) }
    }

    /// Makes the next append to `relativePath` report success and change nothing, as the
    /// kernel does for a removal that matches no trigger; lets tests check that the
    /// exporter confirms its writes by reading back.
    public func ignoreNextWrite(_ relativePath: String) {
        lock.withLock { ignoredWrites.insert(Self.normalize(relativePath)) }
    }

    /// Like ``ignoreNextWrite(_:)``, for the next removal (a `!` command, or `-:` for a dynamic event) only: writes that
    /// add go through until then.
    public func ignoreNextRemoval(_ relativePath: String) {
        lock.withLock { ignoredRemovals.insert(Self.normalize(relativePath)) }
    }

    /// Like ``failNext(_:with:errorLog:)``, for the next append that is not a removal (a `!` or `-:`
    /// command): removals go through until then, so the second half of a remove-and-add fails.
    public func failNextAddition(_ relativePath: String, with errno: Int32, errorLog: String? = nil) {
        lock.withLock { pendingAdditionFaults[Self.normalize(relativePath)] = (errno, errorLog) }
    }

    /// Makes one read of `relativePath` fail with `errno`, after `skipping` reads that succeed;
    /// writes are not affected (a write that works and a read-back that does not).
    public func failRead(_ relativePath: String, with errno: Int32, skipping: Int = 0) {
        lock.withLock { readFaults[Self.normalize(relativePath)] = (skipping, errno) }
    }

    /// Calls `hook` with the path and text of every append before the append is made, outside
    /// the fake's lock (reads go on meanwhile), until called with nil: a test holds an action at
    /// the write it chooses, a benchmark gives writes the time the kernel takes.
    public func beforeEachAppend(_ hook: (@Sendable (_ path: String, _ text: String) -> Void)?) {
        lock.withLock { appendHook = hook }
    }

    /// Makes every operation on `relativePath` fail with `errno` until called with nil.
    public func failAll(_ relativePath: String, with errno: Int32?) {
        lock.withLock { persistentFaults[Self.normalize(relativePath)] = errno }
    }

    /// Fills the table of the hist trigger that `command` names (the command as written,
    /// with or without `hist:` and `!`, or its read-back line) with `lines`, one entry each
    /// in the kernel's rendering (a stack key or action line may span several lines).
    /// `hits` defaults to the sum of the entries' `hitcount:` values. Named triggers share
    /// one table. Returns false when no such trigger exists.
    @discardableResult
    public func setEntries(_ lines: [String], hits: UInt64? = nil, dropped: UInt64 = 0, event: EventName,
                           instance: TraceInstance, matching command: String) -> Bool {
        lock.withLock {
            guard let trigger = findTrigger(matching: command, event: event, instance: instance) else { return false }
            state.tables[trigger.tableID] = HistTable(entries: lines, hits: hits ?? Self.sumOfHitcounts(lines), dropped: dropped)
            return true
        }
    }

    private func findTrigger(matching command: String, event: EventName, instance: TraceInstance) -> HistTrigger? {
        let triggers = state.histTriggers(on: event, in: instance)
        var text = command.kernelStripped
        if text.hasPrefix("!") { text.removeFirst() }
        if !text.hasPrefix("hist:") { text = "hist:" + text }
        let param = String(text.dropFirst(5))
        var compiler = HistCompiler(state: state, instance: instance, event: event,
                                    fields: state.fields(of: event) ?? [], command: text, remove: true)
        if let (parameters, filter) = try? HistCompiler.splitFilter(param),
           let attrs = try? compiler.parseAttributes(parameters.replacing(".sym-offset", with: ".symXoffset")),
           let hist = try? compiler.compile(attrs) {
            let group = hist.nameToken.flatMap { state.groups[$0] != nil ? $0 : nil }
            if let found = triggers.first(where: { state.matches(hist, filter: filter, $0, group: group, ignoreFilter: false) }) {
                return found
            }
        }
        var readBack = text
        for suffix in [" [active]", " [paused]"] where readBack.hasSuffix(suffix) { readBack.removeLast(suffix.count) }
        return triggers.first { trigger in
            let line = state.readBack(of: trigger)
            return line.dropLast(9) == readBack
        }
    }

    static func sumOfHitcounts(_ lines: [String]) -> UInt64 {
        var total: UInt64 = 0
        var found = false
        for line in lines {
            guard let r = line.firstRange(of: "hitcount:") else { continue }
            let digits = line[r.upperBound...].drop { $0 == " " }.prefix { $0.isASCII && $0.isNumber }
            if let n = UInt64(digits) {
                total &+= n
                found = true
            }
        }
        return found ? total : UInt64(lines.count)
    }

    // MARK: TraceFileReader

    public func read(_ relativePath: String) throws(TraceFSError) -> [UInt8] {
        try lock.withLock { () throws(TraceFSError) -> [UInt8] in
            let key = Self.normalize(relativePath)
            reads.append(key)
            try checkPersistentFault(relativePath)
            if let fault = readFaults[key] {
                if fault.skip > 0 {
                    readFaults[key] = (fault.skip - 1, fault.errno)
                } else {
                    readFaults[key] = nil
                    throw .system(fault.errno, path(relativePath))
                }
            }
            guard let node = resolve(relativePath) else { throw .system(ENOENT, path(relativePath)) }
            guard let text = contents(of: node) else { throw .system(EISDIR, path(relativePath)) }
            return Array(text.utf8)
        }
    }

    public func list(_ relativePath: String) throws(TraceFSError) -> [String] {
        try lock.withLock { () throws(TraceFSError) -> [String] in
            try checkPersistentFault(relativePath)
            guard let node = resolve(relativePath) else { throw .system(ENOENT, path(relativePath)) }
            guard case .directory(let names) = node else { throw .system(ENOTDIR, path(relativePath)) }
            return names.sorted()
        }
    }

    public func exists(_ relativePath: String) -> Bool {
        lock.withLock { resolve(relativePath) != nil }
    }

    // MARK: TraceFileSystem

    public func append(_ relativePath: String, _ text: String) throws(TraceFSError) {
        lock.withLock { appendHook }?(relativePath, text)
        try lock.withLock { () throws(TraceFSError) in
            var result: Int32 = 0
            if ignoredWrites.remove(Self.normalize(relativePath)) != nil
                || (text.hasPrefix("!") || text.hasPrefix("-:")) && ignoredRemovals.remove(Self.normalize(relativePath)) != nil
            {
                writeLog.append((relativePath, text, 0))
                return
            }
            do throws(KernelFailure) {
                try performAppend(relativePath, text)
            } catch {
                result = error.errno
            }
            writeLog.append((relativePath, text, result))
            if result != 0 { throw .system(result, path(relativePath)) }
        }
    }

    public func truncate(_ relativePath: String) throws(TraceFSError) {
        try lock.withLock { () throws(TraceFSError) in
            do throws(KernelFailure) {
                try checkFaultForKernel(relativePath, text: "")
                guard let node = resolve(relativePath) else { throw KernelFailure(ENOENT) }
                switch node {
                case .directory: throw KernelFailure(EISDIR)
                case .errorLog(let instance): state.instances[instance]?.errorLog.clear()
                case .syntheticEvents, .dynamicEvents: try state.truncateSynthetic()
                case .trigger(let instance, let event): state.truncateTrigger(event: event, instance: instance)
                default: break
                }
            } catch {
                throw .system(error.errno, path(relativePath))
            }
        }
    }

    public func makeDirectory(_ relativePath: String) throws(TraceFSError) {
        try lock.withLock { () throws(TraceFSError) in
            do throws(KernelFailure) {
                try checkFaultForKernel(relativePath, text: "")
                let parts = Self.components(relativePath)
                if resolve(relativePath) != nil { throw KernelFailure(EEXIST) }
                guard parts.count == 2, parts[0] == "instances" else {
                    throw KernelFailure(resolve(parts.dropLast().joined(separator: "/")) == nil ? ENOENT : EPERM)
                }
                state.instances[.named(parts[1])] = InstanceState()
            } catch {
                throw .system(error.errno, path(relativePath))
            }
        }
    }

    public func removeDirectory(_ relativePath: String) throws(TraceFSError) {
        try lock.withLock { () throws(TraceFSError) in
            do throws(KernelFailure) {
                try checkFaultForKernel(relativePath, text: "")
                let parts = Self.components(relativePath)
                guard let node = resolve(relativePath) else { throw KernelFailure(ENOENT) }
                guard case .directory = node else { throw KernelFailure(ENOTDIR) }
                guard parts.count == 2, parts[0] == "instances" else { throw KernelFailure(EPERM) }
                try state.removeInstance(parts[1])
            } catch {
                throw .system(error.errno, path(relativePath))
            }
        }
    }

    // MARK: internals

    private func path(_ relativePath: String) -> String {
        relativePath.isEmpty ? root : root + "/" + relativePath
    }

    static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }

    static func normalize(_ path: String) -> String { components(path).joined(separator: "/") }

    /// Reads see only persistent faults: a one-shot fault is meant for the next change.
    private func checkPersistentFault(_ relativePath: String) throws(TraceFSError) {
        if let errno = persistentFaults[Self.normalize(relativePath)] { throw .system(errno, path(relativePath)) }
    }

    private func checkFaultForKernel(_ relativePath: String, text: String) throws(KernelFailure) {
        let key = Self.normalize(relativePath)
        if var queue = pendingFaults[key], !queue.isEmpty {
            let fault = queue.removeFirst()
            pendingFaults[key] = queue.isEmpty ? nil : queue
            if let message = fault.message { logInjected(message, path: key, text: text) }
            throw KernelFailure(fault.errno)
        }
        if !text.hasPrefix("!") && !text.hasPrefix("-:"), let fault = pendingAdditionFaults.removeValue(forKey: key) {
            if let message = fault.message { logInjected(message, path: key, text: text) }
            throw KernelFailure(fault.errno)
        }
        if let errno = persistentFaults[key] { throw KernelFailure(errno) }
    }

    private func logInjected(_ message: String, path: String, text: String) {
        var instance = TraceInstance.topLevel
        var parts = Self.components(path)
        if parts.count >= 2 && parts[0] == "instances" {
            instance = .named(parts[1])
            parts.removeFirst(2)
        }
        var command = text.kernelStripped
        let location: String
        if parts.count == 4 && parts[0] == "events" {
            location = "hist:\(parts[1]):\(parts[2])"
            if command.hasPrefix("!") { command.removeFirst() }
        } else {
            location = parts.last ?? path
        }
        let target = parts == ["synthetic_events"] ? TraceInstance.topLevel : instance
        state.log(message, position: 0, command: command, location: location, in: target)
    }

    private func performAppend(_ relativePath: String, _ text: String) throws(KernelFailure) {
        try checkFaultForKernel(relativePath, text: text)
        guard let node = resolve(relativePath) else { throw KernelFailure(ENOENT) }
        switch node {
        case .directory:
            throw KernelFailure(EISDIR)
        case .trigger(let instance, let event):
            try state.writeTrigger(text, event: event, instance: instance)
        case .syntheticEvents:
            try state.writeSynthetic(text)
        case .dynamicEvents:
            try state.writeDynamic(text)
        case .kprobeEvents:
            try state.writeDynamic(text, kprobeOnly: true)
        case .errorLog, .filter:
            break
        case .traceClock(let instance):
            let clock = text.kernelStripped
            guard KernelState.clocks.contains(clock) else { throw KernelFailure(EINVAL) }
            state.instances[instance]!.clock = clock
        case .enable(let instance, let event):
            switch text.kernelStripped {
            case "1": state.instances[instance]!.enabled.insert(event)
            case "0": state.instances[instance]!.enabled.remove(event)
            default: throw KernelFailure(EINVAL)
            }
        case .readme, .hist, .format, .id:
            throw KernelFailure(EINVAL)
        }
    }

    enum Node {
        case directory([String])
        case readme, syntheticEvents, dynamicEvents, kprobeEvents
        case errorLog(TraceInstance)
        case traceClock(TraceInstance)
        case trigger(TraceInstance, EventName)
        case hist(TraceInstance, EventName)
        case format(EventName)
        case enable(TraceInstance, EventName)
        case filter(TraceInstance, EventName)
        case id(EventName)
    }

    private func resolve(_ relativePath: String) -> Node? {
        let parts = Self.components(relativePath)
        let features = state.features
        var instance = TraceInstance.topLevel
        var rest = parts[...]
        if parts.first == "instances" {
            if parts.count == 1 {
                return .directory(state.instances.keys.compactMap { if case .named(let n) = $0 { n } else { nil } })
            }
            instance = .named(parts[1])
            guard state.instances[instance] != nil else { return nil }
            rest = parts[2...]
        }
        let top = instance == .topLevel
        let events = state.allEvents()
        switch Array(rest) {
        case []:
            var names = ["events", "trace_clock"]
            if features.errorLog { names.append("error_log") }
            if top {
                names += ["README", "instances"]
                if features.syntheticEvents || features.kprobeEvents { names.append("dynamic_events") }
                if features.syntheticEvents { names.append("synthetic_events") }
                if features.kprobeEvents { names.append("kprobe_events") }
            }
            return .directory(names)
        case ["README"] where top:
            return .readme
        case ["synthetic_events"] where top && features.syntheticEvents:
            return .syntheticEvents
        case ["dynamic_events"] where top && (features.syntheticEvents || features.kprobeEvents):
            return .dynamicEvents
        case ["kprobe_events"] where top && features.kprobeEvents:
            return .kprobeEvents
        case ["error_log"] where features.errorLog:
            return .errorLog(instance)
        case ["trace_clock"]:
            return .traceClock(instance)
        case ["events"]:
            return .directory(Array(Set(events.map(\.system))))
        case let p where p.count == 2 && p[0] == "events":
            let names = events.filter { $0.system == p[1] }.map(\.event)
            return names.isEmpty ? nil : .directory(names)
        case let p where p.count == 3 && p[0] == "events":
            let event = EventName(system: p[1], event: p[2])
            guard events.contains(event) else { return nil }
            var files = ["enable", "filter", "format", "id", "trigger"]
            if features.histTriggers { files.append("hist") }
            return .directory(files)
        case let p where p.count == 4 && p[0] == "events":
            let event = EventName(system: p[1], event: p[2])
            guard events.contains(event) else { return nil }
            switch p[3] {
            case "trigger": return .trigger(instance, event)
            case "hist" where features.histTriggers: return .hist(instance, event)
            case "format": return .format(event)
            case "enable": return .enable(instance, event)
            case "filter": return .filter(instance, event)
            case "id": return .id(event)
            default: return nil
            }
        default:
            return nil
        }
    }

    private func contents(of node: Node) -> String? {
        switch node {
        case .directory: return nil
        case .readme: return state.readme()
        case .syntheticEvents: return state.synthetics.map(\.readBack).joined()
        case .dynamicEvents:
            return state.probes.map(\.readBack).joined() + state.synthetics.map { "s:synthetic/" + $0.readBack }.joined()
        case .kprobeEvents: return state.probes.filter { $0.letter == "p" || $0.letter == "r" }.map(\.readBack).joined()
        case .errorLog(let instance): return state.instances[instance]?.errorLog.rendered ?? ""
        case .traceClock(let instance): return state.traceClockFile(instance: instance)
        case .trigger(let instance, let event): return state.triggerFile(event: event, instance: instance)
        case .hist(let instance, let event): return state.histFile(event: event, instance: instance)
        case .format(let event): return state.format(of: event) ?? ""
        case .enable(let instance, let event): return state.enableFile(event: event, instance: instance)
        case .filter: return "none\n"
        case .id(let event):
            let format = state.format(of: event) ?? ""
            let id = format.split(separator: "\n").first { $0.hasPrefix("ID: ") }.map { String($0.dropFirst(4)) } ?? "0"
            return id + "\n"
        }
    }
}
