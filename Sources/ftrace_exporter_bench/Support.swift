#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Monotonic nanoseconds (CLOCK_MONOTONIC).
@inline(__always)
func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Results are folded in here so the optimiser cannot drop the work being timed.
nonisolated(unsafe) var sink = 0

@inline(never)
func consume(_ value: Int) {
    sink &+= value
}

/// A deterministic generator (SplitMix64): the same tables on every run and machine.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<bound.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// printf-style appends, byte for byte as the kernel's `seq_printf` formats.
extension Array where Element == UInt8 {
    mutating func put(_ text: String) { append(contentsOf: text.utf8) }

    /// `%<width>llu`: right-justified in `width` columns, wider when it must be.
    mutating func putDecimal(_ value: UInt64, width: Int = 0) {
        var digits: [UInt8] = []
        var v = value
        repeat {
            digits.append(0x30 + UInt8(v % 10))
            v /= 10
        } while v > 0
        if digits.count < width { append(contentsOf: repeatElement(0x20, count: width - digits.count)) }
        append(contentsOf: digits.reversed())
    }

    /// `%-<width>s`: left-justified, padded with spaces, never truncated.
    mutating func putLeft(_ text: String, width: Int) {
        let start = count
        append(contentsOf: text.utf8)
        let written = count - start
        if written < width { append(contentsOf: repeatElement(0x20, count: width - written)) }
    }

    /// `%llx`: lower case, no `0x`, no padding.
    mutating func putHex(_ value: UInt64) {
        var digits: [UInt8] = []
        var v = value
        repeat {
            let d = UInt8(v & 0xF)
            digits.append(d < 10 ? 0x30 + d : 0x61 + d - 10)
            v >>= 4
        } while v > 0
        append(contentsOf: digits.reversed())
    }
}

/// `value` with `decimals` digits after the point (no Foundation here).
func fixed(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (value.magnitude * scale).rounded()
    guard scaled < 9e18 else { return String(value) }
    let n = UInt64(scaled)
    let whole = n / UInt64(scale)
    var text = (value < 0 && n != 0 ? "-" : "") + String(whole)
    if decimals > 0 {
        let fraction = String(n % UInt64(scale))
        text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
    return text
}

/// A figure with enough significant digits to compare, and not more.
func significant(_ value: Double) -> String {
    let m = value.magnitude
    if m >= 1000 { return fixed(value, 0) }
    if m >= 100 { return fixed(value, 1) }
    if m >= 10 { return fixed(value, 2) }
    if m >= 1 { return fixed(value, 3) }
    return fixed(value, 4)
}

func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

func padRight(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func fail(_ message: String) -> Never {
    var text = "ftrace_exporter_bench: " + message + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}
