import Foundation
import HistFormat
import Testing
import TraceFS
import TraceFSTesting

private let fixtureRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

private func fixture(_ relativePath: String) throws -> String {
    try String(contentsOf: fixtureRoot.appendingPathComponent(relativePath), encoding: .utf8)
}

/// The errno a call failed with, 0 when it succeeded.
private func errnoOf(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return 0
    } catch let error as TraceFSError {
        if case .system(let e) = error.kind { return e }
        return -1
    } catch {
        return -1
    }
}

/// The kernel's error_log timestamps are local_clock(); only their shape can be compared.
private func maskTimestamps(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return String(line) }
        return "[T]" + line[line.index(after: close)...]
    }.joined(separator: "\n")
}

/// Plain triggers count down as they fire on a real kernel; the fake never fires them.
private func maskCounts(_ text: String) -> String {
    text.replacingOccurrences(of: #"count=\d+"#, with: "count=N", options: .regularExpression)
}

private let emptyTriggerFile =
    "# Available triggers:\n# traceon traceoff snapshot stacktrace enable_event disable_event enable_hist disable_hist hist\n"

extension FakeKernelTraceFS {
    fileprivate func text(_ path: String) throws -> String { String(decoding: try read(path), as: UTF8.self) }

    fileprivate func ensureInstance(for path: String) {
        let parts = path.split(separator: "/")
        if parts.count >= 2 && parts[0] == "instances" && !exists("instances/\(parts[1])") {
            try? makeDirectory("instances/\(parts[1])")
        }
    }
}

/// Replays a capture log (`WRITE[>>]`, `WRITE[>]`, `--- cat`, `MKDIR`, `RMDIR` lines) and
/// collects every place where the fake answers differently from the real kernel.
private struct LogReplay {
    let fake: FakeKernelTraceFS
    /// Steps the capture performed without logging them, run before the line they precede.
    var hooks: [(prefix: String, action: (FakeKernelTraceFS) -> String?)] = []
    var mismatches: [String] = []
    var writes = 0
    var reads = 0

    init(_ fake: FakeKernelTraceFS) { self.fake = fake }

    mutating func run(_ log: String) {
        let lines = log.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            let line = lines[i]
            for hook in hooks where line.hasPrefix(hook.prefix) {
                if let problem = hook.action(fake) { mismatches.append("\(problem) (before: \(line))") }
            }
            if line.hasPrefix("WRITE[>>] ") || line.hasPrefix("WRITE[>] ") {
                var full = line
                while !full.contains("' => rc=") && i + 1 < lines.count {
                    i += 1
                    full += "\n" + lines[i]
                }
                replayWrite(full)
            } else if line.hasPrefix("--- cat ") {
                let path = String(line.dropFirst("--- cat ".count))
                var content: [String] = []
                i += 1
                while i < lines.count && !lines[i].hasPrefix("--- end") {
                    content.append(lines[i])
                    i += 1
                }
                let failed = i < lines.count && !lines[i].hasSuffix("(rc=0)")
                checkRead(path, content: content, failed: failed)
            } else if line.hasPrefix("MKDIR ") || line.hasPrefix("RMDIR ") {
                let rest = line.dropFirst(6)
                let path = String(rest.prefix { $0 != " " })
                let expected: Int32 = rest.contains("rc=0") ? 0 : -1
                let actual = errnoOf {
                    if line.hasPrefix("MKDIR ") { try fake.makeDirectory(path) } else { try fake.removeDirectory(path) }
                }
                if (expected == 0) != (actual == 0) { mismatches.append("\(line): got errno \(actual)") }
            }
            i += 1
        }
    }

    private mutating func replayWrite(_ full: String) {
        let truncating = full.hasPrefix("WRITE[>] ")
        let afterTag = full[full.index(after: full.firstIndex(of: " ")!)...]
        guard let arrow = afterTag.range(of: " <- '"), let end = afterTag.range(of: "' => rc=", options: .backwards) else {
            mismatches.append("unparsable: \(full)")
            return
        }
        let path = String(afterTag[..<arrow.lowerBound])
        let text = String(afterTag[arrow.upperBound..<end.lowerBound])
        let result = afterTag[end.upperBound...]
        var expected: Int32 = 0
        if let e = result.range(of: "errno=") {
            expected = Int32(result[e.upperBound...].prefix { $0.isNumber })!
        }
        let openFailed = result.contains("open-failed")
        writes += 1
        if path == "kprobe_events" {
            if text.hasPrefix("p:kp_open"), let format = try? fixture("formats/kprobes/kp_open/format") {
                fake.addEvent(EventName(system: "kprobes", event: "kp_open"), format: format)
            }
            return
        }
        fake.ensureInstance(for: path)
        if truncating {
            let opened = errnoOf { try fake.truncate(path) }
            if opened != 0 || openFailed {
                if !(openFailed && opened == expected) {
                    mismatches.append("\(full.prefix(160)): open gave \(opened), kernel \(openFailed ? expected : 0)")
                }
                return
            }
        }
        // busybox echo writes the text and its newline in one write().
        let actual = errnoOf { try fake.append(path, text + "\n") }
        if actual != expected { mismatches.append("\(full.prefix(160)): got \(actual), kernel \(expected)") }
    }

    private mutating func checkRead(_ path: String, content: [String], failed: Bool) {
        reads += 1
        fake.ensureInstance(for: path)
        if failed {
            let e = errnoOf { _ = try fake.read(path) }
            if e != ENOENT { mismatches.append("cat \(path): expected ENOENT, got \(e)") }
            return
        }
        let expected = content.map { $0 + "\n" }.joined()
        guard let actual = try? fake.text(path) else {
            mismatches.append("cat \(path): unreadable")
            return
        }
        let isLog = path.hasSuffix("error_log")
        if (isLog ? maskTimestamps(actual) : actual) != (isLog ? maskTimestamps(expected) : expected) {
            mismatches.append("cat \(path):\n--- fake\n\(actual)--- kernel\n\(expected)")
        }
    }
}

