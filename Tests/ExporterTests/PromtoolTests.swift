import Foundation
import Testing

/// promtool is the ecosystem's own linter: if it complains, Prometheus users will.
@Suite struct PromtoolTests {
    static func promtool() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/promtool"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    @Test func everyGoldenPassesPromtool() throws {
        guard let promtool = Self.promtool() else {
            // `make test` installs promtool; a bare `swift test` without it says so.
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "promtool is required in CI")
            return
        }
        let goldens = try FileManager.default.contentsOfDirectory(atPath: Fixtures.golden.path).filter { $0.hasSuffix(".prom") }.sorted()
        #expect(!goldens.isEmpty)
        for golden in goldens {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: promtool)
            process.arguments = ["check", "metrics"]
            process.standardInput = try FileHandle(forReadingFrom: Fixtures.golden.appendingPathComponent(golden))
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0 && text.isEmpty, "\(golden): \(text)")
        }
    }
}
