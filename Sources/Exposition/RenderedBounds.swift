import Synchronization

/// Histogram bucket bounds as the exposition writes them, kept across encodes: a family's
/// bounds are the same at every refresh, and rendering each float the Go way costs more than a
/// small table's samples (two fifths of encoding a one-series histogram).
final class RenderedBounds: Sendable {
    static let shared = RenderedBounds()
    /// More distinct sets of bounds than this empties the memo rather than let it grow.
    static let capacity = 256

    private struct Key: Hashable {
        /// Bit patterns: 0 and -0 render differently.
        var bounds: [UInt64]
        var format: ExpositionFormat
    }

    private let rendered = Mutex<[Key: [[UInt8]]]>([:])

    func render(_ bounds: [Double], format: ExpositionFormat) -> [[UInt8]] {
        let key = Key(bounds: bounds.map(\.bitPattern), format: format)
        if let known = rendered.withLock({ $0[key] }) { return known }
        let result = bounds.map { bound in
            var bytes: [UInt8] = []
            ExpositionEncoder.appendValue(bound, format: format, into: &bytes)
            return bytes
        }
        rendered.withLock { memo in
            if memo.count >= Self.capacity { memo.removeAll(keepingCapacity: true) }
            memo[key] = result
        }
        return result
    }
}
