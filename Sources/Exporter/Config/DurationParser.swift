/// Parses Prometheus durations: `0`, `250ms`, `5s`, `1m30s`, `2h`.
func parseDuration(_ text: String) -> Double? {
    if text == "0" { return 0 }
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800), ("y", 31_536_000)]
    var rest = Substring(text)
    var total = 0.0
    var matchedAny = false
    while !rest.isEmpty {
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = Double(digits) else { return nil }
        rest = rest.dropFirst(digits.count)
        guard let (unit, factor) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
        rest = rest.dropFirst(unit.count)
        total += n * factor
        matchedAny = true
    }
    return matchedAny ? total : nil
}

/// The same durations, for command-line flags.
public func parseDurationFlag(_ text: String) -> Double? { parseDuration(text) }
