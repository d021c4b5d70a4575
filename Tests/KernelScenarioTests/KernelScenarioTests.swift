import Testing

/// The real-kernel scenarios: a Debian kernel in qemu with the exporter, driven from the host
/// over HTTP through the VM's forwarded ports. `scripts/vm/scenarios` boots the VM and runs this
/// suite; without it (an ordinary `swift test`) the suite is skipped.
///
/// The phases share one boot and build on each other, so they run one at a time in the order
/// they are declared here. A phase whose step fails outright (no answer, a guest command that
/// had to succeed) stops the ones after it.
@Suite("real-kernel scenarios", .serialized,
       .enabled(if: VirtualMachine.isBooted, "needs the VM that scripts/vm/scenarios boots"))
struct KernelScenarioTests {
    let scenario = Scenario.shared

    @Test("default start under load")
    func defaultStart() throws { try scenario.phase { try $0.defaultStartUnderLoad() } }

    @Test("discovery of a trigger installed before the start")
    func discovery() throws { try scenario.phase { try $0.discovery() } }

    @Test("admin API over the allow-list, one set at a time")
    func oneSetAtATime() throws { try scenario.phase { try $0.adminOneSetAtATime() } }

    @Test("a time-boxed install ends on time")
    func timeBoxedInstall() throws { try scenario.phase { try $0.timeBoxedInstall() } }

    @Test("churn past every bookkeeping table")
    func churn() throws { try scenario.phase { try $0.churnPastEveryBookkeepingTable() } }

    @Test("Prometheus start")
    func prometheusStart() throws { try scenario.phase { try $0.startPrometheus() } }

    @Test("all presets installed together, scraped by Prometheus, dashboards answered")
    func allPresets() throws { try scenario.phase { try $0.allPresetsTogether() } }

    @Test("remove-all")
    func removeAll() throws { try scenario.phase { try $0.removeAll() } }

    @Test("wakeup latency per cgroup and pod")
    func perCgroup() throws { try scenario.phase { try $0.wakeupLatencyPerCgroup() } }

    @Test("kill -9 and restart: adopt")
    func restartAdopt() throws { try scenario.phase { try $0.killAndRestartAdopting() } }

    @Test("one exporter per instance")
    func oneExporterPerInstance() throws { try scenario.phase { try $0.oneExporterPerInstance() } }

    @Test("faults staged in the real kernel")
    func faults() throws { try scenario.phase { try $0.faults() } }

    @Test("SIGTERM")
    func sigterm() throws { try scenario.phase { try $0.sigterm() } }

    @Test("kill -9 and restart: on_start clean")
    func restartClean() throws { try scenario.phase { try $0.killAndRestartCleaning() } }

    @Test("the overhead breaker trips under load, not without")
    func overheadBreaker() throws { try scenario.phase { try $0.overheadBreaker() } }

    @Test("a trigger the kernel rejects")
    func rejectedTrigger() throws { try scenario.phase { try $0.rejectedTrigger() } }
}
