@testable import Exporter
import Foundation
import Locking
import Testing
import TraceFS

/// A new snapshot is handed to `beforePublishing` while scrapes still see the one before it,
/// for a refresh and for a rebuild after an admin action alike.
struct RefresherPublishingTests {
    @Test func theHandlerSeesEachSnapshotBeforeScrapesDo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("publishing-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.trees.appendingPathComponent("default-config"), to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fs = TraceFS(root: dir.path)
        let config = try DefaultConfig.load()
        let controller = TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
        let refresher = Refresher(
            collector: HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features()),
            controller: controller, metrics: ExporterMetrics(), logger: Fixtures.quietLogger)
        let handed = Locked<[(new: MetricsSnapshot, current: MetricsSnapshot?)]>([])
        // Weak: the refresher keeps the handler.
        refresher.beforePublishing { [weak refresher] snapshot in
            handed.withLock { $0.append((snapshot, refresher?.current)) }
        }
        let first = refresher.refreshSharing()
        let second = refresher.refreshSharing()
        refresher.rebuildAfterChange()
        let rebuilt = try #require(refresher.current)
        let seen = handed.withLock { $0 }
        #expect(seen.count == 3)
        #expect(seen.map(\.new) .elementsEqual([first, second, rebuilt], by: ===))
        #expect(seen[0].current == nil)
        #expect(seen[1].current === first)
        #expect(seen[2].current === second)
    }
}
