/// Parses Prometheus durations: `0`, `250ms`, `5s`, `1m30s`, `2h`.
///
/// As in Prometheus, a duration is a count of nanoseconds in 64 bits (about 292 years); a longer
/// one is not a duration, rather than a number the refresh timer and reports cannot hold.
package func parseDuration(_ text: String) -> Double? {
    if text == "0" { return 0 }
    let units: [(String, Int64)] = [
        ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000),
        ("w", 604_800_000_000_000), ("y", 31_536_000_000_000_000),
    ]
    var rest = Substring(text)
    var nanoseconds: Int64 = 0
    var matchedAny = false
    while !rest.isEmpty {
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = Int64(digits) else { return nil }
        rest = rest.dropFirst(digits.count)
        guard let (unit, factor) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
        rest = rest.dropFirst(unit.count)
        let (part, overflow) = n.multipliedReportingOverflow(by: factor)
        guard !overflow else { return nil }
        let (sum, sumOverflow) = nanoseconds.addingReportingOverflow(part)
        guard !sumOverflow else { return nil }
        nanoseconds = sum
        matchedAny = true
    }
    return matchedAny ? Double(nanoseconds) / 1e9 : nil
}

/// The same durations, for command-line flags.
public func parseDurationFlag(_ text: String) -> Double? { parseDuration(text) }
