import Exporter
@testable import ExporterWeb
import Foundation
import HTTPServer
import Testing
import TestKit
import TraceFS
import TraceFSTesting

/// The table list and the stacks endpoint on a live loopback server, over the in-memory kernel
/// holding two tables someone else put on sched_switch: one keyed by stack, one not.
@Suite("Stack tables over HTTP (live)", .serialized)
struct StackRoutesTests {
    static let auth = "Authorization: Bearer \(WebApplicationTests.token)\r\n"
    static let switchEvent = EventName(system: "sched", event: "sched_switch")
    static let stackTrigger = "hist:keys=stacktrace:vals=hitcount,prev_prio"
    static let pidTrigger = "hist:keys=prev_pid"

    static let stackEntries = [
        """
        { stacktrace:
                 __schedule+0x4f8/0xa00
                 schedule_idle+0x26/0x40
                 do_idle+0x166/0x2b0
                 cpu_startup_entry+0x26/0x30
        } hitcount:         67  prev_prio:        8040
        """,
        """
        { stacktrace:
                 __schedule+0x4f8/0xa00
                 schedule+0x5a/0xd0
                 worker_thread+0xb9/0x3c0 [my_mod]
                 kthread+0xda/0x100
        } hitcount:          5  prev_prio:         600
        """,
        """
        { stacktrace:
                 __schedule+0x4f8/0xa00
                 schedule+0x5a/0xd0
                 worker_thread+0xc2/0x3c0 [my_mod]
                 kthread+0xda/0x100
        } hitcount:          2  prev_prio:         240
        """,
    ]

    struct Live {
        let fs: FakeKernelTraceFS
        let app: WebApplication
        let refresher: Refresher
        let server: HTTPServer
        var port: UInt16 { server.port }
    }

    static func kernel() throws -> FakeKernelTraceFS {
        let fs = FakeKernelTraceFS()
        try fs.append("events/sched/sched_switch/trigger", stackTrigger)
        try fs.append("events/sched/sched_switch/trigger", pidTrigger)
        #expect(fs.setEntries(stackEntries, event: switchEvent, instance: .topLevel, matching: stackTrigger))
        #expect(fs.setEntries(["{ prev_pid:          1 } hitcount:          4"], event: switchEvent, instance: .topLevel, matching: pidTrigger))
        return fs
    }

    static func start(_ fs: FakeKernelTraceFS) throws -> Live {
        let a = try WebApplicationTests().make(fs: fs)
        a.refresher.refreshSharing()
        var configuration = HTTPServerConfiguration(address: "127.0.0.1", port: 0, threadPoolSize: 2)
        configuration.errorLog = { _ in }
        let router = a.router
        let server = HTTPServer(configuration: configuration, replying: { router.reply(to: $0) })
        try server.start()
        return Live(fs: fs, app: a.app, refresher: a.refresher, server: server)
    }

    static func stop(_ live: Live) {
        live.server.stop()
        live.app.stopActions()
    }

    /// The listed tables as JSON objects.
    static func tables(_ live: Live) throws -> [[String: Any]] {
        let r = try get(port: live.port, "/api/v1/tables", extraHeaders: auth)
        #expect(r.status == 200, "\(r.text)")
        #expect(r.header("Content-Type") == "application/json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        return try #require(json["tables"] as? [[String: Any]])
    }

    static func id(_ live: Live, trigger: String) throws -> String {
        try #require(try tables(live).first { ($0["trigger"] as? String)?.hasPrefix(trigger) == true }?["id"] as? String)
    }

    @Test func withoutTheTokenBothRoutesAnswer401() throws {
        let live = try Self.start(try Self.kernel())
        defer { Self.stop(live) }
        let id = try Self.id(live, trigger: Self.stackTrigger)
        for path in ["/api/v1/tables", "/api/v1/tables/\(id)/stacks", "/api/v1/tables/\(id)/stacks?format=pprof"] {
            let bare = try get(port: live.port, path)
            #expect(bare.status == 401, "\(path)")
            #expect(bare.header("WWW-Authenticate") != nil)
            #expect(try get(port: live.port, path, extraHeaders: "Authorization: Bearer wrong\r\n").status == 401)
        }
    }

