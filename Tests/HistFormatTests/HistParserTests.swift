import Testing
@testable import HistFormat

/// Builds a one-block hist file around entry lines, in the kernel's exact framing.
func histText(_ trigger: String, _ lines: [String], hits: UInt64 = 0, entries: Int? = nil, dropped: UInt64 = 0) -> String {
    var s = "# event histogram\n#\n# trigger info: \(trigger) [active]\n#\n\n"
    for l in lines { s += l + "\n" }
    s += "\nTotals:\n    Hits: \(hits)\n    Entries: \(entries ?? lines.filter { $0.hasPrefix("{") }.count)\n    Dropped: \(dropped)\n"
    return s
}

@Suite struct KeyRenderingTests {
    func firstEntry(_ corpusName: String, block: Int = 0) throws -> HistEntry {
        let file = try HistParser.parse(try Fixtures.corpusBytes(corpusName))
        return try #require(file.blocks[block].entries.first)
    }

    @Test func log2KeyAndValues() throws {
        let e = try firstEntry("02-synth-wakeup-lat-log2.hist")
        #expect(e.keys == [HistKey(name: "lat", value: .log2(exponent: 5))])
        #expect(e.hitcount == 6)
        #expect(e.values == [HistValue(name: "lat", reading: .number(177))])
    }

    @Test func twoDigitLog2Exponent() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("02-synth-wakeup-lat-log2.hist"))
        #expect(file.blocks[0].entries[1].keys[0].value == .log2(exponent: 11))
    }

    @Test func linearBuckets() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("03-synth-wakeup-lat-buckets10.hist"))
        #expect(file.blocks[0].entries[0].keys[0].value == .bucket(lower: 0, upper: 9))
        #expect(file.blocks[0].entries[9].keys[0].value == .bucket(lower: 100, upper: 109))
    }

    @Test func symbolKey() throws {
        let e = try firstEntry("12-kmalloc-callsite-sym.hist")
        #expect(e.keys[0].value == .symbol(address: 0xffffffff98f7fcc0, name: "seq_read_iter"))
        #expect(e.values.map(\.name) == ["bytes_req", "bytes_alloc"])
    }

    @Test func symbolOffsetKey() throws {
        let e = try firstEntry("13-kmalloc-callsite-sym-offset.hist")
        #expect(e.keys[0].value == .symbolOffset(address: 0xffffffff98f7fcc0, text: "seq_read_iter+0x370/0x450"))
    }

    @Test func execnameKey() throws {
        let e = try firstEntry("14-kmalloc-execname.hist")
        #expect(e.keys[0] == HistKey(name: "common_pid", value: .execname(comm: "init", pid: 1224)))
    }

    @Test func syscallKeys() throws {
        #expect(try firstEntry("29-sys-enter-syscall.hist").keys[0].value == .syscall(name: "sys_newfstatat", id: 262))
        let two = try firstEntry("30-sys-enter-execname-syscall.hist")
        #expect(two.keys.map(\.value) == [.execname(comm: "init", pid: 1990), .syscall(name: "sys_execve", id: 59)])
    }

    @Test func stringKeysWithPathsAndAFollowingKey() throws {
        #expect(try firstEntry("41-sched-process-exec-dynstring-key.hist").keys[0].value == .string("/proc/self/exe"))
        let e = try firstEntry("42-kprobe-openat-string-key.hist")
        #expect(e.keys.map(\.value) == [.string("/etc/localtime"), .execname(comm: "ls", pid: 2522)])
    }

    @Test func stringKeyWithSpacesCommasAndBraces() throws {
        let name = "a file, } with: odd bytes"
        let padded = name + String(repeating: " ", count: 50 - name.utf8.count)
        let text = histText("hist:keys=filename,common_pid:vals=hitcount", [
            "{ filename: \(padded), common_pid:          7 } hitcount:          3",
        ], hits: 3)
        let e = try #require(try HistParser.parse(text).blocks[0].entries.first)
        #expect(e.keys.map(\.value) == [.string(name), .number(7)])
    }

    @Test func stringLongerThanThePadding() throws {
        let name = String(repeating: "x", count: 70)
        let text = histText("hist:keys=filename", ["{ filename: \(name) } hitcount:          1"], hits: 1)
        #expect(try HistParser.parse(text).blocks[0].entries[0].keys[0].value == .string(name))
    }

    @Test func hexKeysAndSignedKeysFromTheFormatFile() throws {
        #expect(try firstEntry("49-sys-exit-negative-ret-hex.hist").keys[1].value == .hex(0xffffffffffffffe7))
        let raw = try HistParser.parse(try Fixtures.corpusBytes("43-sys-exit-filter-negative-ret.hist"))
        #expect(raw.blocks[0].entries[0].keys[1].value == .number(18446744073709551591))
        let format = EventFormat.parse("""
            name: sys_exit
            format:
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
            \tfield:long id;\toffset:8;\tsize:8;\tsigned:1;
            \tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;
            """)
        let signed = raw.applyingSignedness(of: format)
        #expect(signed.blocks[0].entries[0].keys[1].value == .signed(-25))
        // .syscall keys keep their rendering even though `id` is signed.
        #expect(signed.blocks[0].entries[0].keys[0].value == .syscall(name: "sys_ioctl", id: 16))
    }

    @Test func signExtensionOfNarrowFields() {
        #expect(signExtend(0xFFFF_FFFF, bytes: 4) == -1)
        #expect(signExtend(18446744073709551615, bytes: 4) == -1)
        #expect(signExtend(5, bytes: 4) == 5)
    }

    @Test func cpuAliasKeepsTheTypedName() throws {
        let e = try firstEntry("35-sched-switch-cpu-alias-key.hist")
        #expect(e.keys[0].name == "cpu")
        let file = try HistParser.parse(try Fixtures.corpusBytes("35-sched-switch-cpu-alias-key.hist"))
        #expect(file.blocks[0].triggerInfo.keys[0].name == "common_cpu")
    }

    @Test func expressionKey() throws {
        let e = try firstEntry("26-kmalloc-expression-key.hist")
        #expect(e.keys[0] == HistKey(name: "bytes_alloc-bytes_req", value: .number(0)))
    }

    @Test func stackKeyAlone() throws {
        let e = try firstEntry("34-sched-switch-stacktrace.hist")
        guard case .stack(let frames) = e.keys[0].value else { Issue.record("not a stack"); return }
        #expect(frames.first?.hasPrefix("__schedule+") == true)
        #expect(frames.allSatisfy { !$0.hasPrefix(" ") })
    }

    @Test func stackKeyFirstThenANumber() throws {
        let e = try firstEntry("46-sched-switch-stacktrace-not-last-key.hist")
        guard case .stack(let frames) = e.keys[0].value else { Issue.record("not a stack"); return }
        #expect(frames == [
            "__schedule+0x4f8/0xa00", "schedule+0x5a/0xd0", "schedule_timeout+0x94/0x150",
            "rcu_gp_fqs_loop+0x141/0x560", "rcu_gp_kthread+0xd8/0x1b0", "kthread+0xda/0x100", "ret_from_fork+0x22/0x30",
        ])
        #expect(e.keys[1] == HistKey(name: "next_pid", value: .number(0)))
        #expect(e.hitcount == 67)
    }

    @Test func numberThenStackKey() throws {
        let e = try firstEntry("47-sched-switch-key-then-stacktrace.hist")
        #expect(e.keys[0].value == .number(120))
        guard case .stack(let frames) = e.keys[1].value else { Issue.record("not a stack"); return }
        #expect(frames.count == 7)
    }

    @Test func stackKeyBetweenTwoKeys() throws {
        // The key after the stack starts its own line with ', '; the entry closes with '}'.
        let text = histText("hist:keys=prev_prio,stacktrace,next_pid:vals=hitcount", [
            "{ prev_prio:        120, stacktrace:",
            "         __schedule+0x4f8/0xa00",
            "         schedule+0x5a/0xd0",
            ", next_pid:          7} hitcount:          3",
            "{ prev_prio:         98, stacktrace:",
            "         __schedule+0x4f8/0xa00",
            ", next_pid:         12} hitcount:          1",
        ], hits: 4)
        let entries = try HistParser.parse(text).blocks[0].entries
        #expect(entries.count == 2)
        #expect(entries[0].keys == [
            HistKey(name: "prev_prio", value: .number(120)),
            HistKey(name: "stacktrace", value: .stack(["__schedule+0x4f8/0xa00", "schedule+0x5a/0xd0"])),
            HistKey(name: "next_pid", value: .number(7)),
        ])
        #expect(entries[0].hitcount == 3)
        #expect(entries[1].keys.map(\.value) == [.number(98), .stack(["__schedule+0x4f8/0xa00"]), .number(12)])
    }

    @Test func syntheticStackFieldKey() throws {
        // 6.3+: `%s.stacktrace` with no colon; the first frame shares the line.
        let text = histText("hist:keys=delta.buckets=100,stack.stacktrace:sort=delta", [
            "{ delta: ~ 300-399, stack.stacktrace         __schedule+0x8fc/0x1070",
            "         schedule+0x2a/0xd0",
            "} hitcount:          1",
        ], hits: 1)
        let e = try #require(try HistParser.parse(text).blocks[0].entries.first)
        #expect(e.keys[0].value == .bucket(lower: 300, upper: 399))
        #expect(e.keys[1] == HistKey(name: "stack", value: .stack(["__schedule+0x8fc/0x1070", "schedule+0x2a/0xd0"])))
    }

    @Test func commonStacktraceName() throws {
        let text = histText("hist:keys=common_stacktrace", [
            "{ common_stacktrace:", "         a+0x1/0x2", "         b+0x3/0x4 [mod]", "} hitcount:          2",
        ], hits: 2)
        let e = try #require(try HistParser.parse(text).blocks[0].entries.first)
        #expect(e.keys[0].value == .stack(["a+0x1/0x2", "b+0x3/0x4 [mod]"]))
    }
}

