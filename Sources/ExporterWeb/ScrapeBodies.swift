import Exporter
import Exposition
import HTTPServer
import Locking

/// The response bodies of the snapshots being served, each made once (format by compression)
/// and shared by every scrape of that snapshot.
///
/// A new snapshot gets the bodies scrapers asked for last before it is published (`prepare`,
/// from `Refresher.beforePublishing`), made outside the lock: scrapes go on being served the
/// previous snapshot's bodies meanwhile, so no scrape waits for an encoding or a compression.
/// Two snapshots are kept, the one served and the one about to be; older bodies are released.
final class ScrapeBodies: Sendable {
    private struct Made {
        let snapshot: MetricsSnapshot
        /// Indexed by `ScrapeBodies.slot(format:gzip:)`.
        var bodies: [SharedBody?] = [nil, nil, nil, nil]
    }

    /// Oldest first, at most `kept`.
    private let made = Locked<[Made]>([])
    private static let kept = 2

    /// Makes, for `snapshot`, the bodies that were made for the last snapshot before it.
    func prepare(_ snapshot: MetricsSnapshot) {
        let slots = made.withLock { made -> [Int] in
            guard let last = made.last, last.snapshot !== snapshot else { return [] }
            return last.bodies.indices.filter { last.bodies[$0] != nil }
        }
        var prepared = Made(snapshot: snapshot)
        for slot in slots { prepared.bodies[slot] = Self.make(snapshot, slot: slot) }
        made.withLock { made in
            if let index = made.firstIndex(where: { $0.snapshot === snapshot }) {
                for slot in slots where made[index].bodies[slot] == nil { made[index].bodies[slot] = prepared.bodies[slot] }
            } else {
                Self.keep(prepared, in: &made)
            }
        }
    }

    /// Whether the body is made for `snapshot` already.
    func isMade(for snapshot: MetricsSnapshot, format: ExpositionFormat, gzip: Bool) -> Bool {
        made.withLock { made in
            made.contains { $0.snapshot === snapshot && $0.bodies[Self.slot(format: format, gzip: gzip)] != nil }
        }
    }

    func body(of snapshot: MetricsSnapshot, format: ExpositionFormat, gzip: Bool) -> SharedBody {
        let slot = Self.slot(format: format, gzip: gzip)
        // Under the lock: scrapes that arrive together wait for one compression, not one each.
        // Only a format no scraper asked for before is made here.
        return made.withLock { made in
            let index: Int
            if let known = made.firstIndex(where: { $0.snapshot === snapshot }) {
                if let body = made[known].bodies[slot] { return body }
                index = known
            } else {
                Self.keep(Made(snapshot: snapshot), in: &made)
                index = made.count - 1
            }
            let body = Self.make(snapshot, slot: slot)
            made[index].bodies[slot] = body
            return body
        }
    }

    private static func keep(_ entry: Made, in made: inout [Made]) {
        made.append(entry)
        if made.count > kept { made.removeFirst(made.count - kept) }
    }

    private static func make(_ snapshot: MetricsSnapshot, slot: Int) -> SharedBody {
        let bytes = snapshot.bytes(format: slot >= 2 ? .openMetrics100 : .text004)
        return SharedBody(slot % 2 == 1 ? Gzip.compress(bytes) : bytes)
    }

    private static func slot(format: ExpositionFormat, gzip: Bool) -> Int {
        (format == .openMetrics100 ? 2 : 0) + (gzip ? 1 : 0)
    }
}
