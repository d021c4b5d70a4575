import Locking
import Platform

/// Hands the allocator's free pages back to the kernel after a refresh. A refresh parses and
/// maps whole tables, tens of MB for the largest; glibc keeps what they used, in every arena a
/// thread touched, so resident memory would climb to the sum of those high-water marks and stay
/// there, and a leak could not be told from it. `malloc_trim` releases the free pages inside
/// the arenas too (`madvise`), so resident memory follows what is in use.
public enum HeapTrim {
    /// At most one trim per this many nanoseconds: a refresh on every scrape must not pay it
    /// each time.
    static let minimumSpacing: UInt64 = 5_000_000_000
    private static let last = Locked<UInt64>(0)

    public static func afterRefresh(now: UInt64 = monotonicNanoseconds()) {
        let due = last.withLock { last -> Bool in
            guard last == 0 || now &- last >= minimumSpacing else { return false }
            last = now
            return true
        }
        if due { Heap.releaseFreePages() }
    }
}