@Suite struct ValueAndBlockTests {
    @Test func percentAndGraphValues() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("20-kmalloc-percent-graph-values.hist"))
        let e = file.blocks[0].entries[0]
        #expect(e.hitcount == 121)
        #expect(e.values == [
            HistValue(name: "bytes_req", reading: .percent(hundredths: 1384)),
            HistValue(name: "bytes_alloc", reading: .graph("####################")),
        ])
        let partial = file.blocks[0].entries[6]
        #expect(partial.values[1].reading == .graph("##                  "))
    }

    @Test func percentErrorAndNoHitcount() throws {
        let text = histText("hist:keys=pid:vals=bytes.percent,bytes.graph:nohitcount", [
            "{ pid:          1 }  bytes (%):[ERROR]  bytes: [ERROR]",
            "{ pid:          2 }  bytes (%):  19.27  bytes: ####                ",
        ])
        let file = try HistParser.parse(text)
        #expect(file.blocks[0].triggerInfo.noHitcount)
        #expect(file.blocks[0].entries[0].hitcount == nil)
        #expect(file.blocks[0].entries[0].values[0].reading == .percent(hundredths: nil))
        #expect(file.blocks[0].entries[0].values[1].reading == .graph("[ERROR]"))
        #expect(file.blocks[0].entries[1].values[0].reading == .percent(hundredths: 1927))
    }

    @Test func hexValue() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("21-kmalloc-hex-value.hist"))
        #expect(file.blocks[0].entries[0].values == [HistValue(name: "bytes_alloc", reading: .hex(0x670))])
    }

    @Test func timestampValueIsNamedWithoutModifier() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("50-kmalloc-vals-common-timestamp-and-sort-val.hist"))
        #expect(file.blocks[0].entries[0].values[0].name == "common_timestamp")
    }

    @Test func onmaxSaveLines() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("08-sched-switch-onmax-save.hist"))
        let e = file.blocks[0].entries[0]
        #expect(e.keys[0].value == .number(679))
        #expect(e.actions == [HistActionLine(handler: .max, value: 477, saved: [
            SavedField(name: "next_comm", value: "sleep"), SavedField(name: "prev_pid", value: "15"),
            SavedField(name: "prev_prio", value: "120"), SavedField(name: "prev_comm", value: "rcu_preempt"),
        ])])
    }

    @Test func onmaxTraceActionPrintsABareMaxLine() throws {
        // onmax().trace() saves nothing: the handler line is `\tmax: N` alone (7.2 capture 108b).
        let text = histText("hist:keys=next_pid:vals=hitcount:lat=common_timestamp.usecs-$ts0:sort=hitcount:size=2048:clock=global:onmax($lat).trace(wakeup_lat,$lat)", [
            "{ next_pid:        725 } hitcount:          2",
            "\tmax:        297",
            "{ next_pid:         15 } hitcount:          1",
            "\tmax:         31",
        ], hits: 3)
        let entries = try HistParser.parse(text).blocks[0].entries
        #expect(entries.map(\.actions) == [
            [HistActionLine(handler: .max, value: 297, saved: [])],
            [HistActionLine(handler: .max, value: 31, saved: [])],
        ])
        #expect(entries.map(\.hitcount) == [2, 1])
    }

    /// Entries share their table's storage: each sees its own keys, values and handler lines
    /// only, however many the ones around it have.
    @Test func entriesSeeOnlyTheirOwnFields() throws {
        let text = histText("hist:keys=next_pid,cpu:vals=hitcount,lat:sort=hitcount:onmax($lat).trace(wakeup_lat,$lat)", [
            "{ next_pid:        725, cpu:          1 } hitcount:          2  lat:         40",
            "\tmax:        297",
            "\tmax:        298",
            "{ next_pid:         15, cpu:          0 } hitcount:          1  lat:          7",
            "{ next_pid:          9, cpu:          1 } hitcount:          4  lat:         12",
            "\tmax:         31",
        ], hits: 7)
        let entries = try HistParser.parse(text).blocks[0].entries
        #expect(entries.count == 3)
        #expect(entries.map { $0.keys.map(\.value) } == [[.number(725), .number(1)], [.number(15), .number(0)], [.number(9), .number(1)]])
        #expect(entries.map { $0.values.map(\.reading) } == [[.number(40)], [.number(7)], [.number(12)]])
        #expect(entries.map { $0.actions.map(\.value) } == [[297, 298], [], [31]])
        #expect(entries.map(\.hitcount) == [2, 1, 4])
        #expect(entries[1].keys.count == 2)
    }

    @Test func onchangeSaveLines() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("09-sched-switch-onchange-save.hist"))
        let e = file.blocks[0].entries[0]
        #expect(e.actions.first?.handler == .changed)
        #expect(e.actions.first?.value == 845)
        #expect(e.actions.first?.saved.map(\.name) == ["next_comm", "prev_comm", "prev_pid"])
    }

    @Test func snapshotBlock() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("10-sched-switch-onmax-snapshot.hist"))
        let s = try #require(file.blocks[0].snapshot)
        #expect(s.handler == "onmax($wakeup_lat)")
        #expect(s.triggeringValue == 2127)
        #expect(s.key == "{ next_pid:          1 }")
        #expect(file.blocks[0].totals == HistTotals(hits: 458, entries: 37, dropped: 0))
    }

    @Test func severalBlocksWithStates() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("44-sched-switch-four-hist-blocks-named-paused-filter.hist"))
        #expect(file.blocks.count == 4)
        #expect(file.blocks.map(\.triggerInfo.state) == [.active, .paused, .active, .active])
        #expect(file.blocks[1].triggerInfo.name == "sw")
        #expect(file.blocks[2].triggerInfo.filter == "next_prio < 120")
        #expect(file.blocks[3].triggerInfo.size == 256)
        #expect(file.blocks[3].entries.count <= 256)
    }

    @Test func droppedEntries() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("18-kmalloc-dropped-size128.hist"))
        #expect(file.blocks[0].totals.entries == 128)
        #expect(file.blocks[0].totals.dropped > 0)
    }

    @Test func emptyTableAndEmptyFile() throws {
        let file = try HistParser.parse(try Fixtures.corpusBytes("19-kmalloc-empty-no-hits.hist"))
        #expect(file.blocks[0].entries.isEmpty)
        #expect(file.blocks[0].totals == HistTotals(hits: 0, entries: 0, dropped: 0))
        #expect(try HistParser.parse([UInt8]()) == HistFile())
    }

    @Test func legacyErrorTrailer() throws {
        let text = histText("hist:keys=pid", ["{ pid:          1 } hitcount:          1"], hits: 1)
            + "\nERROR: Couldn't find field\n  Last command: keys=nosuch\n"
        let file = try HistParser.parse(text)
        #expect(file.blocks.count == 1)
        #expect(file.legacyError == LegacyError(message: "Couldn't find field", lastCommand: "keys=nosuch"))
    }

    @Test func severalBlocksThenTheLegacyErrorTrailer() throws {
        // 4.17 to 5.1 print the trailer once, after the last block of the event.
        let text = histText("hist:keys=pid:vals=hitcount:sort=hitcount:size=2048", ["{ pid:          1 } hitcount:          1"], hits: 1)
            + "\n\n" + histText("hist:keys=prio:vals=hitcount:sort=hitcount:size=2048", [
                "{ prio:        120 } hitcount:          4",
                "{ prio:         98 } hitcount:          5",
            ], hits: 9)
            + "\nERROR: Couldn't find field\n  Last command: keys=nosuch\n"
        let file = try HistParser.parse(text)
        #expect(file.blocks.count == 2)
        #expect(file.blocks.map(\.totals.hits) == [1, 9])
        #expect(file.blocks[1].entries.map(\.hitcount) == [4, 5])
        #expect(file.blocks[1].line == 14)
        #expect(file.legacyError == LegacyError(message: "Couldn't find field", lastCommand: "keys=nosuch"))
    }

    @Test func lastLineWithoutNewline() throws {
        var text = histText("hist:keys=pid", ["{ pid:          1 } hitcount:          1"], hits: 1)
        text.removeLast()
        #expect(try HistParser.parse(text).blocks[0].totals.dropped == 0)
    }
}
