import Foundation

/// The captured corpus, shared by the test targets through the repository tree.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let corpus = root.appendingPathComponent("corpus")

    static func corpusHistFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "hist" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    static func corpusBytes(_ name: String) throws -> [UInt8] { try bytes(corpus.appendingPathComponent(name)) }
}
