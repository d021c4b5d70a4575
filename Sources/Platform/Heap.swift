#if canImport(Glibc)
import CLinux
import Glibc
#endif

/// What glibc's allocator reports of itself, and the call that hands its free pages back.
public enum Heap {
    /// Bytes in use and bytes held (in use or free for reuse); nil where another allocator stands
    /// in (a sanitizer's), whose mallinfo2 is zeros.
    public static func statistics() -> (inUse: UInt64, held: UInt64)? {
        #if canImport(Glibc)
        let heap = mallinfo2()
        let held = UInt64(heap.arena + heap.hblkhd)
        return held == 0 ? nil : (UInt64(heap.uordblks + heap.hblkhd), held)
        #else
        return nil
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