    @Test func theListNamesEveryTableWithAStableUniqueID() throws {
        let fs = try Self.kernel()
        let live = try Self.start(fs)
        let tables = try Self.tables(live)
        Self.stop(live)
        let ours = tables.filter { $0["event"] as? String == "sched/sched_switch" && $0["instance"] as? String == "" }
        #expect(ours.count == 2)
        let stack = try #require(ours.first { ($0["trigger"] as? String)?.hasPrefix(Self.stackTrigger) == true })
        #expect(stack["has_stack"] as? Bool == true)
        #expect(stack["stack_key"] as? String == "stacktrace")
        #expect(stack["values"] as? [String] == ["prev_prio"])
        #expect(stack["entries"] as? Int == 3)
        #expect(stack["trigger_set"] is NSNull)
        #expect(stack["stacks"] as? String == "/api/v1/tables/\(stack["id"]!)/stacks")
        #expect((stack["read_at"] as? String)?.hasSuffix("Z") == true, "\(stack["read_at"] ?? "none")")
        let pid = try #require(ours.first { ($0["trigger"] as? String)?.hasPrefix(Self.pidTrigger) == true })
        #expect(pid["has_stack"] as? Bool == false)
        #expect(pid["stack_key"] is NSNull)
        let ids = tables.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == tables.count, "unique")

