@testable import Exporter
import HistFormat
import Testing
import TraceFS
import TraceFSTesting

/// The built-in presets, against the in-memory kernel; the VM scenarios run them for real.
@Suite struct PresetTests {
    static let presets = ["wakeup_latency", "wakeup_latency_rt", "wakeup_latency_by_cgroup", "syscall_latency", "block_io_latency",
                          "irq_handler_duration", "kmalloc_by_call_site", "context_switches", "syscall_errors",
                          "function_latency", "offcpu_stacks", "offcpu_time_stacks"]
    /// The presets the in-memory kernel (a 6.1 model) cannot run, and the word its reason holds.
    static let unsupportedOn61 = ["offcpu_time_stacks": "6.5", "wakeup_latency_by_cgroup": "CONFIG_FPROBE_EVENTS"]

    @Test func theAllowListHoldsEveryPreset() throws {
        let config = try DefaultConfig.load()
        #expect(config.triggerSets.map(\.name) == Self.presets)
        #expect(config.triggerSets.filter(\.installOnStart).map(\.name) == ["wakeup_latency"])
        for set in config.triggerSets {
            #expect(!set.description.isEmpty, "\(set.name) is documented")
            #expect(set.triggers.contains { $0.metric != nil }, "\(set.name) exports something")
        }
    }

    /// Tables never evict: every table's size is chosen (README presets table), not left to the
    /// kernel's default of 2048.
    @Test func everyTableOfEveryPresetHasAnExplicitSize() throws {
        for set in try DefaultConfig.load().triggerSets {
            for trigger in set.triggers {
                #expect(trigger.info.size != nil, "\(set.name): \(trigger.event) sets no size=")
            }
        }
    }

    /// HELP texts read as sentences: a family's help is its mapping's, with no column name
    /// tacked on where the family is the plain hit count.
    @Test func helpTextsEndInASentence() throws {
        for set in try DefaultConfig.load().triggerSets {
            for mapping in set.triggers.compactMap(\.metric) {
                #expect(mapping.help.hasSuffix("."), "\(mapping.name): \(mapping.help)")
                for value in mapping.values {
                    #expect(value.help.hasSuffix("."), "\(value.familyName): \(value.help)")
                }
            }
        }
    }

    @Test(arguments: presets)
    func installsAndRemovesCleanly(_ name: String) throws {
        let fs = FakeKernelTraceFS()
        let controller = TriggerController(fs: fs, config: try DefaultConfig.load(), logger: Fixtures.quietLogger)
        if let word = Self.unsupportedOn61[name] {
            let set = try #require(controller.config.triggerSet(named: name))
            #expect(controller.unsupportedReason(for: set)?.contains(word) == true)
            #expect(throws: ControlError.self) { try controller.install(name) }
            #expect(fs.writes.isEmpty, "an unsupported set writes nothing")
            return
        }
        #expect(try controller.install(name).state == .installed)
        #expect(fs.writes.allSatisfy { $0.result == 0 }, "\(fs.writes.filter { $0.result != 0 })")
        #expect(try controller.remove(name).state == .absent)
        #expect(fs.writes.allSatisfy { $0.result == 0 })
        #expect(controller.removeOwned().isEmpty)
        #expect(!fs.exists("instances/ftrace_exporter"), "the instance goes at stop")
    }

