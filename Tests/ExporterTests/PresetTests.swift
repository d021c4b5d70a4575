@testable import Exporter
import HistFormat
import Testing
import TraceFS
import TraceFSTesting

/// The built-in presets, against the in-memory kernel; the VM scenarios run them for real.
@Suite struct PresetTests {
    static let presets = ["wakeup_latency", "wakeup_latency_rt", "syscall_latency", "block_io_latency",
                          "irq_handler_duration", "kmalloc_by_call_site", "context_switches", "syscall_errors"]

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
        for name in Self.presets { #expect(try controller.install(name).state == .installed, "\(name)") }
        for name in Self.presets { #expect(try controller.status(of: name).state == .installed, "\(name) after all") }
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
}
