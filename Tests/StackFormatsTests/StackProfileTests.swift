import StackFormats
import Testing

@Suite struct StackProfileTests {
    @Test("offsets are dropped, modules kept after a space; a frame without an offset stays as printed", arguments: [
        ("__schedule+0x4f8/0xa00", "__schedule"),
        ("nf_hook_slow+0x3d/0xb0 [nf_tables]", "nf_hook_slow [nf_tables]"),
        ("0xffffffffc0a1b2c3", "0xffffffffc0a1b2c3"),
        ("do_idle", "do_idle"),
        ("é_func+0x1/0x2 [mod]", "é_func [mod]"),
    ])
    func functionNames(frame: String, name: String) {
        #expect(StackFrame.functionName(frame) == name)
    }

    @Test func aNameSplitsIntoFunctionAndModule() {
        #expect(StackFrame.parts("nf_hook_slow [nf_tables]") == ("nf_hook_slow", "nf_tables"))
        #expect(StackFrame.parts("__schedule") == ("__schedule", nil))
        #expect(StackFrame.parts("[]") == ("[]", nil))
    }

    @Test func foldedIsRootFirst() {
        #expect(StackFrame.folded(["leaf+0x1/0x2", "mid+0x3/0x4 [m]", "root"]) == "root;mid [m];leaf")
    }

    /// Two call sites of one function differ only in their offset: one stack in the profile.
    @Test func stacksThatDifferOnlyInOffsetsMerge() {
        let profile = StackProfile(sampleTypes: [.samples, SampleType(type: "delay", unit: "nanoseconds")], samples: [
            StackSample(frames: ["b+0x10/0x80", "a+0x1/0x9"], values: [2, 100]),
            StackSample(frames: ["c+0x2/0x10", "a+0x1/0x9"], values: [1, 5]),
            StackSample(frames: ["b+0x22/0x80", "a+0x1/0x9"], values: [3, 50]),
        ])
        #expect(profile.stacks == [
            StackProfile.Stack(frames: ["a", "b"], values: [5, 150]),
            StackProfile.Stack(frames: ["a", "c"], values: [1, 5]),
        ])
        #expect(profile.total(0) == 6)
        #expect(profile.total(1) == 155)
    }

    @Test func theOrderDoesNotDependOnTheTables() {
        let samples = [
            StackSample(frames: ["z", "a"], values: [1]), StackSample(frames: ["b", "a"], values: [2]),
            StackSample(frames: ["a"], values: [3]), StackSample(frames: ["q"], values: [4]),
        ]
        let forward = StackProfile(sampleTypes: [.samples], samples: samples)
        let backward = StackProfile(sampleTypes: [.samples], samples: samples.reversed())
        #expect(forward.stacks == backward.stacks)
        #expect(forward.stacks.map(\.frames) == [["a"], ["a", "b"], ["a", "z"], ["q"]])
    }

    @Test func sumsSaturateAndMissingValuesCountAsZero() {
        let profile = StackProfile(sampleTypes: [.samples, .samples], samples: [
            StackSample(frames: ["a"], values: [.max]), StackSample(frames: ["a"], values: [1]),
        ])
        #expect(profile.stacks[0].values == [.max, 0])
    }

    @Test func theDepthIsBoundedAtTheLeafEnd() {
        let frames = (0..<1000).map { "f\($0)" }
        let profile = StackProfile(sampleTypes: [.samples], samples: [StackSample(frames: frames, values: [1])])
        #expect(profile.stacks[0].frames.count == StackProfile.maximumDepth)
        #expect(profile.stacks[0].frames.first == "f999", "the root stays")
    }
}

@Suite struct FoldedStacksTests {
    @Test func theCorpusTableFolds() throws {
        let text = String(decoding: FoldedStacks.render(try StackFixtures.corpusProfile()), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.contains("secondary_startup_64_no_verify;start_kernel;arch_call_rest_init;rest_init;cpu_startup_entry;do_idle;schedule_idle;__schedule 67"))
        #expect(lines.contains("ret_from_fork;kthread;rcu_gp_kthread;rcu_gp_fqs_loop;schedule_timeout;schedule;__schedule 65"))
        #expect(lines.map { String($0) } == lines.map { String($0) }.sorted(by: { $0.split(separator: " ")[0].split(separator: ";").lexicographicallyPrecedes($1.split(separator: " ")[0].split(separator: ";")) }))
        #expect(!text.contains("+0x"))
        let total = lines.reduce(0) { $0 + Int($1.split(separator: " ").last!)! }
        let hits = try StackFixtures.corpusSamples().reduce(0) { $0 + Int($1.values[0]) }
        #expect(total == hits)
    }

    @Test func aValueColumnZeroesAreLeftOutAndSeparatorsInNamesReplaced() {
        let profile = StackProfile(sampleTypes: [.samples, SampleType(type: "delay", unit: "nanoseconds")], samples: [
            StackSample(frames: ["leaf;x", "root\nline"], values: [1, 0]),
            StackSample(frames: ["other"], values: [2, 7]),
        ])
        #expect(String(decoding: FoldedStacks.render(profile), as: UTF8.self) == "other 2\nroot_line;leaf_x 1\n")
        #expect(String(decoding: FoldedStacks.render(profile, column: 1), as: UTF8.self) == "other 7\n")
    }
}
