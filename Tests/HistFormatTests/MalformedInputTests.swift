import Foundation
import Testing
@testable import HistFormat

@Suite struct MalformedInputTests {
    @Test func truncatedAtEveryByteNeverCrashes() throws {
        for name in ["02-synth-wakeup-lat-log2.hist", "08-sched-switch-onmax-save.hist", "10-sched-switch-onmax-snapshot.hist",
                     "44-sched-switch-four-hist-blocks-named-paused-filter.hist", "46-sched-switch-stacktrace-not-last-key.hist"] {
            let bytes = try Fixtures.corpusBytes(name)
            let step = bytes.count > 5000 ? 7 : 1
            var failures = 0
            for cut in stride(from: 0, to: bytes.count, by: step) {
                do {
                    _ = try HistParser.parse(Array(bytes[..<cut]))
                } catch {
                    failures += 1
                    #expect(error.line >= 1 && error.column >= 1)
                }
            }
            #expect(failures > 0, "\(name): truncations must be reported")
        }
    }

    @Test func truncatedInsideAnEntryNamesTheLine() throws {
        let text = histText("hist:keys=pid", ["{ pid:          1 } hitcount:          1"], hits: 1)
        let cut = String(text.prefix(text.utf8.count - 60))
        #expect(throws: HistParseError.self) { try HistParser.parse(cut) }
        do {
            _ = try HistParser.parse("# event histogram\n#\n# trigger info: hist:keys=pid [active]\n#\n\n{ pid:     ")
            Issue.record("parsed a cut entry")
        } catch {
            #expect(error.line == 6)
            if case .unexpectedEndOfInput = error.kind {} else { Issue.record("kind \(error.kind)") }
        }
    }

    /// Every entry's key and value names are checked against the trigger info, not only the
    /// first entry's: a later entry with another name is refused at its line.
    @Test func aLaterEntryWithAnotherNameIsRefused() {
        let first = "{ lat: ~ 2^5  } hitcount:          6  lat:        177"
        for (second, column, wording) in [
            ("{ lat: ~ 2^6  } hitcount:          1  delay:        1", 39, "not 'delay'"),
            ("{ lit: ~ 2^6  } hitcount:          1  lat:          1", 3, "not 'lit'"),
            ("{ lat: ~ 2^6  } hits:          1  lat:          1", 17, "not 'hits'"),
        ] {
            let text = histText("hist:keys=lat.log2:vals=hitcount,lat:sort=lat:size=2048", [first, first, second], hits: 13)
            do {
                _ = try HistParser.parse(text)
                Issue.record("parsed \(second)")
            } catch {
                #expect(error.line == 8, "\(second)")
                #expect(error.column == column, "\(second): \(error)")
                #expect(error.description.contains(wording), "\(error)")
            }
        }
    }

    @Test func garbageGivesATypedErrorWithPosition() {
        let inputs: [String] = [
            "hello", "# event histogram\n", "# event histogram\n#\n# trigger info: nonsense\n",
            "# event histogram\n#\n# trigger info: hist:keys=a [active]\n#\n\nTotals:\n    Hits: x\n",
            "\n\n\n{ a: 1 }", "# event histogram\n#\n# trigger info: hist:keys=a,b [active]\n#\n\n{ a:          1 } hitcount: 1\n",
        ]
        for input in inputs {
            #expect(throws: HistParseError.self, "\(input)") { try HistParser.parse(input) }
        }
        do {
            _ = try HistParser.parse("# event histogram\n#\n# trigger info: nonsense\n")
            Issue.record("accepted a trigger info line that is not a trigger")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 17)
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 0x5eed)
        let alphabet = Array("{}: ,~^-[]\n\t#0123456789abcdefhitcountTotalsHitsEntriesDropped".utf8)
        for _ in 0..<3000 {
            let n = Int(rng.next() % 300)
            var bytes = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            if rng.next() % 2 == 0 { bytes = Array("# event histogram\n#\n# trigger info: hist:keys=a [active]\n#\n\n".utf8) + bytes }
            expectParsedOrPlaced(bytes)
        }
        for _ in 0..<500 {
            let bytes = (0..<Int(rng.next() % 500)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            expectParsedOrPlaced(bytes)
        }
    }

    /// Any input either parses into no more entries than it has lines, or fails at a position
    /// inside it (a line that exists, a column from 1).
    func expectParsedOrPlaced(_ bytes: [UInt8]) {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
        do {
            let file = try HistParser.parse(bytes)
            let entries = file.blocks.reduce(0) { $0 + $1.entries.count }
            #expect(entries <= lines, "\(entries) entries from \(lines) lines")
        } catch {
            #expect(error.line >= 1 && error.line <= lines + 1 && error.column >= 1, "error at \(error.line):\(error.column) of \(lines) lines")
        }
    }

    @Test func hugeNumbersAreOutOfRange() {
        let text = histText("hist:keys=pid", ["{ pid:          1 } hitcount: 99999999999999999999"], hits: 1)
        do {
            _ = try HistParser.parse(text)
            Issue.record("accepted a 20-digit hitcount")
        } catch {
            #expect(error.kind == .numberOutOfRange)
            #expect(error.line == 6)
            #expect(error.column == 31)
        }
        let max = histText("hist:keys=pid", ["{ pid: 18446744073709551615 } hitcount: 18446744073709551615"], hits: 1)
        #expect((try? HistParser.parse(max))?.blocks[0].entries[0].hitcount == UInt64.max)
        let totals = histText("hist:keys=pid", [], hits: 0).replacingFirst("Hits: 0", with: "Hits: 184467440737095516150")
        #expect(throws: HistParseError.self) { try HistParser.parse(totals) }
    }

