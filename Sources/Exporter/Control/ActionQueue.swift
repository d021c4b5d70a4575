import Dispatch
import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs work items one at a time, in the order they came, on a thread of its own: the admin
/// API's actions (an install or removal takes the kernel seconds) run here rather than on the
/// thread that took the request. The controller serialises its actions with its own lock; this
/// queue keeps the waiting ones from each holding a thread meanwhile.
///
/// The thread runs at a lower CPU priority than the rest of the process: besides waiting for
/// the kernel, an action reads its writes back, reads the sets' state and rebuilds the metrics
/// snapshot, and on a busy host that work would otherwise delay the scrapes served meanwhile.
/// It is started when work comes and ends when none is left.
///
/// At most `capacity` items wait; `close()` at shutdown cancels those still waiting, so that
/// nothing is installed after the exporter began removing what it installed.
public final class ActionQueue: Sendable {
    struct Item: Sendable {
        let work: @Sendable () -> Void
        let cancelled: @Sendable () -> Void
    }

    struct State: Sendable {
        var waiting: [Item] = []
        var draining = false
        var closed = false
    }

    /// Why an item was not queued.
    public enum Refusal: Error, Sendable {
        /// `capacity` items are already waiting.
        case full
        /// `close()` was called.
        case closed
    }

    /// How much nicer than the process the thread runs (Linux nice values are per thread).
    static let niceIncrement: Int32 = 10

    public let capacity: Int
    private let state = Locked(State())
    /// Entered while a thread drains the queue.
    private let draining = DispatchGroup()

    /// - Parameter capacity: the most items waiting at once, at least 1.
    public init(capacity: Int) {
        precondition(capacity >= 1, "an action queue holds at least one item")
        self.capacity = capacity
    }

    /// Queues `work` behind the items already waiting. `cancelled` is called instead of `work`
    /// when the queue is closed before `work` started.
    public func submit(_ work: @escaping @Sendable () -> Void, cancelled: @escaping @Sendable () -> Void) throws(Refusal) {
        let startDraining = try state.withLock { s throws(Refusal) -> Bool in
            if s.closed { throw .closed }
            if s.waiting.count >= capacity { throw .full }
            s.waiting.append(Item(work: work, cancelled: cancelled))
            defer { s.draining = true }
            return !s.draining
        }
        if startDraining {
            draining.enter()
            startThread()
        }
    }

    /// Items waiting, not counting the one running.
    public var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Takes no more work, cancels the items still waiting, and returns once the item running
    /// (if any) has finished. Must not be called from a work item, which it would wait for.
    public func close() {
        let dropped = state.withLock { s -> [Item] in
            s.closed = true
            defer { s.waiting = [] }
            return s.waiting
        }
        for item in dropped { item.cancelled() }
        draining.wait()
    }

    private func startThread() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { context in
            let queue = Unmanaged<ActionQueue>.fromOpaque(context!).takeRetainedValue()
            queue.lowerPriority()
            queue.drain()
            return nil
        }, context)
        if created == 0 {
            pthread_detach(thread)
        } else {
            // Out of threads: the work still runs, off the caller's thread, at the usual priority.
            Unmanaged<ActionQueue>.fromOpaque(context).release()
            DispatchQueue.global().async { self.drain() }
        }
    }

    /// Never raised back: the thread ends with the drain, and an unprivileged process could not.
    private func lowerPriority() {
        #if canImport(Glibc)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        // Who 0 is the calling thread: on Linux a nice value belongs to a thread.
        let current = getpriority(which, 0)
        if errno == 0 { _ = setpriority(which, 0, min(current + Self.niceIncrement, 19)) }
        #endif
    }

    private func drain() {
        while let item = state.withLock({ s -> Item? in
            if s.closed || s.waiting.isEmpty {
                s.draining = false
                return nil
            }
            return s.waiting.removeFirst()
        }) {
            item.work()
        }
        draining.leave()
    }
}
