import Exporter
import Exposition
import HTTPServer
import Locking

/// The response bodies of the snapshot being served, each made once (format by compression) and
/// shared by every scrape of that snapshot: a scrape pays no encoding or compression of its own,
/// and the bodies of a replaced snapshot are released with it.
final class ScrapeBodies: Sendable {
    private struct Made {
        let snapshot: MetricsSnapshot
        /// Indexed by `slot(format:gzip:)`.
        var bodies: [SharedBody?] = [nil, nil, nil, nil]
    }

    private let made = Locked<Made?>(nil)

    func body(of snapshot: MetricsSnapshot, format: ExpositionFormat, gzip: Bool) -> SharedBody {
        let slot = (format == .openMetrics100 ? 2 : 0) + (gzip ? 1 : 0)
        // Under the lock: scrapes that arrive together wait for one compression, not one each.
        return made.withLock { made in
            if made?.snapshot !== snapshot { made = Made(snapshot: snapshot) }
            if let body = made!.bodies[slot] { return body }
            let bytes = snapshot.bytes(format: format)
            let body = SharedBody(gzip ? Gzip.compress(bytes) : bytes)
            made!.bodies[slot] = body
            return body
        }
    }
}