/// One corpus case: the writes it made, and the read-backs and hist file it captured.
private struct CorpusCase {
    var writes: [(path: String, line: String)] = []
    var readBacks: [(path: String, lines: [String])] = []
    var capturedHist: String?

    init(_ name: String) throws {
        let prefix = "/sys/kernel/tracing/"
        let lines = try fixture("corpus/\(name).trigger").components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if line.hasPrefix("# captured: cat "), let r = line.range(of: " > ") {
                capturedHist = String(line[line.index(line.startIndex, offsetBy: "# captured: cat ".count)..<r.lowerBound])
                    .replacingOccurrences(of: prefix, with: "")
            } else if line.hasPrefix("# readback of "), let at = line.range(of: " at capture time") {
                let path = String(line[line.index(line.startIndex, offsetBy: "# readback of ".count)..<at.lowerBound])
                    .replacingOccurrences(of: prefix, with: "")
                var expected: [String] = []
                while i + 1 < lines.count && lines[i + 1].hasPrefix("#   ") {
                    i += 1
                    expected.append(String(lines[i].dropFirst(4)))
                }
                readBacks.append((path, expected))
            } else if line.hasPrefix(prefix), let colon = line.range(of: ": ") {
                writes.append((String(line[line.index(line.startIndex, offsetBy: prefix.count)..<colon.lowerBound]),
                               String(line[colon.upperBound...])))
            }
            i += 1
        }
    }

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: fixtureRoot.appendingPathComponent("corpus").path)) ?? []
        return files.filter { $0.hasSuffix(".hist") }.map { String($0.dropLast(5)) }.sorted()
    }
}

/// One block of a captured hist file.
private struct CapturedBlock {
    var triggerInfo: String
    var entries: [String]
    var hits: UInt64
    var dropped: UInt64
}

private func parseHistBlocks(_ text: String) -> [CapturedBlock] {
    var blocks: [CapturedBlock] = []
    var rest = Substring(text)
    let header = "# event histogram\n#\n# trigger info: "
    while let start = rest.range(of: header) {
        rest = rest[start.upperBound...]
        let infoEnd = rest.firstIndex(of: "\n")!
        let info = String(rest[..<infoEnd])
        rest = rest[rest.index(after: infoEnd)...].dropFirst("#\n\n".count)
        let totals = rest.range(of: "\nTotals:\n")!
        var entries: [String] = []
        for line in rest[..<totals.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("{ ") || entries.isEmpty { entries.append(String(line)) } else { entries[entries.count - 1] += "\n" + line }
        }
        rest = rest[totals.upperBound...]
        let numbers = rest.split(separator: "\n").prefix(3).map { UInt64($0.split(separator: " ").last!)! }
        blocks.append(CapturedBlock(triggerInfo: info, entries: entries, hits: numbers[0], dropped: numbers[2]))
    }
    return blocks
}

private func event(_ text: String) -> EventName { EventName(text)! }

@Suite struct FakeKernelTests {
    // MARK: replaying the real 6.1 captures

    /// Every write of the 6.1 control-semantics run, with its errno, and every file read
    /// back in between, error_log included (timestamps aside).
    @Test func replaysTheControlSemanticsLog() throws {
        var replay = LogReplay(FakeKernelTraceFS())
        // The run enabled the synthetic event between these two writes without logging it.
        replay.hooks.append(("WRITE[>>] synthetic_events <- '!lonely' => rc=1", { fake in
            errnoOf { try fake.append("events/synthetic/lonely/enable", "1") } == 0 ? nil : "enable failed"
        }))
        replay.hooks.append(("WRITE[>>] synthetic_events <- '!lonely' => rc=0", { fake in
            errnoOf { try fake.append("events/synthetic/lonely/enable", "0") } == 0 ? nil : "disable failed"
        }))
        replay.hooks.append(("rmdir instance with live triggers rc=1", { fake in
            let e = errnoOf { try fake.removeDirectory("instances/bar") }
            return e == EBUSY ? nil : "rmdir instances/bar gave \(e), kernel EBUSY"
        }))
        replay.run(try fixture("corpus/96-control-semantics-log.txt"))
        #expect(replay.writes > 150)
        #expect(replay.reads > 25)
        #expect(replay.mismatches == [])
    }

    /// The exporter's default configuration as run on 6.1: install in a private instance,
    /// read back, tear down in reverse order, rmdir.
    @Test func replaysTheDefaultConfigurationRun() throws {
        let fake = FakeKernelTraceFS()
        // That TCG guest booted with the top-level clock on global (see WRITES.txt).
        try fake.append("trace_clock", "global")
        var replay = LogReplay(fake)
        replay.run(try fixture("captures/default-config-6.1/WRITES.txt"))
        #expect(replay.writes == 8)
        #expect(replay.reads > 20)
        #expect(replay.mismatches == [])
        #expect(try fake.list("instances") == [])
    }

    @Test func corpusHasCases() {
        #expect(CorpusCase.names.count >= 50)
    }