    @Test func entriesMustHaveTheTriggerInfosKeysAndValues() throws {
        // A key or value the trigger info does not have belongs to another table.
        let cases: [(String, [String], Int, Int, String)] = [
            ("hist:keys=pid", ["{ foo:          1 } hitcount:          1"], 6, 3, "'foo'"),
            ("hist:keys=pid,prio", ["{ pid:          1, nice:          0 } hitcount:          1"], 6, 20, "'nice'"),
            ("hist:keys=pid:vals=hitcount,x", ["{ pid:          1 } hitcount:          1  y:          5"], 6, 43, "'y'"),
            ("hist:keys=stack.stacktrace", ["{ other.stacktrace         a+0x1/0x2", "} hitcount:          1"], 6, 3, "'other'"),
        ]
        for (trigger, lines, line, column, name) in cases {
            do {
                _ = try HistParser.parse(histText(trigger, lines, hits: 1))
                Issue.record("accepted \(lines[0]) under \(trigger)")
            } catch {
                #expect(error.line == line && error.column == column, "\(error)")
                if case .expected(let what) = error.kind { #expect(what.contains(name), "\(error)") } else { Issue.record("\(error)") }
            }
        }
        // What the kernel prints under another name than the read-back gives: the typed
        // alias of common_cpu, the 6.16+ garbled read-back, stacktrace after its 6.5 rename,
        // an expression in the kernel's spelling, a timestamp value without its modifier.
        let accepted: [(String, [String])] = [
            ("hist:keys=common_cpu:vals=hitcount,cpu", ["{ cpu:          0 } hitcount:          1  common_cpu:          0"]),
            ("hist:keys=common_cpucpu", ["{ cpu:          0 } hitcount:          1"]),
            ("hist:keys=stacktrace", ["{ common_stacktrace:", "         a+0x1/0x2", "} hitcount:          1"]),
            ("hist:keys=bytes_alloc-bytes_req", ["{ bytes_alloc - bytes_req:          0 } hitcount:          1"]),
            ("hist:keys=pid:vals=hitcount,common_timestamp.usecs", ["{ pid:          1 } hitcount:          1  common_timestamp:     123456"]),
        ]
        for (trigger, lines) in accepted {
            #expect(throws: Never.self, "\(trigger)") { try HistParser.parse(histText(trigger, lines, hits: 1)) }
        }
    }

    @Test func stacksDeeperOrWiderThanTheKernelPrintsAreRefused() throws {
        func stackTable(frames: Int, frame: String = "f+0x1/0x2") -> String {
            histText("hist:keys=stacktrace", ["{ stacktrace:"] + Array(repeating: "         " + frame, count: frames) + ["} hitcount:          1"], hits: 1)
        }
        let deepest = try HistParser.parse(stackTable(frames: 31))
        #expect(deepest.blocks[0].entries[0].keys[0].value == .stack(Array(repeating: "f+0x1/0x2", count: 31)))
        do {
            _ = try HistParser.parse(stackTable(frames: 100_000))
            Issue.record("accepted a stack of 100000 frames")
        } catch {
            #expect(error.kind == .limitExceeded("a stack of more than 31 frames"))
            #expect(error.line == 7 + 31 && error.column == 1)
        }
        let wide = String(repeating: "x", count: 10 << 20)
        do {
            _ = try HistParser.parse(stackTable(frames: 1, frame: wide))
            Issue.record("accepted a 10 MB stack frame")
        } catch {
            #expect(error.kind == .limitExceeded("a stack frame of more than 1024 bytes"))
            #expect(error.line == 7)
        }
        let sameLine = histText("hist:keys=delta,stack.stacktrace", ["{ delta:          1, stack.stacktrace " + wide, "} hitcount:          1"], hits: 1)
        #expect(throws: HistParseError.self) { try HistParser.parse(sameLine) }
    }

    /// corpus/10b: the `snapshot` file an onmax().snapshot() fills is trace text, not a
    /// table: pointed at it, the parser says so at its first byte.
    @Test func theSnapshotFileIsNotAHistFile() throws {
        let snapshot = try Fixtures.corpusBytes("10b-snapshot-file-head-after-onmax-snapshot.txt")
        do {
            _ = try HistParser.parse(snapshot)
            Issue.record("parsed the snapshot file as a hist file")
        } catch {
            #expect(error.line == 1 && error.column == 1)
        }
        // The hist file names the event the snapshot was taken at, and the snapshot holds it.
        let hist = try HistParser.parse(try Fixtures.corpusBytes("10-sched-switch-onmax-snapshot.hist"))
        let taken = try #require(hist.blocks[0].snapshot)
        let pid = taken.key.split(separator: ":").last!.trimmingCharacters(in: .whitespaces.union(["}"]))
        let text = String(decoding: snapshot, as: UTF8.self)
        #expect(text.hasPrefix("# tracer: nop\n"))
        #expect(text.split(separator: "\n").contains { $0.contains(" sched_switch: ") && $0.contains(" next_pid=\(pid) ") })
    }

    @Test func tenMegabyteLines() throws {
        let big = String(repeating: "x", count: 10 << 20)
        #expect(throws: HistParseError.self) {
            try HistParser.parse("# event histogram\n#\n# trigger info: hist:keys=a [active]\n#\n\n" + big + "\n")
        }
        let key = histText("hist:keys=filename", ["{ filename: \(big) } hitcount:          1"], hits: 1)
        let parsed = try HistParser.parse(key)
        #expect(parsed.blocks[0].entries[0].keys[0].value == .string(big))
        let info = "# event histogram\n#\n# trigger info: hist:keys=" + big + "\n"
        #expect(throws: HistParseError.self) { try HistParser.parse(info) }
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { return self }
        return replacingCharacters(in: r, with: replacement)
    }
}
