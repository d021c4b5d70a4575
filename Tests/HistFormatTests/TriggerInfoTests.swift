import Testing
@testable import HistFormat

@Suite struct TriggerInfoTests {
    @Test func readBackWithEverything() throws {
        let info = try TriggerInfo.parse(
            "hist:keys=next_pid:vals=hitcount:wakeup_lat=common_timestamp.usecs-$ts0:sort=hitcount:size=2048:clock=global:onmax($wakeup_lat).save(next_comm,prev_pid,prev_prio,prev_comm) [active]")
        #expect(info.keys == [FieldSpec(name: "next_pid")])
        #expect(info.values == [FieldSpec(name: "hitcount")])
        #expect(info.variables == [VariableDefinition(name: "wakeup_lat", expression: "common_timestamp.usecs-$ts0")])
        #expect(info.size == 2048)
        #expect(info.clock == "global")
        #expect(info.actions == ["onmax($wakeup_lat).save(next_comm,prev_pid,prev_prio,prev_comm)"])
        #expect(info.savedFieldNames == ["next_comm", "prev_pid", "prev_prio", "prev_comm"])
        #expect(info.state == .active)
        #expect(!info.text.hasSuffix("]"))
    }

    @Test func modifiersAndExpressions() throws {
        let info = try TriggerInfo.parse("hist:keys=call_site.sym-offset,lat.buckets=10,bytes_alloc-bytes_req:vals=hitcount,bytes_req.percent:sort=bytes_alloc.graph.descending")
        #expect(info.keys[0] == FieldSpec(name: "call_site", modifiers: ["sym-offset"]))
        #expect(info.keys[0].keyKind == .symbolOffset)
        #expect(info.keys[1].keyKind == .buckets(10))
        #expect(info.keys[2] == FieldSpec(name: "bytes_alloc-bytes_req"))
        #expect(info.sort[0] == FieldSpec(name: "bytes_alloc", modifiers: ["graph", "descending"]))
        #expect(info.values[1].has("percent"))
    }

    @Test func filterAndPausedState() throws {
        let info = try TriggerInfo.parse("hist:name=sw:keys=next_comm:vals=hitcount:sort=hitcount:size=2048 if next_prio < 120 [paused]")
        #expect(info.name == "sw")
        #expect(info.filter == "next_prio < 120")
        #expect(info.state == .paused)
    }

    @Test func onmatchActionKeepsItsDotsAndCommas() throws {
        let info = try TriggerInfo.parse("hist:keys=next_pid:lat=common_timestamp.usecs-$ts0:onmatch(sched.sched_waking).wakeup_lat($lat,next_pid,next_prio,next_comm)")
        #expect(info.actions == ["onmatch(sched.sched_waking).wakeup_lat($lat,next_pid,next_prio,next_comm)"])
        #expect(info.variables.count == 1)
    }

    @Test func writtenAndReadBackAreTheSameTrigger() throws {
        let pairs: [(String, String)] = [
            ("hist:keys=lat.log2:vals=hitcount,lat:sort=lat", "hist:keys=lat.log2:vals=hitcount,lat:sort=lat:size=2048 [active]"),
            ("hist:keys=lat.buckets=10:sort=lat", "hist:keys=lat.buckets=10:vals=hitcount:sort=lat.buckets=10:size=2048 [active]"),
            ("hist:keys=cpu:vals=hitcount,prev_prio", "hist:keys=common_cpu:vals=hitcount,prev_prio:sort=hitcount:size=2048 [active]"),
            ("hist:keys=common_cpu", "hist:keys=common_cpucommon_cpu:vals=hitcount:sort=hitcount:size=2048 [active]"),
            ("hist:keys=pid:ts0=common_timestamp.usecs", "hist:keys=pid:vals=hitcount:ts0=common_timestamp.usecs:sort=hitcount:size=2048:clock=global [active]"),
            ("hist:keys=next_comm if next_prio < 120", "hist:keys=next_comm:vals=hitcount:sort=hitcount:size=2048 if next_prio < 120 [active]"),
            ("hist:keys=call_site:vals=bytes_req:size=100", "hist:keys=call_site:vals=hitcount,bytes_req:sort=hitcount:size=128 [active]"),
        ]
        for (written, readBack) in pairs {
            #expect(try TriggerInfo.parse(written).identity == TriggerInfo.parse(readBack).identity, "\(written)")
        }
    }

