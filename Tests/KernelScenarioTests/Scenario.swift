import Foundation
import TestKit
import Testing

/// What the phases share: one boot, one exporter, and what earlier phases learned. The phases
/// run one at a time in source order (`.serialized`), so nothing here is touched concurrently.
final class Scenario: @unchecked Sendable {
    static let shared = Scenario()

    let vm = VirtualMachine()
    let guest: GuestShell
    let exporter: ExporterEndpoint
    /// The allow-list, read in the admin API phase.
    var allowList = AllowList(triggerSets: [])
    var prometheus: PrometheusServer?
    var prometheusStarted = Date()
    /// The phase whose step failed outright, with the error: the phases after it cannot run.
    private var stoppedBy: String?
    private(set) var passed = 0
    private(set) var failed = 0

    private init() {
        guest = GuestShell(controlPort: vm.controlPort)
        let token = (try? String(contentsOf: Repository.adminToken, encoding: .utf8)) ?? ""
        exporter = ExporterEndpoint(port: vm.exporterPort, token: token.trimmingCharacters(in: .whitespacesAndNewlines),
                                    maxTime: vm.curlMaxTime)
    }

    /// Runs one phase, unless an earlier one stopped the scenario.
    func phase(_ body: (Scenario) throws -> Void) throws {
        let name = Test.current?.displayName ?? Test.current?.name ?? "?"
        if let stoppedBy {
            Issue.record("not run: the scenario stopped in \(stoppedBy)")
            return
        }
        say("\(name) ...")
        do {
            try body(self)
        } catch {
            stoppedBy = "\"\(name)\" (\(error))"
            throw error
        }
    }

    /// One check of the scenarios: an expectation, and a PASS or FAIL line as it happens, so the
    /// log of a long run reads as it goes (Swift Testing reports only the expectations that fail).
    func check(_ ok: Bool, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if ok { passed += 1 } else { failed += 1 }
        FileHandle.standardError.write(Data("\(ok ? "PASS" : "FAIL") [\(vm.kernel)] \(what)\n".utf8))
        #expect(ok, "\(what)", sourceLocation: sourceLocation)
    }

    // MARK: The kernel's side, read in the guest

    static let tracefs = "/sys/kernel/tracing"
    static let instance = "\(tracefs)/instances/ftrace_exporter"
    /// The exporter's log since it last started.
    static let lastStartLog = "sed -n '/msg=starting/h; /msg=starting/!H; ${x;p}' /var/log/exporter.log"

    /// The hist trigger lines in each event's trigger file in our instance (0 where the file does
    /// not exist).
    func triggerLines(_ events: [String]) throws -> [Int] {
        let script = "for e in \(events.joined(separator: " ")); do n=0; [ -f \(Self.instance)/events/$e/trigger ] && "
            + "n=$(grep -c '^hist:' \(Self.instance)/events/$e/trigger); echo $n; done"
        let output = try guest.mustRun(script)
        let counts = output.split(separator: "\n").compactMap { Int($0) }
        guard counts.count == events.count else { throw ScenarioError("trigger line counts of \(events): \(output)") }
        return counts
    }

    /// triggerLines over the events of `set`.
    func triggerLines(of set: String = "wakeup_latency") throws -> [Int] {
        try triggerLines(allowList.events(of: set))
    }

    /// The exporter's own start, as `Tests/VM/files/rig-start` does it.
    static let exporterStart = "exporter-start --web.listen-address=:9747 --admin.token-file=/etc/ftrace_exporter/token"

    /// Stops the exporter with SIGTERM and waits (10 s at most) for its exit status.
    func stopExporter() throws {
        try guest.mustRun("exporter-stop; n=0; while [ ! -f /run/exporter.status ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done")
    }
}

/// "1 1 1", as the counts read in a message.
func spaced(_ counts: [Int]) -> String { counts.map(String.init).joined(separator: " ") }

/// A count as a message shows it.
func whole(_ value: Double) -> String { value.isFinite ? String(Int(value.rounded())) : "\(value)" }
