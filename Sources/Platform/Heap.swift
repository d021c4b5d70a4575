#if canImport(Glibc)
import CLinux
import Glibc
#endif

/// What glibc's allocator reports of itself, and the call that hands its free pages back.
public enum Heap {
    /// Bytes in use and bytes held (in use or free for reuse); nil where another allocator stands
    /// in, whose mallinfo2 is zeros.
    public static func statistics() -> (inUse: UInt64, held: UInt64)? {
        #if canImport(Glibc)
        // Under a sanitizer glibc's arenas are never set up, and ThreadSanitizer does not
        // intercept mallinfo2: two first calls at once race in glibc's lazy arena set-up and
        // crash there, so the call is not made at all.
        if sanitizerAllocator { return nil }
        let heap = mallinfo2()
        let held = UInt64(heap.arena + heap.hblkhd)
        return held == 0 ? nil : (UInt64(heap.uordblks + heap.hblkhd), held)
        #else
        return nil
        #endif
    }

    #if canImport(Glibc)
    /// Every sanitizer runtime exports its allocator's interface; glibc's process has none.
    private static let sanitizerAllocator = dlsym(nil, "__sanitizer_get_heap_size") != nil
    #endif

    /// Gives every allocation of 128 KiB or more a mapping of its own, unmapped when it is
    /// freed. glibc otherwise raises that threshold each time such a block is freed (up to
    /// 32 MiB), after which a refresh's table-sized buffers come from the arenas, and the pages
    /// they leave pinned there make the resident floor wander by megabytes between trims
    /// (measured: 20-second floors spread over 10.8 MB, against 0.3 MB with the threshold fixed).
    public static func fixLargeAllocationThreshold() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        #endif
    }

    /// Releases the free pages of every arena to the kernel (`malloc_trim`, which `madvise`s
    /// inside the arenas too, not only at their tops).
    public static func releaseFreePages() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }
}
