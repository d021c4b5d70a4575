import Foundation
import Testing

/// scripts/check-no-foundation, which `make dist` runs: it names Foundation and ICU in binaries
/// built here to link them each way a build can, and passes the exporter.
@Suite(.serialized) struct NoFoundationCheckTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = packageRoot.appendingPathComponent("scripts/check-no-foundation").path

    struct Run {
        var status: Int32
        var output: String
    }

    /// Runs a program to its end, standard output and error together.
    func run(_ executable: String, _ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }

    func check(_ binary: String) throws -> Run { try run(Self.script, [binary]) }

    /// `source` compiled by the toolchain's swiftc in a scratch directory, with the Swift
    /// libraries linked in (as `make dist` builds) or loaded as shared libraries.
    func build(_ source: String, staticStdlib: Bool) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("no-foundation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("main.swift").path
        let binary = dir.appendingPathComponent("program").path
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        let swiftc = try run("/usr/bin/env", ["swiftc"] + (staticStdlib ? ["-static-stdlib"] : []) + ["-o", binary, file])
        try #require(swiftc.status == 0, "swiftc: \(swiftc.output)")
        return binary
    }

    func remove(_ binary: String) {
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: binary).deletingLastPathComponent().path)
    }

    /// What Yams brought into the exporter: Foundation with its Unicode data.
    @Test func foundationWithICULinkedInIsNamed() throws {
        let binary = try build("import Foundation\nlet formatter = NumberFormatter()\nformatter.numberStyle = .decimal\nprint(formatter.string(from: 1234) ?? \"\")\n", staticStdlib: true)
        defer { remove(binary) }
        let result = try check(binary)
        #expect(result.status == 1, "\(result.output)")
        for part in ["links Foundation: ", "links FoundationEssentials: ", "links FoundationInternationalization: ", "links ICU data: icudt", "links ICU: "] {
            #expect(result.output.contains(part), "\(part): \(result.output)")
        }
    }

    /// What swift-argument-parser brought in: FoundationEssentials alone.
    @Test func foundationEssentialsAloneIsNamed() throws {
        let binary = try build("import FoundationEssentials\nprint(Date().timeIntervalSince1970 > 0)\n", staticStdlib: true)
        defer { remove(binary) }
        let result = try check(binary)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("links FoundationEssentials: "), "\(result.output)")
        #expect(!result.output.contains("links Foundation: "), "\(result.output)")
    }

    @Test func foundationLoadedAsASharedLibraryIsNamed() throws {
        let binary = try build("import Foundation\nprint(Date().timeIntervalSince1970 > 0)\n", staticStdlib: false)
        defer { remove(binary) }
        let result = try check(binary)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("loads libFoundation.so"), "\(result.output)")
    }

    /// A binary without Foundation passes; without its symbols nothing can be told.
    @Test func aBinaryWithoutFoundationPassesUnlessStripped() throws {
        let binary = try build("print(CommandLine.arguments.count)\n", staticStdlib: true)
        defer { remove(binary) }
        let result = try check(binary)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("links no Foundation"), "\(result.output)")
        let stripped = binary + ".stripped"
        #expect(try run("/usr/bin/env", ["strip", "-o", stripped, binary]).status == 0)
        let unknown = try check(stripped)
        #expect(unknown.status == 2, "\(unknown.output)")
        #expect(unknown.output.contains("stripped"), "\(unknown.output)")
    }

    /// The exporter as these tests built it (the Swift runtime loaded as shared libraries,
    /// everything of the package linked in).
    @Test func theExporterLinksNoFoundation() throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let exporter = try #require(
            [directory, Self.packageRoot.appendingPathComponent(".build/debug")]
                .map { $0.appendingPathComponent("ftrace_exporter").path }
                .first { FileManager.default.isExecutableFile(atPath: $0) },
            "ftrace_exporter binary not built")
        let result = try check(exporter)
        #expect(result.status == 0, "\(result.output)")
    }
}