        // Another exporter over the same kernel (a restart) names the tables alike.
        let again = try Self.start(fs)
        defer { Self.stop(again) }
        #expect(try Self.tables(again).compactMap { $0["id"] as? String } == ids)
    }

    @Test func theFlameGraphIsAnSVGOfTheLatestRefresh() throws {
        let live = try Self.start(try Self.kernel())
        defer { Self.stop(live) }
        let id = try Self.id(live, trigger: Self.stackTrigger)
        // Entries that arrive after a refresh are in the graph from the next one on.
        var entries = Self.stackEntries
        entries.append("{ stacktrace:\n         __schedule+0x4f8/0xa00\n         late_arrival+0x1/0x10\n} hitcount:          1  prev_prio:   120")
        #expect(live.fs.setEntries(entries, event: Self.switchEvent, instance: .topLevel, matching: Self.stackTrigger))
        let early = try get(port: live.port, "/api/v1/tables/\(id)/stacks", extraHeaders: Self.auth)
        #expect(early.status == 200, "\(early.text)")
        #expect(!early.text.contains("late_arrival"))
        live.refresher.refreshSharing()
        let r = try get(port: live.port, "/api/v1/tables/\(id)/stacks", extraHeaders: Self.auth)
        #expect(r.status == 200, "\(r.text)")
        #expect(r.header("Content-Type") == "image/svg+xml")
        #expect(r.header("Content-Security-Policy")?.hasPrefix("default-src 'none'") == true)
        #expect(r.text.hasPrefix("<?xml"))
        #expect(r.text.contains("<title>all\n75 samples, 100.00%</title>"))
        #expect(r.text.contains("<title>worker_thread [my_mod]\n7 samples, 9.33%</title>"), "call sites merge, the module stays")
        #expect(r.text.contains("<title>late_arrival\n"))
        #expect(r.text.contains("sched/sched_switch hist:keys=stacktrace"))
    }

    @Test func foldedTextAndAValueColumn() throws {
        let live = try Self.start(try Self.kernel())
        defer { Self.stop(live) }
        let id = try Self.id(live, trigger: Self.stackTrigger)
        let folded = try get(port: live.port, "/api/v1/tables/\(id)/stacks?format=folded", extraHeaders: Self.auth)
        #expect(folded.status == 200)
        #expect(folded.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(folded.text == """
            cpu_startup_entry;do_idle;schedule_idle;__schedule 67
            kthread;worker_thread [my_mod];schedule;__schedule 7

            """)
        let summed = try get(port: live.port, "/api/v1/tables/\(id)/stacks?format=folded&value=prev_prio", extraHeaders: Self.auth)
        #expect(summed.status == 200, "\(summed.text)")
        #expect(summed.text.contains("kthread;worker_thread [my_mod];schedule;__schedule 840\n"))
        // Compressed when the client allows it.
        let gzip = try get(port: live.port, "/api/v1/tables/\(id)/stacks?format=folded", extraHeaders: Self.auth + "Accept-Encoding: gzip\r\n")
        #expect(gzip.header("Content-Encoding") == "gzip")
        #expect(gzip.body.starts(with: [0x1f, 0x8b]))
    }

    @Test func pprofIsAGzippedProfileFile() throws {
        let live = try Self.start(try Self.kernel())
        defer { Self.stop(live) }
        let id = try Self.id(live, trigger: Self.stackTrigger)
        let r = try get(port: live.port, "/api/v1/tables/\(id)/stacks?format=pprof&value=prev_prio&unit=nanoseconds", extraHeaders: Self.auth)
        #expect(r.status == 200, "\(r.text)")
        #expect(r.header("Content-Type") == "application/octet-stream")
        #expect(r.header("Content-Disposition") == "attachment; filename=\"profile.pb.gz\"")
        #expect(r.header("Content-Encoding") == nil, "the file is gzip, not the transfer")
        #expect(r.body.starts(with: [0x1f, 0x8b]))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("profile-\(UUID().uuidString).pb.gz")
        try Data(r.body).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let unzipped = try runTool("/bin/gzip", ["-dc", file.path])
        let strings = String(decoding: unzipped, as: UTF8.self)
        for name in ["samples", "count", "prev_prio", "nanoseconds", "__schedule", "worker_thread [my_mod]", "my_mod"] {
            #expect(strings.contains(name), "\(name) in the string table")
        }
    }

    @Test func refusals() throws {
        let live = try Self.start(try Self.kernel())
        defer { Self.stop(live) }
        let stack = try Self.id(live, trigger: Self.stackTrigger)
        let pid = try Self.id(live, trigger: Self.pidTrigger)
        let cases: [(String, Int, String)] = [
            ("/api/v1/tables/0000000-00000000/stacks", 404, "no hist table with id"),
            ("/api/v1/tables/\(pid)/stacks", 422, "has no stack key"),
            ("/api/v1/tables/\(stack)/stacks?format=png", 400, "format must be svg, folded or pprof"),
            ("/api/v1/tables/\(stack)/stacks?value=delay", 422, "it sums prev_prio"),
            ("/api/v1/tables/\(stack)/stacks?unit=furlongs", 400, "unit must be one of"),
            ("/api/v1/tables/\(stack)/stacks?formt=svg", 400, "got 'formt'"),
            ("/api/v1/tables/\(stack)/stacks?format=svg&format=folded", 400, "given twice"),
        ]
        for (path, status, message) in cases {
            let r = try get(port: live.port, path, extraHeaders: Self.auth)
            #expect(r.status == status, "\(path): \(r.text)")
            #expect(r.header("Content-Type") == "application/json", "\(path)")
            #expect(r.text.contains(message), "\(path): \(r.text)")
        }
        // A table removed is served until the refresh that finds it gone.
        try live.fs.append("events/sched/sched_switch/trigger", "!" + Self.stackTrigger)
        #expect(try get(port: live.port, "/api/v1/tables/\(stack)/stacks", extraHeaders: Self.auth).status == 200)
        live.refresher.refreshSharing()
        let gone = try get(port: live.port, "/api/v1/tables/\(stack)/stacks", extraHeaders: Self.auth)
        #expect(gone.status == 404)
        #expect(gone.text.contains("no hist table with id"))
    }

    @Test func theLandingPageLinksEachStackTablesFlameGraph() throws {
        let live = try Self.start(try Self.kernel())
        defer { Self.stop(live) }
        let stack = try Self.id(live, trigger: Self.stackTrigger)
        let pid = try Self.id(live, trigger: Self.pidTrigger)
        let page = try get(port: live.port, "/").text
        #expect(page.contains("<a href=\"/api/v1/tables/\(stack)/stacks?format=svg\">flame graph</a>"))
        #expect(page.contains("/api/v1/tables/\(stack)/stacks?format=pprof"))
        #expect(!page.contains("/api/v1/tables/\(pid)/stacks"))
        #expect(!live.app.router(includeAdmin: false).handle(HTTPRequest(method: "GET", path: "/")).bodyText.contains("Stack tables"))
    }
}

/// Runs a tool and returns its standard output.
func runTool(_ executable: String, _ arguments: [String]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return [UInt8](data)
}

extension HTTPResponse {
    var bodyText: String {
        switch body {
        case .empty: return ""
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .shared(let s): return String(decoding: s.bytes, as: UTF8.self)
        }
    }
}