    @Test func spacesBeforeTheStateSuffixAreNoPartOfTheTrigger() throws {
        let padded = try TriggerInfo.parse("hist:keys=pid:vals=hitcount  [active]")
        #expect(padded.text == "hist:keys=pid:vals=hitcount")
        #expect(padded.values == [FieldSpec(name: "hitcount")])
        #expect(padded.state == .active)
        #expect(padded.identity == (try TriggerInfo.parse("hist:keys=pid")).identity)
        #expect(try TriggerInfo.parse(padded.text) == TriggerInfo.parse("hist:keys=pid:vals=hitcount"))
        for text in ["hist:key=  [active]", "hist:key=\n [active]", "hist:key= \t [paused]"] {
            #expect(throws: HistParseError(.invalidTriggerInfo("empty keys"), line: 1, column: 1)) { try TriggerInfo.parse(text) }
        }
    }

    @Test func differentTriggersDiffer() throws {
        let a = try TriggerInfo.parse("hist:keys=call_site:vals=bytes_req,bytes_alloc")
        #expect(a.identity != (try TriggerInfo.parse("hist:keys=call_site:vals=bytes_alloc,bytes_req")).identity)
        #expect(a.identity != (try TriggerInfo.parse("hist:name=x:keys=call_site:vals=bytes_req,bytes_alloc")).identity)
        #expect(a.identity != (try TriggerInfo.parse("hist:keys=call_site:vals=bytes_req,bytes_alloc if bytes_req>64")).identity)
        #expect(a.identity != (try TriggerInfo.parse("hist:keys=call_site.sym:vals=bytes_req,bytes_alloc")).identity)
    }

    @Test(arguments: [
        ("keys=a", "does not start with 'hist:'"),
        ("hist:vals=a", "no keys"),
        ("hist:keys=", "empty keys"),
        ("hist:keys=a:size=big", "size 'big' is not a positive number"),
        ("hist:keys=a:frobnicate", "unknown parameter 'frobnicate'"),
        ("hist:keys=a if ", "'if' without a filter"),
        ("hist:keys=a:x=", "empty assignment 'x='"),
    ])
    func invalidTriggers(_ text: String, _ reason: String) {
        do {
            _ = try TriggerInfo.parse(text, line: 3, column: 17)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error == HistParseError(.invalidTriggerInfo(reason), line: 3, column: 17))
        }
    }

    /// The parser keeps the trigger lines it parsed; a table read again under the same line
    /// parses to the same result, and a bad line fails with its own position every time.
    @Test func aTriggerLineSeenBeforeParsesTheSame() throws {
        func block(_ trigger: String) -> String {
            "# event histogram\n#\n# trigger info: \(trigger)\n#\n\n{ cpu: 1 } hitcount: 5\n\nTotals:\n    Hits: 5\n    Entries: 1\n    Dropped: 0\n"
        }
        let good = "hist:keys=cpu:vals=hitcount:sort=hitcount:size=2048 [active]"
        let first = try HistParser.parse(Array(block(good).utf8))
        let again = try HistParser.parse(Array(block(good).utf8))
        #expect(first == again)
        #expect(first.blocks.first?.triggerInfo == (try TriggerInfo.parse(good)))
        let bad = block("hist:keys=a:frobnicate [active]")
        for text in [bad, bad, block(good) + "\n" + bad] {
            let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("frobnicate") }! + 1
            do {
                _ = try HistParser.parse(Array(text.utf8))
                Issue.record("accepted a bad trigger line")
            } catch {
                #expect(error.line == line, "the error names the line of this file (\(error))")
            }
        }
    }

    @Test func printedValuesHideVariablesAndExpressions() throws {
        let info = try TriggerInfo.parse("hist:keys=common_pid.execname:vals=bytes_req,bytes_alloc-bytes_req")
        #expect(info.printedValues.map(\.name) == ["hitcount", "bytes_req"])
    }
}
