import Foundation
import Testing

/// Cross-checks the text golden with Prometheus' own parser and linter.
struct PromtoolTests {
    static let promtoolPath: String? = {
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = searchPath.split(separator: ":").map { "\($0)/promtool" } + ["/usr/bin/promtool"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    @Test(.enabled(if: promtoolPath != nil, "promtool is not installed"))
    func promtoolAcceptsTheTextGolden() throws {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("exposition-golden-\(ProcessInfo.processInfo.processIdentifier).prom")
        try Data(Fixtures.text004.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.promtoolPath))
        process.arguments = ["check", "metrics"]
        process.standardInput = try FileHandle(forReadingFrom: file)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "promtool check metrics said: \(report)")
    }
}
