import Dispatch
import Locking
import Logging
import Platform

/// Removes time-boxed trigger sets when their deadlines pass. It sleeps until the earliest
/// deadline (at most a minute, as deadlines are wall-clock times and the clock may be set),
/// and a new or changed deadline wakes it.
public final class InstallExpiry: Sendable {
    static let longestSleep = 60.0
    /// A removal that failed is tried again after this long, not in a loop.
    static let retryAfterFailure = 10.0

    private struct State {
        var running = false
        /// Each schedule bumps it; a timer from an earlier schedule finds it changed and ends.
        var generation = 0
        var retryAt: Double?
    }

    private let state = Locked(State())
    private let controller: TriggerController
    private let metrics: ExporterMetrics
    private let logger: Logger
    private let afterRemoval: @Sendable () -> Void
    private let queue = DispatchQueue(label: "ftrace_exporter.expiry")

    /// `afterRemoval`: runs after sets were removed (the snapshot is rebuilt).
    public init(controller: TriggerController, metrics: ExporterMetrics, logger: Logger, afterRemoval: @escaping @Sendable () -> Void) {
        self.controller = controller
        self.metrics = metrics
        self.logger = logger
        self.afterRemoval = afterRemoval
    }

    public func start() {
        state.withLock { $0.running = true }
        controller.deadlines.onChange { [weak self] in self?.wake() }
        wake()
    }

    /// Stops the timer and waits for a removal under way.
    public func stop() {
        state.withLock { $0.running = false }
        queue.sync {}
    }

    /// Looks at the deadlines now (and sleeps anew from there).
    public func wake() {
        schedule(after: 0)
    }

    private func schedule(after seconds: Double) {
        let generation = state.withLock { s -> Int? in
            guard s.running else { return nil }
            s.generation += 1
            return s.generation
        }
        guard let generation else { return }
        queue.asyncAfter(deadline: .now() + max(0, seconds)) { [weak self] in
            guard let self, self.state.withLock({ $0.running && $0.generation == generation }) else { return }
            self.schedule(after: self.check())
        }
    }

    /// Removes the sets due; returns the seconds until the next look.
    @discardableResult
    public func check() -> Double {
        let results = controller.expireDue()
        var failed = false
        for result in results {
            if let error = result.error {
                failed = true
                metrics.countExpiryFailure(set: result.set)
                logger.error("cannot remove a time-boxed trigger set at its deadline; trying again", metadata: [
                    "set": "\(result.set)", "deadline": "\(utcTimestamp(unixSeconds: result.deadline))", "err": "\(error)",
                ])
            } else {
                metrics.countExpiry(set: result.set)
                logger.info("removed a time-boxed trigger set at its deadline", metadata: [
                    "set": "\(result.set)", "deadline": "\(utcTimestamp(unixSeconds: result.deadline))",
                ])
            }
        }
        if results.contains(where: { $0.error == nil }) { afterRemoval() }
        let now = controller.wallClock()
        var next = Self.longestSleep
        for deadline in controller.deadlines.all.values {
            // A deadline already past is one whose removal just failed: retried later, not now.
            next = min(next, deadline > now ? deadline - now : Self.retryAfterFailure)
        }
        if failed { next = min(next, Self.retryAfterFailure) }
        return next
    }
}
