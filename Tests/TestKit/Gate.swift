import Foundation

/// A gate that threads wait at until the test opens it. It counts the threads that reached it,
/// so a test knows when the work it holds has started.
public final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    private var reached = 0

    public init() {}

    /// Waits until the gate is open, at most `seconds` so that a failing test cannot hang;
    /// true when it opened.
    @discardableResult
    public func pass(timeout seconds: Double = 30) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        reached += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(seconds)
        while !isOpen {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// Lets every thread waiting, and every one to come, through.
    public func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    /// How many threads have reached the gate.
    public var arrivals: Int {
        condition.lock()
        defer { condition.unlock() }
        return reached
    }

    /// Waits until `count` threads have reached the gate, at most `seconds`; true when they did.
    @discardableResult
    public func waitForArrivals(_ count: Int, timeout seconds: Double = 10) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeBound(seconds))
        while reached < count {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }
}

/// Polls `condition` every 10 ms for at most `seconds`; true once it holds.
public func eventually(within seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeBound(seconds))
    while !condition() {
        if Date() > deadline { return false }
        usleep(10_000)
    }
    return true
}