    /// Each corpus case's writes succeed, the trigger files read back byte for byte as
    /// captured, and with the captured entries put in, the hist file is byte-identical.
    @Test(arguments: CorpusCase.names)
    func replaysCorpusCase(_ name: String) throws {
        var corpus = try CorpusCase(name)
        if name.hasPrefix("17") {
            // Captured while paused; the ":cont" came after the capture.
            corpus.writes.removeLast()
        }
        let fake = FakeKernelTraceFS()
        for (path, line) in corpus.writes {
            if path == "kprobe_events" {
                fake.addEvent(event("kprobes/kp_open"), format: try fixture("formats/kprobes/kp_open/format"))
                continue
            }
            if path.hasPrefix("events/workqueue/") {
                fake.addEvent(event("workqueue/workqueue_queue_work"),
                              format: FakeKernelTraceFS.referenceFormat(for: event("workqueue/workqueue_queue_work"))!)
            }
            fake.ensureInstance(for: path)
            #expect(errnoOf { try fake.append(path, line) } == 0, "\(path): \(line)")
        }
        for (path, lines) in corpus.readBacks {
            let expected = lines.map { $0 + "\n" }.joined()
            #expect(maskCounts(try fake.text(path)) == maskCounts(expected), "\(path)")
        }
        guard let histPath = corpus.capturedHist, !name.hasPrefix("10-") else { return }
        // corpus/10 ends in a snapshot block, which only a real onmax().snapshot() produces.
        let captured = try fixture("corpus/\(name).hist")
        let parts = histPath.split(separator: "/").map(String.init)
        let instance: TraceInstance = parts[0] == "instances" ? .named(parts[1]) : .topLevel
        let eventParts = parts[0] == "instances" ? Array(parts[3...4]) : Array(parts[1...2])
        let histEvent = EventName(system: eventParts[0], event: eventParts[1])
        for block in parseHistBlocks(captured) {
            #expect(fake.setEntries(block.entries, hits: block.hits, dropped: block.dropped, event: histEvent,
                                    instance: instance, matching: block.triggerInfo), "\(block.triggerInfo)")
        }
        #expect(try fake.text(histPath) == captured)
    }

    /// corpus/91: the error_log after the bad writes, carets and all.
    @Test func errorLogMatchesTheCapturedOne() throws {
        let fake = FakeKernelTraceFS()
        for line in try fixture("corpus/91-error_log-after-bad-writes.trigger").components(separatedBy: "\n")
        where !line.hasPrefix("#") && line.contains(" => ") {
            let colon = line.range(of: ": ")!
            let path = String(line[..<colon.lowerBound])
            let arrow = line.range(of: " => ", options: .backwards)!
            let text = String(line[colon.upperBound..<arrow.lowerBound])
            let expected: Int32 = line[arrow.upperBound...].hasPrefix("rc=0")
                ? 0 : Int32(line[line.range(of: "errno=")!.upperBound...].prefix { $0.isNumber })!
            if path == "error_log" {
                try fake.truncate("error_log")
                continue
            }
            #expect(errnoOf { try fake.append(path, text) } == expected, "\(line)")
        }
        #expect(maskTimestamps(try fake.text("error_log"))
                == maskTimestamps(try fixture("corpus/91-error_log-after-bad-writes.txt")))

        // corpus/91b: a bad write in an instance logs to that instance only.
        try fake.makeDirectory("instances/foo")
        #expect(errnoOf { try fake.append("instances/foo/events/kmem/kmalloc/trigger", "hist:keys=nosuchfield") } == EINVAL)
        #expect(maskTimestamps(try fake.text("instances/foo/error_log"))
                == maskTimestamps(try fixture("corpus/91b-instance-error_log.txt")))
    }

    // MARK: control semantics

    /// hist-format.md §9.2, with the teardown attempted in the wrong order first.
    @Test func referenceRecipeEnforcesTeardownOrder() throws {
        let fake = FakeKernelTraceFS()
        let synth = "wakeup_lat u64 lat; pid_t pid; int prio; char comm[16]"
        let ts0 = "hist:keys=pid:ts0=common_timestamp.usecs"
        let onmatch = "hist:keys=next_pid:lat=common_timestamp.usecs-$ts0:onmatch(sched.sched_waking).wakeup_lat($lat,next_pid,next_prio,next_comm)"
        let lat = "hist:keys=lat.log2:vals=hitcount,lat:sort=lat"
        let steps: [(path: String, text: String, errno: Int32)] = [
            ("synthetic_events", synth, 0),
            ("events/sched/sched_waking/trigger", ts0, 0),
            ("events/sched/sched_switch/trigger", onmatch, 0),
            ("events/synthetic/wakeup_lat/trigger", lat, 0),
            // Wrong order: the variables and the synthetic event are still in use.
            ("events/sched/sched_waking/trigger", "!" + ts0, EBUSY),
            ("synthetic_events", "!wakeup_lat", EBUSY),
            ("events/synthetic/wakeup_lat/trigger", "!" + lat, 0),
            ("synthetic_events", "!wakeup_lat", EBUSY),
            ("events/sched/sched_waking/trigger", "!" + ts0, EBUSY),
            ("events/sched/sched_switch/trigger", "!" + onmatch, 0),
            ("events/sched/sched_waking/trigger", "!" + ts0, 0),
            ("synthetic_events", "!wakeup_lat", 0),
        ]
        for step in steps {
            #expect(errnoOf { try fake.append(step.path, step.text) } == step.errno, "\(step.path) <- \(step.text)")
        }
        #expect(try fake.text("synthetic_events") == "")
        #expect(!fake.exists("events/synthetic"))
        #expect(try fake.text("events/sched/sched_waking/trigger") == emptyTriggerFile)
        #expect(try fake.text("events/sched/sched_switch/trigger") == emptyTriggerFile)
        // EBUSY on removal leaves no error_log entry.
        #expect(try fake.text("error_log") == "")
        // The clock a common_timestamp hist set is never restored.
        #expect(try fake.text("trace_clock").contains("[global]"))
    }

    @Test func synthEventReadBackAndFormatsMatchTheKernel() throws {
        let fake = FakeKernelTraceFS()
        try fake.append("synthetic_events", "wakeup_lat u64 lat; pid_t pid; int prio; char comm[16]")
        try fake.append("synthetic_events", "wakeup_lat2 u64 lat; pid_t pid")
        #expect(try fake.text("synthetic_events")
                == (try fixture("corpus/92-synthetic_events-readback.txt")) + "wakeup_lat2\tu64 lat; pid_t pid\n")
        #expect(try fake.text("events/synthetic/wakeup_lat/format") == (try fixture("formats/synthetic/wakeup_lat/format")))
        #expect(try fake.text("events/synthetic/wakeup_lat2/format") == (try fixture("formats/synthetic/wakeup_lat2/format")))
        // Synthetic events are global: every instance has them, with its own trigger file.
        try fake.makeDirectory("instances/x")
        #expect(fake.exists("instances/x/events/synthetic/wakeup_lat2/hist"))
        try fake.append("instances/x/events/synthetic/wakeup_lat2/trigger", "hist:keys=pid")
        #expect(try fake.text("events/synthetic/wakeup_lat2/trigger") == emptyTriggerFile)
        #expect(errnoOf { try fake.append("synthetic_events", "!wakeup_lat2") } == EBUSY)
        #expect(errnoOf { try fake.truncate("synthetic_events") } == EBUSY)
        #expect(try fake.text("synthetic_events").contains("wakeup_lat\t"))
    }

    @Test(arguments: [
        ("wakeup_lat u64 lat", EEXIST, "Event already exists"),
        ("lonely", EINVAL, "Command must be of the form: <name> field[;field] ..."),
        ("bad name u64 a", EINVAL, "Invalid type"),
        ("9lives u64 a", EINVAL, "Illegal name"),
        ("!nosuch", ENOENT, nil),
    ] as [(String, Int32, String?)])
    func synthEventErrors(_ command: String, _ errno: Int32, _ message: String?) throws {
        let fake = FakeKernelTraceFS()
        try fake.append("synthetic_events", "wakeup_lat u64 lat; pid_t pid")
        #expect(errnoOf { try fake.append("synthetic_events", command) } == errno)
        let log = try fake.text("error_log")
        if let message {
            #expect(log.contains("] synthetic_events: error: \(message)\n  Command: \(command)\n"))
        } else {
            #expect(log == "")
        }
        #expect(try fake.text("synthetic_events") == "wakeup_lat\tu64 lat; pid_t pid\n")
    }

    /// Removals that succeed and change nothing (hist-format.md §5.3).
    @Test(arguments: [
        ("hist:keys=bytes_req", "!hist:keys=bytes_alloc"),
        ("hist:keys=bytes_req if bytes_req > 64", "!hist:keys=bytes_req if bytes_req>64"),
        ("hist:keys=bytes_req if bytes_req > 64", "!hist:keys=bytes_req"),
        ("hist:name=nm:keys=bytes_req", "!hist:keys=bytes_req"),
        ("hist:keys=cpu", "!hist:keys=common_cpu"),
        ("hist:keys=common_cpu", "!hist:keys=cpu"),
        ("hist:keys=bytes_req:sort=bytes_req.descending", "!hist:keys=bytes_req"),
        ("hist:keys=bytes_req.buckets=64", "!hist:keys=bytes_req"),
        ("hist:keys=bytes_req:vals=bytes_alloc", "!hist:keys=bytes_req:vals=bytes_alloc.hex"),
    ])
    func silentNoOpRemovals(_ install: String, _ removal: String) throws {
        let fake = FakeKernelTraceFS()
        let trigger = "events/kmem/kmalloc/trigger"
        try fake.append(trigger, install)
        let before = try fake.text(trigger)
        #expect(before != emptyTriggerFile)
        #expect(errnoOf { try fake.append(trigger, removal) } == 0)
        #expect(try fake.text(trigger) == before)
        #expect(try fake.text("error_log") == "")
    }

    /// Removals that do match although the text differs: size, explicit defaults, blanks.
    @Test(arguments: [
        ("hist:keys=call_site:vals=bytes_req,bytes_alloc", "!hist:keys=call_site:vals=hitcount,bytes_req,bytes_alloc:sort=hitcount:size=8192"),
        ("hist:keys=bytes_req:size=100", "  !hist:keys=bytes_req  \n"),
        ("hist:keys=bytes_req:pause", "!hist:keys=bytes_req"),
        ("hist:keys=cpu", "!hist:keys=cpu"),
        ("hist:name=nm:keys=bytes_req", "!hist:name=nm:keys=bytes_req"),
        // The bucket size is not compared, only the modifier.
        ("hist:keys=bytes_req.buckets=64", "!hist:keys=bytes_req.buckets=128"),
    ])
    func matchingRemovals(_ install: String, _ removal: String) throws {
        let fake = FakeKernelTraceFS()
        let trigger = "events/kmem/kmalloc/trigger"
        try fake.append(trigger, install)
        try fake.append(trigger, removal)
        #expect(try fake.text(trigger) == emptyTriggerFile)
        #expect(try fake.text("events/kmem/kmalloc/hist") == "")
    }

    /// The in-memory kernel's error_log reads back through the exporter's parser of the file,
    /// caret included: the two agree on the format the kernel prints.
    @Test func errorLogReadsBackThroughTheParser() throws {
        let fake = FakeKernelTraceFS()
        let command = "hist:keys=call_site:vals=nosuch"
        #expect(errnoOf { try fake.append("events/kmem/kmalloc/trigger", command) } == EINVAL)
        let record = try #require(ErrorLogFile(fake.read("error_log")).record(for: command))
        #expect(record.location == "hist:kmem:kmalloc")
        #expect(record.message == "Couldn't find field")
        #expect(record.command == command)
        let caret = try #require(record.caret)
        #expect(command.utf8.dropFirst(caret).starts(with: "nosuch".utf8), "caret at \(caret)")
    }

    @Test func duplicateIsEEXISTWithItsErrorLogEntry() throws {
        let fake = FakeKernelTraceFS()
        let trigger = "events/kmem/kmalloc/trigger"
        try fake.append(trigger, "hist:keys=call_site:vals=bytes_req,bytes_alloc")
        let duplicate = "hist:keys=call_site:vals=hitcount,bytes_req,bytes_alloc:sort=hitcount:size=8192"
        #expect(errnoOf { try fake.append(trigger, duplicate) } == EEXIST)
        #expect(maskTimestamps(try fake.text("error_log"))
                == "[T] hist:kmem:kmalloc: error: Hist trigger already exists\n  Command: \(duplicate)\n           ^\n")
        // Value order and sort direction make a different trigger.
        try fake.append(trigger, "hist:keys=call_site:vals=bytes_alloc,bytes_req")
        try fake.append(trigger, "hist:keys=call_site:vals=bytes_req,bytes_alloc:sort=hitcount.descending")
        #expect(try fake.text(trigger) == """
            hist:keys=call_site:vals=hitcount,bytes_req,bytes_alloc:sort=hitcount:size=2048 [active]
            hist:keys=call_site:vals=hitcount,bytes_alloc,bytes_req:sort=hitcount:size=2048 [active]
            hist:keys=call_site:vals=hitcount,bytes_req,bytes_alloc:sort=hitcount.descending:size=2048 [active]

            """)
    }

    /// EINVAL cases and what (if anything) they log, per hist-format.md §5.4.
    @Test(arguments: [
        ("hist:keys=nosuchfield", "Couldn't find field", 10),
        ("hist:keys=bytes_req.nosuchmod", "Invalid field modifier", 20),
        ("hist:keys=bytes_req:vals=bytes_alloc:sort=nosuch", "Sort field must be a key or a val", 42),
        ("hist:keys=bytes_req:sort=bytes_req.log2", "Invalid sort modifier", 35),
        ("hist:keys=bytes_req:sort=bytes_req,bytes_alloc,hitcount", "Too many sort fields (Max = 2)", 20),
        ("hist:keys=bytes_req.percent", "Invalid field modifier", 20),
        ("hist:keys=call_site:vals=bytes_req.log2", "Invalid field modifier", 25),
        ("hist:keys=common_stacktrace", "Couldn't find field", 10),
        ("hist:keys=bytes_req:x=", "Empty assignment", 20),
        ("hist:keys=call_site:vals=bytes_req,bytes_alloc,gfp_flags", nil, 0),
        ("hist:keys=call_site,ptr,bytes_req,bytes_alloc", nil, 0),
        ("hist:keys=bytes_req:size=64", nil, 0),
        ("hist:keys=bytes_req:size=262144", nil, 0),
        ("hist:keys=bytes_req:bogus", nil, 0),
        ("hist:vals=bytes_req", nil, 0),
        ("hist:keys=bytes_req if", nil, 0),
        ("hist:keys=bytes_req if bytes_req >", nil, 0),
        ("hist:keys=bytes_req if nosuch > 1", nil, 0),
        ("hist:keys=bytes_req:nohitcount", nil, 0),
        ("hist", nil, 0),
        ("", nil, 0),
        ("nosuchcommand:x", nil, 0),
    ] as [(String, String?, Int)])
    func invalidCommands(_ command: String, _ message: String?, _ position: Int) throws {
        let fake = FakeKernelTraceFS()
        #expect(errnoOf { try fake.append("events/kmem/kmalloc/trigger", command) } == EINVAL)
        let log = maskTimestamps(try fake.text("error_log"))
        if let message {
            #expect(log == "[T] hist:kmem:kmalloc: error: \(message)\n  Command: \(command)\n"
                    + String(repeating: " ", count: 11 + position) + "^\n")
        } else {
            #expect(log == "")
        }
        #expect(try fake.text("events/kmem/kmalloc/trigger") == emptyTriggerFile)
    }

    @Test func variableReferencesResolveInTheSameInstanceOnly() throws {
        let fake = FakeKernelTraceFS()
        try fake.makeDirectory("instances/a")
        try fake.makeDirectory("instances/b")
        try fake.append("synthetic_events", "lat_ev u64 lat")
        try fake.append("instances/a/events/sched/sched_waking/trigger", "hist:keys=pid:ts0=common_timestamp.usecs")
        let onmatch = "hist:keys=next_pid:lat=common_timestamp.usecs-$ts0:onmatch(sched.sched_waking).lat_ev($lat)"
        #expect(errnoOf { try fake.append("instances/b/events/sched/sched_switch/trigger", onmatch) } == EINVAL)
        #expect(try fake.text("instances/b/error_log").contains("error: Couldn't find variable"))
        #expect(try fake.text("instances/a/error_log") == "")
        #expect(errnoOf { try fake.append("instances/a/events/sched/sched_switch/trigger", onmatch) } == 0)
        // A missing synthetic event is only noticed once the trigger is otherwise new.
        let other = "hist:keys=next_prio:l2=common_timestamp.usecs-$ts0:onmatch(sched.sched_waking).nosuch($l2)"
        #expect(errnoOf { try fake.append("instances/a/events/sched/sched_switch/trigger", other) } == EINVAL)
        #expect(try fake.text("instances/a/error_log").contains("error: Couldn't find synthetic event\n  Command: \(other)\n"))
        // Defining the same variable twice on one event is refused, even with :pause.
        #expect(errnoOf { try fake.append("instances/a/events/sched/sched_waking/trigger", "hist:keys=prio:ts0=common_timestamp.usecs") } == EINVAL)
        #expect(try fake.text("instances/a/error_log").contains("error: Variable already defined"))
        #expect(errnoOf { try fake.append("instances/a/events/sched/sched_waking/trigger", "hist:keys=pid:ts0=common_timestamp.usecs:pause") } == EINVAL)
        #expect(try fake.text("instances/a/events/sched/sched_waking/trigger").hasSuffix("[active]\n"))
        // Instances holding variables cannot go; plain hists go with their instance.
        try fake.append("instances/b/events/kmem/kmalloc/trigger", "hist:keys=bytes_req")
        #expect(errnoOf { try fake.removeDirectory("instances/a") } == EBUSY)
        #expect(errnoOf { try fake.removeDirectory("instances/b") } == 0)
        #expect(try fake.list("instances") == ["a"])
        #expect(errnoOf { try fake.append("synthetic_events", "!lat_ev") } == EBUSY)
    }

    @Test func pauseContinueAndClear() throws {
        let fake = FakeKernelTraceFS()
        let trigger = "events/kmem/kmalloc/trigger"
        let hist = "events/kmem/kmalloc/hist"
        let kmalloc = event("kmem/kmalloc")
        #expect(errnoOf { try fake.append(trigger, "hist:keys=gfp_flags:cont") } == ENOENT)
        #expect(errnoOf { try fake.append(trigger, "hist:keys=gfp_flags:clear") } == ENOENT)
        #expect(maskTimestamps(try fake.text("error_log")).components(separatedBy: "Can't clear or continue a nonexistent hist trigger").count == 3)
        try fake.append(trigger, "hist:keys=gfp_flags:pause")
        #expect(try fake.text(trigger) == "hist:keys=gfp_flags:vals=hitcount:sort=hitcount:size=2048 [paused]\n")
        let entries = ["{ gfp_flags:       3264 } hitcount:          7", "{ gfp_flags:       3520 } hitcount:         35"]
        #expect(fake.setEntries(entries, dropped: 2, event: kmalloc, instance: .topLevel, matching: "hist:keys=gfp_flags"))
        #expect(try fake.text(hist).hasSuffix("""
            #\n\n\(entries[0])\n\(entries[1])\n
            Totals:
                Hits: 42
                Entries: 2
                Dropped: 2

            """))
        try fake.append(trigger, "hist:keys=gfp_flags:clear")
        #expect(try fake.text(hist) == """
            # event histogram
            #
            # trigger info: hist:keys=gfp_flags:vals=hitcount:sort=hitcount:size=2048 [paused]
            #


            Totals:
                Hits: 0
                Entries: 0
                Dropped: 0

            """)
        try fake.append(trigger, "hist:keys=gfp_flags:continue")
        #expect(try fake.text(trigger).hasSuffix("[active]\n"))
        try fake.append(trigger, "hist:keys=gfp_flags:pause")
        try fake.append(trigger, "!hist:keys=gfp_flags")
        #expect(try fake.text(hist) == "")
    }

    @Test func namedTriggersShareOneTableAcrossEventsAndInstances() throws {
        let fake = FakeKernelTraceFS()
        try fake.makeDirectory("instances/i1")
        let named = "hist:name=wakehist:keys=pid:vals=hitcount,prio"
        try fake.append("events/sched/sched_waking/trigger", named)
        try fake.append("events/sched/sched_wakeup/trigger", named)
        try fake.append("instances/i1/events/sched/sched_waking/trigger", named)
        #expect(errnoOf { try fake.append("events/sched/sched_waking/trigger", "hist:name=wakehist:keys=prio") } == EINVAL)
        #expect(try fake.text("error_log").contains("Named hist trigger doesn't match existing named trigger (includes variables)\n  Command: hist:name=wakehist:keys=prio\n                ^\n"))
        fake.setEntries(["{ pid:         15 } hitcount:          3  prio:        360"], event: event("sched/sched_wakeup"),
                        instance: .topLevel, matching: named)
        let waking = try fake.text("events/sched/sched_waking/hist")
        #expect(waking.contains("Hits: 3\n"))
        #expect(try fake.text("events/sched/sched_wakeup/hist") == waking)
        #expect(try fake.text("instances/i1/events/sched/sched_waking/hist") == waking)
    }

    @Test func truncatingATriggerFileDropsHistsUnlessReferenced() throws {
        let fake = FakeKernelTraceFS()
        let trigger = "events/sched/sched_switch/trigger"
        try fake.append(trigger, "traceoff:5 if prev_pid == 0")
        try fake.append(trigger, "hist:keys=next_pid")
        try fake.append(trigger, "enable_hist:kmem:kmalloc")
        try fake.truncate(trigger)
        #expect(try fake.text(trigger) == "traceoff:count=5 if prev_pid == 0\n")
        #expect(errnoOf { try fake.append(trigger, "traceon") } == EEXIST)
        try fake.append(trigger, "!traceoff")
        #expect(try fake.text(trigger) == emptyTriggerFile)
    }

    @Test func newlineInsideOneWriteKeepsTheLastKeys() throws {
        let fake = FakeKernelTraceFS()
        try fake.append("events/kmem/kmalloc/trigger", "hist:keys=bytes_req\nhist:keys=bytes_alloc\n")
        #expect(try fake.text("events/kmem/kmalloc/trigger") == "hist:keys=bytes_alloc:vals=hitcount:sort=hitcount:size=2048 [active]\n")
        #expect(errnoOf { try fake.append("events/kmem/kmalloc/trigger", "hist:keys=" + String(repeating: "x", count: 5000)) } == EINVAL)
    }

    @Test func errorLogKeepsEightEntriesAndTruncateClearsIt() throws {
        let fake = FakeKernelTraceFS()
        try fake.makeDirectory("instances/x")
        for n in 0..<10 {
            #expect(errnoOf { try fake.append("events/kmem/kmalloc/trigger", "hist:keys=nosuch\(n)") } == EINVAL)
        }
        let log = try fake.text("error_log")
        #expect(log.components(separatedBy: "error: Couldn't find field").count == 9)
        #expect(!log.contains("nosuch0\n") && !log.contains("nosuch1\n"))
        #expect(log.contains("Command: hist:keys=nosuch2\n") && log.hasSuffix("Command: hist:keys=nosuch9\n                     ^\n"))
        #expect(try fake.text("instances/x/error_log") == "")
        try fake.append("error_log", "\n")
        #expect(try fake.text("error_log") == log)
        try fake.truncate("error_log")
        #expect(try fake.text("error_log") == "")
    }

    @Test func commonTimestampSetsTheInstanceClockForGood() throws {
        let fake = FakeKernelTraceFS()
        try fake.makeDirectory("instances/x")
        try fake.append("instances/x/events/kmem/kmalloc/trigger", "hist:keys=bytes_req:vals=common_timestamp.usecs:clock=mono")
        #expect(try fake.text("instances/x/events/kmem/kmalloc/trigger").contains(":size=2048:clock=mono [active]"))
        try fake.append("instances/x/events/kmem/kmalloc/trigger", "!hist:keys=bytes_req:vals=common_timestamp.usecs")
        #expect(try fake.text("instances/x/trace_clock") == "local global counter uptime perf [mono] mono_raw boot tai x86-tsc\n")
        #expect(try fake.text("trace_clock") == "[local] global counter uptime perf mono mono_raw boot tai x86-tsc\n")
        #expect(errnoOf { try fake.append("events/kmem/kmalloc/trigger", "hist:keys=bytes_req:vals=common_timestamp:clock=sundial") } == EINVAL)
    }

    // MARK: files and features

    @Test func treeIsConsistent() throws {
        let fake = FakeKernelTraceFS()
        try fake.makeDirectory("instances/x")
        try fake.append("synthetic_events", "s1 u64 a")
        var directories = [""]
        var files = 0
        while let directory = directories.popLast() {
            for name in try fake.list(directory) {
                let path = directory.isEmpty ? name : directory + "/" + name
                #expect(fake.exists(path), "\(path)")
                if (try? fake.list(path)) != nil {
                    #expect(errnoOf { _ = try fake.read(path) } == EISDIR)
                    directories.append(path)
                } else {
                    #expect(errnoOf { _ = try fake.read(path) } == 0, "\(path)")
                    files += 1
                }
            }
        }
        #expect(files > 100)
        #expect(try fake.list("") == ["README", "dynamic_events", "error_log", "events", "instances", "kprobe_events", "synthetic_events", "trace_clock"])
        #expect(try fake.list("instances/x") == ["error_log", "events", "trace_clock"])
        #expect(try fake.list("events/kmem/kmalloc") == ["enable", "filter", "format", "hist", "id", "trigger"])
        #expect(errnoOf { _ = try fake.read("events/kmem/nosuch/trigger") } == ENOENT)
        #expect(errnoOf { _ = try fake.list("events/kmem/kmalloc/trigger") } == ENOTDIR)
        #expect(errnoOf { try fake.makeDirectory("instances/x") } == EEXIST)
        #expect(errnoOf { try fake.removeDirectory("instances/nosuch") } == ENOENT)
        #expect(errnoOf { try fake.append("events/kmem/kmalloc/hist", "x") } == EINVAL)
        #expect(fake.instances() == [.named("x")])
        #expect(try fake.events(in: .named("x")).count == FakeKernelTraceFS.defaultEvents.count + 1)
        #expect(try fake.readFormat(event("sched/sched_switch"), in: .named("x")).field(named: "prev_state")?.isSigned == true)
        #expect(try fake.text("events/sched/sched_switch/format") == (try fixture("formats/sched/sched_switch/format")))
        #expect(try fake.text("events/sched/sched_switch/id") == "314\n")
        #expect(try fake.text("README") == (try fixture("corpus/95-README.txt")))
        let probed = fake.features()
        #expect(probed.histTriggers && probed.syntheticEvents && probed.errorLog && probed.linearBuckets && !probed.noHitcount)
    }

    @Test func enableFileShowsSoftModeWhileTriggersExist() throws {
        let fake = FakeKernelTraceFS()
        #expect(try fake.text("events/kmem/kmalloc/enable") == "0\n")
        try fake.append("events/kmem/kmalloc/trigger", "hist:keys=bytes_req")
        #expect(try fake.text("events/kmem/kmalloc/enable") == "0*\n")
        try fake.append("events/kmem/kmalloc/enable", "1")
        #expect(try fake.text("events/kmem/kmalloc/enable") == "1*\n")
    }

    @Test func withoutHistTriggers() throws {
        let fake = FakeKernelTraceFS(features: .noHistTriggers)
        #expect(!fake.exists("events/sched/sched_switch/hist"))
        #expect(!fake.exists("synthetic_events"))
        #expect(try fake.list("events/sched/sched_switch") == ["enable", "filter", "format", "id", "trigger"])
        #expect(try fake.text("events/sched/sched_switch/trigger")
                == (try fixture("tracefs/no-hist-triggers/events/sched/sched_switch/trigger")))
        #expect(try fake.text("README") == (try fixture("tracefs/no-hist-triggers/README")))
        #expect(errnoOf { try fake.append("events/sched/sched_switch/trigger", "hist:keys=next_pid") } == EINVAL)
        #expect(errnoOf { try fake.append("events/sched/sched_switch/trigger", "enable_hist:kmem:kmalloc") } == EINVAL)
        #expect(errnoOf { try fake.append("events/sched/sched_switch/trigger", "traceoff") } == 0)
        #expect(try fake.text("error_log") == "")
        let probed = fake.features()
        #expect(!probed.histTriggers && !probed.syntheticEvents && probed.errorLog)

        let noLog = FakeKernelTraceFS(features: .init(errorLog: false))
        #expect(!noLog.exists("error_log"))
        #expect(errnoOf { try noLog.append("events/kmem/kmalloc/trigger", "hist:keys=nosuch") } == EINVAL)
        #expect(!(try noLog.text("README")).contains("error_log\t"))
    }

    @Test func unknownEventsGetCommonFieldsAndAddEventReplacesFormats() throws {
        let kprobe = event("kprobes/kp_open")
        let fake = FakeKernelTraceFS(events: [event("sched/sched_switch"), kprobe])
        #expect(try fake.list("events") == ["kprobes", "sched"])
        #expect(errnoOf { try fake.append("events/kprobes/kp_open/trigger", "hist:keys=fname") } == EINVAL)
        fake.addEvent(kprobe, format: try fixture("formats/kprobes/kp_open/format"))
        #expect(errnoOf { try fake.append("events/kprobes/kp_open/trigger", "hist:keys=fname") } == 0)
    }

    // MARK: test control

    @Test func faultInjectionAndTheWriteLog() throws {
        let fake = FakeKernelTraceFS()
        let trigger = "events/kmem/kmalloc/trigger"
        fake.failNext(trigger, with: EIO, errorLog: "Injected failure")
        #expect(errnoOf { try fake.append(trigger, "hist:keys=bytes_req") } == EIO)
        #expect(maskTimestamps(try fake.text("error_log"))
                == "[T] hist:kmem:kmalloc: error: Injected failure\n  Command: hist:keys=bytes_req\n           ^\n")
        #expect(errnoOf { try fake.append(trigger, "hist:keys=bytes_req") } == 0)
        #expect(errnoOf { try fake.append(trigger, "hist:keys=bytes_req") } == EEXIST)
        #expect(fake.writes.map(\.result) == [EIO, 0, EEXIST])
        #expect(fake.writes.allSatisfy { $0.path == trigger && $0.text == "hist:keys=bytes_req" })

        fake.failAll("events/kmem/kmalloc/hist", with: EACCES)
        #expect(errnoOf { _ = try fake.read("events/kmem/kmalloc/hist") } == EACCES)
        #expect(errnoOf { _ = try fake.read("events/kmem/kmalloc/hist") } == EACCES)
        fake.failAll("events/kmem/kmalloc/hist", with: nil)
        #expect(errnoOf { _ = try fake.read("events/kmem/kmalloc/hist") } == 0)

        fake.failNext("instances/x", with: ENOMEM)
        #expect(errnoOf { try fake.makeDirectory("instances/x") } == ENOMEM)
        #expect(errnoOf { try fake.makeDirectory("instances/x") } == 0)
        fake.failNext("instances/x", with: EBUSY)
        #expect(errnoOf { try fake.removeDirectory("instances/x") } == EBUSY)
        fake.failNext("error_log", with: EPERM)
        #expect(errnoOf { try fake.truncate("error_log") } == EPERM)
        fake.clearWrites()
        #expect(fake.writes.isEmpty)
    }

    @Test func setEntriesFindsTriggersByCommandOrReadBack() throws {
        let fake = FakeKernelTraceFS()
        let kmalloc = event("kmem/kmalloc")
        try fake.append("events/kmem/kmalloc/trigger", "hist:keys=bytes_alloc.log2:sort=bytes_alloc if bytes_req > 8")
        let readBack = "hist:keys=bytes_alloc.log2:vals=hitcount:sort=bytes_alloc.log2:size=2048 if bytes_req > 8 [active]"
        #expect(fake.setEntries(["{ bytes_alloc: ~ 2^5  } hitcount:          4"], event: kmalloc, instance: .topLevel, matching: readBack))
        #expect(fake.setEntries(["{ bytes_alloc: ~ 2^5  } hitcount:          5"], event: kmalloc, instance: .topLevel,
                                matching: "hist:keys=bytes_alloc.log2:sort=bytes_alloc if bytes_req > 8"))
        #expect(try fake.text("events/kmem/kmalloc/hist").contains("    Hits: 5\n    Entries: 1\n"))
        #expect(!fake.setEntries([], event: kmalloc, instance: .topLevel, matching: "hist:keys=bytes_alloc.log2"))
        #expect(!fake.setEntries([], event: kmalloc, instance: .named("nosuch"), matching: readBack))
    }

    @Test func concurrentUseIsSerialized() async throws {
        let fake = FakeKernelTraceFS()
        await withTaskGroup(of: Void.self) { group in
            for n in 0..<16 {
                group.addTask {
                    let trigger = "events/kmem/kmalloc/trigger"
                    _ = try? fake.append(trigger, "hist:keys=bytes_req:size=\(128 << (n % 4))")
                    _ = try? fake.read(trigger)
                    _ = try? fake.read("events/kmem/kmalloc/hist")
                }
            }
        }
        #expect(fake.writes.count == 16)
        #expect(fake.writes.filter { $0.result == 0 }.count == 1)
        #expect(fake.writes.filter { $0.result == EEXIST }.count == 15)
    }
}
