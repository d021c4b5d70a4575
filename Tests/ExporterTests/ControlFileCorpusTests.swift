@testable import Exporter
import Foundation
import HistFormat
import Testing
import TraceFS
import TraceFSTesting

/// The control files the 6.1 corpus captured, read by the code that reads them in the
/// exporter: trigger files (corpus/90), synthetic and dynamic event lists (92, 92b, 97) and
/// the error_log (98).
@Suite struct ControlFileCorpusTests {
    static func capture(_ name: String) throws -> String {
        try String(contentsOf: Fixtures.root.appendingPathComponent("corpus/\(name)"), encoding: .utf8)
    }

    /// A tracefs tree whose sched_switch trigger file is corpus/90: hist triggers among a
    /// traceoff, a stacktrace and an enable_hist trigger, one paused, one filtered.
    static func severalTriggersTree() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("triggers-\(UUID().uuidString)")
        let event = root.appendingPathComponent("events/sched/sched_switch")
        try FileManager.default.createDirectory(at: event, withIntermediateDirectories: true)
        try capture("90-trigger-file-several-triggers.txt").write(to: event.appendingPathComponent("trigger"), atomically: true, encoding: .utf8)
        try Data().write(to: event.appendingPathComponent("hist"))
        return root
    }

    static let triggerSets: [(name: String, command: String)] = [
        ("by_pid", "hist:keys=next_pid:vals=hitcount"),
        ("named", "hist:name=sw:keys=prev_prio"),
        ("filtered", "hist:keys=next_comm if next_prio < 120"),
        ("by_task", "hist:keys=common_pid.execname:vals=hitcount:sort=hitcount.descending:size=256:clock=mono"),
    ]

    static func config(_ sets: ArraySlice<(name: String, command: String)>) throws -> ExporterConfig {
        var yaml = "tracefs: {instance: \"\"}\ntrigger_sets:\n"
        for set in sets {
            yaml += "  - name: \(set.name)\n    triggers:\n      - {event: sched/sched_switch, command: \"\(set.command)\"}\n"
        }
        return try ConfigLoader.load(yaml: yaml, file: "t.yml")
    }

    @Test func histLinesAreFoundAmongOtherTriggers() throws {
        let root = try Self.severalTriggersTree()
        defer { try? FileManager.default.removeItem(at: root) }
        let fs = TraceFS(root: root.path)

        // Every hist line owned: each set is installed, the other triggers are no concern.
        let all = TriggerController(fs: fs, config: try Self.config(Self.triggerSets[...]), logger: Fixtures.quietLogger)
        for set in Self.triggerSets {
            let status = try all.status(of: set.name)
            #expect(status.state == .installed, "\(set.name): \(status.foreignTriggers)")
            #expect(status.triggers.map(\.present) == [true], "\(set.name)")
            #expect(status.foreignTriggers.isEmpty, "\(set.name)")
        }
        let named = try all.status(of: "named").triggers[0]
        #expect(named.paused)
        #expect(named.readBack == "hist:name=sw:keys=prev_prio:vals=hitcount:sort=hitcount:size=2048 [paused]")
        #expect(try all.status(of: "filtered").triggers[0].readBack
                == "hist:keys=next_comm:vals=hitcount:sort=hitcount:size=2048 if next_prio < 120 [active]")
        #expect(try all.status(of: "by_pid").triggers[0].paused == false)

        // One hist line nobody owns: reported as foreign, and only it.
        let three = TriggerController(fs: fs, config: try Self.config(Self.triggerSets.prefix(3)), logger: Fixtures.quietLogger)
        let status = try three.status(of: "by_pid")
        #expect(status.state == .drifted)
        #expect(status.foreignTriggers == ["hist:keys=common_pid.execname:vals=hitcount:sort=hitcount.descending:size=256 [active]"])
    }

    @Test func everyHistLineOfTheCaptureParses() throws {
        let lines = try Self.capture("90-trigger-file-several-triggers.txt").split(separator: "\n").map(String.init)
        let hist = lines.filter { $0.hasPrefix("hist:") }
        #expect(hist.count == 4)
        let infos = try hist.map { try TriggerInfo.parse($0) }
        #expect(infos.map(\.state) == [.active, .paused, .active, .active])
        #expect(infos[2].filter == "next_prio < 120")
        #expect(infos[3].size == 256)
        // The written command with clock=mono is the same trigger: the kernel drops a clock
        // that no common_timestamp uses, and size is not compared.
        #expect(infos[3].identity == (try TriggerInfo.parse(Self.triggerSets[3].command)).identity)
        // The trigger file's parser: every trigger line, the hist ones parsed, comments aside.
        let file = TriggerFile(parsing: lines.joined(separator: "\n") + "\n")
        #expect(file.lines.count == lines.filter { !$0.hasPrefix("#") && !$0.allSatisfy(\.isWhitespace) }.count)
        #expect(file.histLines.compactMap(\.hist) == infos)
        #expect(file.contains(infos[3].identity))
        #expect(TriggerFile(parsing: "# Available triggers:\n# traceon traceoff snapshot\n").lines.isEmpty)
        // The others are no hist triggers.
        for line in lines where !line.hasPrefix("hist:") {
            #expect(throws: HistParseError.self, "\(line)") { try TriggerInfo.parse(line) }
        }
    }

    @Test func syntheticEventNamesFromEitherList() throws {
        let synthetic = try Self.capture("92-synthetic_events-readback.txt")
        let dynamic = try Self.capture("92b-dynamic_events-readback.txt")
        let kprobe = try Self.capture("97-dynamic_events-with-kprobe.txt")
        #expect(SyntheticEventsFile(parsing: synthetic).names == ["wakeup_lat"])
        #expect(DynamicEventsFile(parsing: dynamic).syntheticNames == ["wakeup_lat"])
        #expect(DynamicEventsFile(parsing: dynamic).entries == [.init(kind: "s", group: "synthetic", name: "wakeup_lat")])
        // A kprobe is a dynamic event, not a synthetic one.
        #expect(DynamicEventsFile(parsing: kprobe).syntheticNames.isEmpty)
        #expect(DynamicEventsFile(parsing: kprobe).entries.map(\.kind) == ["p"])
        #expect(DynamicEventsFile(parsing: kprobe + dynamic).syntheticNames == ["wakeup_lat"])
        #expect(SyntheticEventsFile(parsing: "").names.isEmpty)
        #expect(SyntheticEventsFile(parsing: "# comment\n\nftrace_exporter_a\tu64 lat\n").names == ["ftrace_exporter_a"])
    }

    /// The in-memory kernel the exporter's tests run on lists synthetic events in
    /// dynamic_events as 6.1 does (corpus/92b).
    @Test func theFakeKernelListsSyntheticEventsAsTheKernelDoes() throws {
        let fake = FakeKernelTraceFS()
        try fake.append("synthetic_events", "wakeup_lat u64 lat; pid_t pid; int prio; char comm[16]")
        let dynamic = String(decoding: try fake.read("dynamic_events"), as: UTF8.self)
        #expect(dynamic == (try Self.capture("92b-dynamic_events-readback.txt")))
        let synthetic = String(decoding: try fake.read("synthetic_events"), as: UTF8.self)
        #expect(DynamicEventsFile(parsing: dynamic).syntheticNames == SyntheticEventsFile(parsing: synthetic).names)
    }

    /// corpus/98: eight records, hist and synthetic_events errors mixed, carets included.
    @Test func errorLogRecords() throws {
        let text = try Self.capture("98-error_log-final.txt")
        let log = ErrorLogFile(parsing: text)
        let records = log.records
        #expect(records.count == 8)
        #expect(records.map(\.location) == [
            "hist:sched:sched_switch", "hist:kmem:kmalloc", "synthetic_events", "synthetic_events",
            "hist:kmem:kmalloc", "hist:kmem:kmalloc", "hist:kmem:kmalloc", "hist:kmem:kmalloc",
        ])
        #expect(records.map(\.message) == [
            "Couldn't find synthetic event", "Couldn't find field", "Invalid type", "Invalid type", "Invalid sort modifier",
            "Named hist trigger doesn't match existing named trigger (includes variables)", "Hist trigger already exists",
            "Can't clear or continue a nonexistent hist trigger",
        ])
        #expect(records[3].command == "arr_ev unsigned int v[8]; char s[]; u64 x")
        // The caret is where the kernel's err_pos() put it: under the token it names.
        for record in records {
            let caret = try #require(record.caret, "\(record.text)")
            #expect(caret >= 0 && caret <= record.command.utf8.count, "\(record.text)")
        }
        // Each record keeps its three lines, caret and all.
        #expect(records.map(\.text).joined(separator: "\n") + "\n" == text)

        // The record for a write: its own, wherever it sits in the log.
        #expect(log.record(for: "hist:keys=common_stacktrace")?.message == "Couldn't find field")
        #expect(log.record(for: "bad name u64 a")?.location == "synthetic_events")
        #expect(log.record(for: "hist:name=nm:keys=bytes_alloc")?.message.hasPrefix("Named hist trigger") == true)
        // A write the log has no record of: the last record is the best guess.
        #expect(log.record(for: "hist:keys=nothing_like_it") == records.last)
    }
}
