import Dispatch
import Exporter
import Glibc
import Locking
import Testing
import TestKit

@Suite struct ActionQueueTests {
    @Test("items run one at a time, in the order they came, off the caller's thread")
    func order() throws {
        let queue = ActionQueue(capacity: 100)
        let log = Locked<[Int]>([])
        let running = Locked(0)
        let done = DispatchSemaphore(value: 0)
        for i in 0..<50 {
            try queue.submit({
                let overlapping = running.withLock { count -> Int in
                    count += 1
                    return count
                }
                #expect(overlapping == 1)
                log.withLock { $0.append(i) }
                running.withLock { $0 -= 1 }
                if i == 49 { done.signal() }
            }, cancelled: { Issue.record("item \(i) was cancelled") })
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(log.withLock { $0 } == Array(0..<50))
    }

    @Test("work runs on a thread of its own, at a lower CPU priority than the caller")
    func threadAndPriority() throws {
        let queue = ActionQueue(capacity: 1)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let caller = getpriority(which, 0)
        let callerThread = pthread_self()
        let seen = Locked<(nice: Int32, sameThread: Bool)?>(nil)
        let done = DispatchSemaphore(value: 0)
        try queue.submit({
            seen.withLock { $0 = (getpriority(which, 0), pthread_equal(pthread_self(), callerThread) != 0) }
            done.signal()
        }, cancelled: {})
        #expect(done.wait(timeout: .now() + 10) == .success)
        let observed = try #require(seen.withLock { $0 })
        #expect(!observed.sameThread)
        #expect(observed.nice == min(caller + 10, 19))
        #expect(getpriority(which, 0) == caller, "the caller's own priority is untouched")
        queue.close()
    }

    @Test("past its capacity an item is refused and not queued")
    func capacity() throws {
        let queue = ActionQueue(capacity: 2)
        let gate = Gate()
        try queue.submit({ gate.pass() }, cancelled: {})
        #expect(gate.waitForArrivals(1))
        try queue.submit({}, cancelled: {})
        try queue.submit({}, cancelled: {})
        #expect(queue.waitingCount == 2)
        #expect(throws: ActionQueue.Refusal.full) { try queue.submit({}, cancelled: {}) }
        gate.open()
        queue.close()
    }

    @Test("close() cancels the items waiting, waits for the one running, and refuses new ones")
    func close() throws {
        let queue = ActionQueue(capacity: 10)
        let gate = Gate()
        let finished = Locked(false)
        let ran = Locked(0)
        let cancelled = Locked(0)
        try queue.submit({
            gate.pass()
            finished.withLock { $0 = true }
        }, cancelled: { Issue.record("the running item was cancelled") })
        #expect(gate.waitForArrivals(1))
        for _ in 0..<3 {
            try queue.submit({ ran.withLock { $0 += 1 } }, cancelled: { cancelled.withLock { $0 += 1 } })
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { gate.open() }
        queue.close()
        #expect(finished.withLock { $0 }, "close() returned after the running item")
        #expect(cancelled.withLock { $0 } == 3)
        #expect(ran.withLock { $0 } == 0)
        #expect(throws: ActionQueue.Refusal.closed) { try queue.submit({}, cancelled: {}) }
    }
}
