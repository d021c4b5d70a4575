import Exposition
import HTTPServer
import Locking

/// One refresh's metrics, encoded once and served to every scrape until the next refresh:
/// text (plain and gzip) built eagerly, OpenMetrics built the first time someone asks.
public final class MetricsSnapshot: Sendable {
    public let families: [MetricFamily]
    public let text: SharedBody
    public let textGzip: SharedBody
    private let openMetrics = Locked<(plain: SharedBody, gzip: SharedBody)?>(nil)

    public init(families: [MetricFamily]) {
        self.families = families
        let bytes = ExpositionEncoder.encode(families, format: .text004)
        text = SharedBody(bytes)
        textGzip = SharedBody(Gzip.compress(bytes))
    }

    public func body(format: ExpositionFormat, gzip: Bool) -> SharedBody {
        switch format {
        case .text004: return gzip ? textGzip : text
        case .openMetrics100:
            let pair = openMetrics.withLock { cached in
                if let cached { return cached }
                let bytes = ExpositionEncoder.encode(families, format: .openMetrics100)
                let built = (plain: SharedBody(bytes), gzip: SharedBody(Gzip.compress(bytes)))
                cached = built
                return built
            }
            return gzip ? pair.gzip : pair.plain
        }
    }
}
