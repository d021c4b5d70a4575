import Foundation
import HistFormat
import StackFormats

/// The corpus's stack tables as samples, and the external tools the format tests run.
enum StackFixtures {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The stacks and hit counts of a corpus hist file's first table (`keys=stacktrace`).
    static func corpusSamples(_ name: String = "34-sched-switch-stacktrace.hist") throws -> [StackSample] {
        let bytes = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("corpus").appendingPathComponent(name)))
        let block = try HistParser.parse(bytes).blocks[0]
        return block.entries.compactMap { entry in
            for key in entry.keys {
                if case .stack(let frames) = key.value { return StackSample(frames: frames, values: [Int64(entry.hitcount ?? 0)]) }
            }
            return nil
        }
    }

    static func corpusProfile() throws -> StackProfile {
        StackProfile(sampleTypes: [.samples], samples: try corpusSamples())
    }

    /// The tool's path on PATH, or nil: then the test passes saying so, except under CI=true,
    /// where every tool the tests name is installed (scripts/install-deps).
    static func tool(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// Runs a tool with `input` on standard input; its standard output, standard error and status.
    static func run(_ executable: String, _ arguments: [String], input: [UInt8] = [], timeout: Double = 60) throws -> (out: [UInt8], err: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        defer { timer.cancel() }
        // protoc reads all its input before it writes, and the inputs are far below a pipe's
        // buffer; Chromium reads none and writes little to standard error.
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let errData = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ([UInt8](out), String(decoding: errData, as: UTF8.self), process.terminationStatus)
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stackformats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
