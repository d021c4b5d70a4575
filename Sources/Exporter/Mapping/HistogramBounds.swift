import HistFormat

/// The fixed `le` set of a mapped histogram and the slot each kernel bucket falls in.
///
/// Exactness: a `.log2` bucket `~ 2^k` holds values in (2^(k-1), 2^k], so its whole
/// count is `<= 2^k`; a `.buckets=N` bucket `~ A-B` holds [A, B], so `<= B`. Each kernel
/// bucket goes to the smallest `le` at or above its upper edge, never to a smaller one.
struct HistogramBounds {
    /// In base units (seconds, bytes), ascending, without +Inf.
    let upperBounds: [Double]
    /// The same bounds in the key's raw units.
    private let rawBounds: [Double]

    init(mapping: MetricMapping, keyKind: KeyKind) {
        if let buckets = mapping.buckets {
            upperBounds = buckets
            rawBounds = buckets.map { le in
                let raw = le / mapping.scale.factor
                // Edges checked at load time to be integers for log2 and linear buckets.
                return keyKind == .plain ? raw : raw.rounded()
            }
        } else {
            let exponents = MetricMappingLoader.defaultLog2Exponents
            rawBounds = exponents.map { Double(UInt64(1) << UInt64($0)) }
            upperBounds = rawBounds.map { mapping.scale.apply($0) }
        }
    }

    /// The index of the first bound the key's values are all at or below; the last
    /// index (one past the bounds) is +Inf.
    func slot(for key: KeyValue) -> Int {
        let rawUpper: Double
        switch key {
        case .log2(let exponent):
            rawUpper = exponent >= 64 ? Double.infinity : Double(UInt64(1) << exponent)
        case .bucket(_, let upper):
            rawUpper = Double(upper)
        default:
            guard let v = KeyLabels.number(key) else { return rawBounds.count }
            rawUpper = v
        }
        // Binary search: the first raw bound >= rawUpper, with a hair of tolerance for
        // bounds that came through a decimal scale.
        var lo = 0
        var hi = rawBounds.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if rawBounds[mid] * (1 + 1e-12) >= rawUpper { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
