import Foundation
import Testing
import TestKit

/// The flame-graph endpoint against stack tables the kernel filled: every format of every stack
/// table of the off-CPU presets, the pprof profile decoded by protoc against pprof's own
/// `profile.proto`, the SVG rendered by headless Chromium.
extension Scenario {
    func stackTablesAsFlameGraphs() throws {
        let listing = try exporter.admin("GET", "/api/v1/tables")
        check(listing.code == 200, "GET /api/v1/tables answers 200")
        let tables = (listing.json["tables"] as? [[String: Any]]) ?? []
        let wanted = vm.kernel == "6.1" ? ["offcpu_stacks"] : ["offcpu_stacks", "offcpu_time_stacks"]
        for set in wanted {
            guard let table = tables.first(where: { $0["trigger_set"] as? String == set && $0["has_stack"] as? Bool == true }),
                  let id = table["id"] as? String
            else {
                check(false, "the tables list the stack table of \(set)")
                continue
            }
            check((table["entries"] as? Int ?? 0) > 0, "\(set)'s stack table has entries (\(table["entries"] ?? "?"))")
            let value = set == "offcpu_time_stacks" ? "&value=delta&unit=microseconds" : ""
            let dir = vm.work.appendingPathComponent("stacks-\(set)")
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)

            let folded = try fetch(id, "folded\(value)", to: dir.appendingPathComponent("stacks.folded"))
            let lines = String(decoding: folded, as: UTF8.self).split(separator: "\n")
            check(!lines.isEmpty && lines.allSatisfy { $0.split(separator: " ").last.map { UInt64($0) != nil } == true }
                  && lines.contains { $0.hasSuffix(" 0") == false && $0.contains(";__schedule ") },
                  "\(set): folded stacks are 'root;...;__schedule N' lines (\(lines.count))")
            check(!lines.contains { $0.contains("+0x") }, "\(set): symbol offsets are dropped for merging")

            let pprof = try fetch(id, "pprof\(value)", to: dir.appendingPathComponent("profile.pb.gz"))
            let decoded = try decodePprof(pprof, in: dir)
            check(decoded.contains("string_table: \"__schedule\"") && decoded.contains("sample {"),
                  "\(set): protoc decodes the pprof profile against profile.proto, with __schedule among its functions")

            let svg = try fetch(id, "svg\(value)", to: dir.appendingPathComponent("flame.svg"))
            let dom = try renderedDOM(of: dir.appendingPathComponent("flame.svg"), svgBytes: svg.count, in: dir)
            check(dom.contains("<title>__schedule"), "\(set): Chromium renders the flame graph, frames titled by name")
        }
    }

    /// One format of a table's stacks, kept in the work folder for a person to look at.
    private func fetch(_ id: String, _ query: String, to file: URL) throws -> Data {
        let answer = try curl(["-H", "Authorization: Bearer \(exporter.token)", "-o", file.path,
                               "\(exporter.base)/api/v1/tables/\(id)/stacks?format=\(query)"], maxTime: exporter.maxTime)
        check(answer.httpCode == 200,
              "GET /api/v1/tables/\(id)/stacks?format=\(query) answers 200 (\(answer.httpCode), curl \(answer.exitCode) \(answer.stderr.prefix(200)))")
        return (try? Data(contentsOf: file)) ?? Data()
    }

    private func decodePprof(_ gzipped: Data, in dir: URL) throws -> String {
        let raw = dir.appendingPathComponent("profile.pb")
        let gunzip = try tool("/bin/gzip", ["-dc", dir.appendingPathComponent("profile.pb.gz").path])
        try gunzip.out.write(to: raw)
        let proto = Repository.root.appendingPathComponent("Tests/Fixtures/pprof")
        let decoded = try tool(toolPath("protoc"), ["--decode=perftools.profiles.Profile", "--proto_path=\(proto.path)", "profile.proto"], input: raw)
        check(decoded.status == 0, "protoc decodes the profile (\(decoded.err.prefix(300)))")
        return String(decoding: decoded.out, as: UTF8.self)
    }

    /// The DOM after the flame graph's script ran, and a screenshot beside the SVG.
    private func renderedDOM(of svg: URL, svgBytes: Int, in dir: URL) throws -> String {
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(dir.appendingPathComponent("chromium").path)"]
        let shot = dir.appendingPathComponent("flame.png")
        let screenshot = try tool(toolPath("chromium"), flags + ["--screenshot=\(shot.path)", "--window-size=1200,800", svg.absoluteString])
        let png = (try? Data(contentsOf: shot)) ?? Data()
        check(screenshot.status == 0 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000,
              "Chromium takes a screenshot of the flame graph (\(png.count) bytes, \(svgBytes) bytes of SVG)")
        let dump = try tool(toolPath("chromium"), flags + ["--dump-dom", svg.absoluteString])
        return String(decoding: dump.out, as: UTF8.self)
    }

    private func toolPath(_ name: String) -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return "/usr/bin/\(name)"
    }

    private func tool(_ executable: String, _ arguments: [String], input: URL? = nil) throws -> (out: Data, err: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = try input.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: killer)
        defer { killer.cancel() }
        // protoc's and Chromium's standard error stays far below a pipe's buffer.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (outData, String(decoding: errData, as: UTF8.self), process.terminationStatus)
    }
}
