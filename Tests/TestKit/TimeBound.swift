#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The longest a test lets something take: `seconds` for an ordinary build, eight times that
/// under a sanitizer, whose instrumentation makes the same work several times slower. These
/// bounds catch a hang or a wait for the wrong thing; speed is the benchmarks' business.
public func timeBound(_ seconds: Double) -> Double {
    seconds * sanitizerSlowdown
}

/// Every sanitizer runtime exports its allocator's interface; an ordinary process has none.
private let sanitizerSlowdown: Double = dlsym(nil, "__sanitizer_get_heap_size") != nil ? 8 : 1
