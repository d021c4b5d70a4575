#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CLOCK_REALTIME in seconds since the epoch.
public func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The wall clock as RFC 3339 UTC with milliseconds (`2026-12-03T07:00:31.211Z`), without
/// Foundation.
public func utcTimestamp() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return utcTimestamp(seconds: Int64(ts.tv_sec), milliseconds: Int32(ts.tv_nsec / 1_000_000))
}

/// A time in seconds since the epoch as RFC 3339 UTC, to the nearest millisecond (a time kept
/// in milliseconds, such as 12.782, reads back as .782 although the double is 12.78199...).
public func utcTimestamp(unixSeconds: Double) -> String {
    let milliseconds = Int64((unixSeconds * 1000).rounded())
    let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
    return fraction >= 0
        ? utcTimestamp(seconds: seconds, milliseconds: Int32(fraction))
        : utcTimestamp(seconds: seconds - 1, milliseconds: Int32(fraction + 1000))
}

private func utcTimestamp(seconds: Int64, milliseconds: Int32) -> String {
    var t = time_t(seconds)
    var parts = tm()
    gmtime_r(&t, &parts)
    func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(milliseconds, 3))Z"
}

/// Blocks the calling thread for about `milliseconds`.
public func pause(milliseconds: Int) {
    usleep(useconds_t(milliseconds * 1000))
}
