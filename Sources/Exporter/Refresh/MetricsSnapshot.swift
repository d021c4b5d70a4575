import Exposition
import Locking

/// One refresh's metrics, encoded once and served to every scrape until the next refresh:
/// text built eagerly, OpenMetrics built the first time someone asks.
public final class MetricsSnapshot: Sendable {
    public let families: [MetricFamily]
    public let text: [UInt8]
    private let openMetrics = Locked<[UInt8]?>(nil)

    public init(families: [MetricFamily]) {
        self.families = families
        text = ExpositionEncoder.encode(families, format: .text004)
    }

    public func bytes(format: ExpositionFormat) -> [UInt8] {
        switch format {
        case .text004: return text
        case .openMetrics100:
            return openMetrics.withLock { cached in
                if let cached { return cached }
                let built = ExpositionEncoder.encode(families, format: .openMetrics100)
                cached = built
                return built
            }
        }
    }
}
