import Exporter
import Exposition
import Foundation
import Logging
import TestKit
import TraceFS

/// Paths into the fixture tree, and one-call helpers over it.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let trees = root.appendingPathComponent("tracefs")
    static let configs = root.appendingPathComponent("configs")
    static let golden = root.appendingPathComponent("golden")
    static let packageRoot = root.deletingLastPathComponent().deletingLastPathComponent()

    static func treeNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: trees.path)) ?? []).sorted()
    }

    static func tree(_ name: String) -> TraceFS { TraceFS(root: trees.appendingPathComponent(name).path) }

    static func config(_ name: String) throws -> ExporterConfig {
        try ConfigSource.load(path: configs.appendingPathComponent(name).path)
    }

    static let quietLogger = TestKit.quietLogger

    /// The exposition `--once` prints for a tree, with read durations pinned to 0.
    static func exposition(tree name: String, config: ExporterConfig) -> String {
        let fs = tree(name)
        let collector = HistCollector(config: config, reader: fs, logger: quietLogger, features: fs.features(), clock: { 0 })
        return String(decoding: ExpositionEncoder.encode(collector.collect(), format: .text004), as: UTF8.self)
    }
}