    @Test func everyPresetCanBeInstalledTogether() throws {
        let fs = FakeKernelTraceFS()
        let controller = TriggerController(fs: fs, config: try DefaultConfig.load(), logger: Fixtures.quietLogger)
        let supported = Self.presets.filter { Self.unsupportedOn61[$0] == nil }
        for name in supported { #expect(try controller.install(name).state == .installed, "\(name)") }
        for name in supported { #expect(try controller.status(of: name).state == .installed, "\(name) after all") }
        #expect(controller.removeAll().allSatisfy { $0.error == nil })
        #expect(controller.removeOwned().isEmpty)
        #expect(!fs.exists("instances/ftrace_exporter"), "the instance goes at stop")
    }

    @Test func taskStateLabels() {
        let cases: [(UInt64, String)] = [(0, "R"), (1, "S"), (2, "D"), (4, "T"), (8, "t"), (0x80, "I"), (0x100, "R+"), (0x101, "S+"), (0x3, "S|D")]
        for (raw, text) in cases { #expect(KeyLabels.taskState(raw) == text, "\(raw)") }
    }

    @Test func deviceLabels() {
        #expect(KeyLabels.value(.number(8 << 20), decoder: .device) == "8:0")
        #expect(KeyLabels.value(.number(259 << 20 | 1), decoder: .device) == "259:1")
        #expect(KeyLabels.value(.number(42), decoder: nil) == "42")
    }

    @Test func errnoLabels() {
        #expect(KeyLabels.errnoName(-2) == "ENOENT")
        #expect(KeyLabels.errnoName(-11) == "EAGAIN")
        #expect(KeyLabels.errnoName(-133) == "EHWPOISON")
        #expect(KeyLabels.errnoName(-512) == "ERESTARTSYS")
        #expect(KeyLabels.errnoName(-41) == "-41", "no errno 41")
        #expect(KeyLabels.errnoName(-520) == "-520")
        #expect(KeyLabels.errnoName(-5000) == "-5000", "past -4095 it is no error code")
        #expect(KeyLabels.errnoName(3) == "3")
        // The kernel prints a signed field as its u64 bit pattern; both read the same.
        #expect(KeyLabels.value(.number(18446744073709551614), decoder: .errno) == "ENOENT")
        #expect(KeyLabels.value(.signed(-22), decoder: .errno) == "EINVAL")
        #expect(KeyLabels.value(.hex(0xffff_ffff_ffff_ffe7), decoder: .errno) == "ENOTTY")
    }

    /// The table of corpus/43, captured on Debian's 6.1 with the preset's keys and filter.
    @Test func syscallErrorsMapToSyscallAndErrno() throws {
        let config = try DefaultConfig.load()
        let metric = try #require(config.triggerSet(named: "syscall_errors")?.triggers[0].metric)
        let text = """
            # event histogram
            #
            # trigger info: hist:keys=id.syscall,ret:vals=hitcount:sort=hitcount:size=4096 if ret < 0 [active]
            #

            { id: sys_ioctl                     [ 16], ret: 18446744073709551591 } hitcount:         13
            { id: sys_sendfile64                [ 40], ret: 18446744073709551594 } hitcount:        221
            { id: sys_wait4                     [ 61], ret: 18446744073709551606 } hitcount:         23
            { id: sys_openat                    [257], ret: 18446744073709551614 } hitcount:       1608

            Totals:
                Hits: 1865
                Entries: 4
                Dropped: 0

            """
        let families = HistMapping.map(try HistParser.parse(text).blocks[0], with: metric)
        #expect(families.map(\.name) == ["ftrace_syscall_errors"])
        let series = families[0].allMetrics.map { ($0.labels.map(\.name), $0.labels.map(\.value), $0.value) }
        #expect(series.map(\.0) == Array(repeating: ["syscall", "errno"], count: 4))
        #expect(series.map(\.1) == [["sys_ioctl", "ENOTTY"], ["sys_openat", "ENOENT"], ["sys_sendfile64", "EINVAL"], ["sys_wait4", "ECHILD"]])
        #expect(series.map(\.2) == [.counter(13), .counter(1608), .counter(221), .counter(23)])
    }

    @Test func contextSwitchesMapWithDecodedStates() throws {
        let config = try DefaultConfig.load()
        let metric = try #require(config.triggerSet(named: "context_switches")?.triggers[0].metric)
        let text = """
            # event histogram
            #
            # trigger info: hist:keys=common_cpu,prev_state:vals=hitcount:sort=hitcount:size=4096 [active]
            #

            { cpu:          0, prev_state:        256 } hitcount:          7
            { cpu:          0, prev_state:          1 } hitcount:          5
            { cpu:          1, prev_state:          2 } hitcount:          1

            Totals:
                Hits: 13
                Entries: 3
                Dropped: 0

            """
        let families = HistMapping.map(try HistParser.parse(text).blocks[0], with: metric)
        #expect(families.map(\.name) == ["ftrace_context_switches"])
        let labels = families[0].allMetrics.map { $0.labels.map(\.value) }
        #expect(labels == [["0", "R+"], ["0", "S"], ["1", "D"]])
    }

    /// The table as Linux 6.1 printed it in the VM: the function's symbol is the label.
    @Test func functionLatencyMapsToTheFunctionName() throws {
        let config = try DefaultConfig.load()
        let metric = try #require(config.triggerSet(named: "function_latency")?.triggers[2].metric)
        let text = """
            # event histogram
            #
            # trigger info: hist:keys=func.sym,lat.log2:vals=hitcount,lat:sort=hitcount:size=4096 [active]
            #

            { func: [ffffffffb6791190] vfs_fsync_range                              , lat: ~ 2^20 } hitcount:          1  lat:     635127
            { func: [ffffffffb6791190] vfs_fsync_range                              , lat: ~ 2^16 } hitcount:          4  lat:     160834

            Totals:
                Hits: 5
                Entries: 2
                Dropped: 0

            """
        let families = HistMapping.map(try HistParser.parse(text).blocks[0], with: metric)
        #expect(families.map(\.name) == ["ftrace_function_latency_seconds"])
        let series = families[0].allMetrics
        #expect(Set(series.map { $0.labels.map(\.value) }) == [["vfs_fsync_range"]])
        guard case .histogram(let h) = try #require(series.first).value else { Issue.record("not a histogram"); return }
        #expect(h.count == 5)
        #expect(abs(h.sum - 0.000795961) < 1e-12, "the exact sum, in seconds")
    }

    /// Blocking switches by state, summed over the stacks (6.1's `stacktrace` key).
    @Test func offcpuStacksSumOverTheStacks() throws {
        let config = try DefaultConfig.load()
        let metric = try #require(config.triggerSet(named: "offcpu_stacks")?.triggers[0].metric)
        let text = """
            # event histogram
            #
            # trigger info: hist:keys=stacktrace,prev_state:vals=hitcount:sort=hitcount.descending:size=8192 if prev_state & 3 [active]
            #

            { stacktrace:
                     __schedule+0x4f8/0xa00
                     schedule+0x5a/0xd0
                     do_wait+0x114/0x320
                     kernel_wait4+0xb4/0x160
            , prev_state:          1} hitcount:          3
            { stacktrace:
                     __schedule+0x4f8/0xa00
                     schedule+0x5a/0xd0
                     smpboot_thread_fn+0x147/0x1d0
            , prev_state:          1} hitcount:          2
            { stacktrace:
                     __schedule+0x4f8/0xa00
                     schedule+0x5a/0xd0
                     io_schedule+0x42/0x70
            , prev_state:          2} hitcount:          7

            Totals:
                Hits: 12
                Entries: 3
                Dropped: 0

            """
        let families = HistMapping.map(try HistParser.parse(text).blocks[0], with: metric)
        #expect(families.map(\.name) == ["ftrace_offcpu_switches"])
        let series = families[0].allMetrics.map { ($0.labels.map(\.value), $0.value) }
        #expect(series.map(\.0) == [["D"], ["S"]])
        #expect(series.map(\.1) == [.counter(7), .counter(5)])
    }

    /// Time blocked per stack as Linux 6.12 printed it in the VM: a stack field's key puts the
    /// first frame on the key's own line.
    @Test func offcpuTimeSumsTheTimeBlocked() throws {
        let config = try DefaultConfig.load()
        let metric = try #require(config.triggerSet(named: "offcpu_time_stacks")?.triggers[2].metric)
        let text = """
            # event histogram
            #
            # trigger info: hist:keys=stack.stacktrace:vals=hitcount,delta:sort=delta.descending:size=4096 [active]
            #

            { stack.stacktrace         __schedule+0x5bc/0xbf0
                     schedule+0x27/0xc0
                     schedule_timeout+0x9e/0x170
                     kcompactd+0x3f2/0x450
                     kthread+0xd2/0x100
                     ret_from_fork+0x34/0x50
                     ret_from_fork_asm+0x1a/0x30
            } hitcount:          4  delta:    2042434
            { stack.stacktrace         __schedule+0x5bc/0xbf0
                     schedule+0x27/0xc0
                     do_nanosleep+0x7a/0x130
                     hrtimer_nanosleep+0xa1/0x170
            } hitcount:          1  delta:    2000444

            Totals:
                Hits: 5
                Entries: 2
                Dropped: 0

            """
        let block = try HistParser.parse(text).blocks[0]
        #expect(block.entries.count == 2)
        let families = HistMapping.map(block, with: metric)
        #expect(families.map(\.name) == ["ftrace_offcpu_intervals", "ftrace_offcpu_seconds"])
        #expect(families.map { $0.allMetrics.map(\.value) } == [[.counter(5)], [.counter(4.042878)]])
    }
}
