import Foundation
import TestKit

/// The VM `scripts/vm/scenarios` booted, as it hands it over in the environment: the kernel
/// version, the host ports forwarded to the exporter and to the guest's control server, and a
/// work folder for what the run leaves behind (Prometheus's data, its pid).
struct VirtualMachine {
    static let environment = ProcessInfo.processInfo.environment
    /// Set only by `scripts/vm/scenarios`: an ordinary `swift test` skips the scenarios.
    static var isBooted: Bool { environment["FTRACE_EXPORTER_VM_CONTROL_PORT"] != nil }

    let kernel = environment["FTRACE_EXPORTER_VM_KERNEL"] ?? "?"
    let exporterPort = Int(environment["FTRACE_EXPORTER_VM_PORT"] ?? "") ?? 0
    let controlPort = Int(environment["FTRACE_EXPORTER_VM_CONTROL_PORT"] ?? "") ?? 0
    let work = URL(fileURLWithPath: environment["FTRACE_EXPORTER_VM_WORK"] ?? NSTemporaryDirectory())
    /// Every request to the exporter and to Prometheus has this time limit.
    let curlMaxTime = Double(environment["VM_CURL_MAX_TIME"] ?? "") ?? 20
    /// How long Prometheus scrapes with every preset installed.
    let allPresetsSeconds = Int(environment["VM_ALL_PRESETS_SECONDS"] ?? "") ?? 30
    /// Short-lived cgroups the per-cgroup phase makes: enough entries to bring the by-cgroup table to its mark.
    let cgroupChurn = Int(environment["VM_CGROUP_CHURN"] ?? "") ?? 2000
}

/// Paths into the repository the scenarios read: the admin token the guest was given, the
/// dashboards and the tool that lists their queries.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let adminToken = root.appendingPathComponent("Tests/VM/files/token")
    static let dashboards = root.appendingPathComponent("dashboards")
    static let dashboardQueries = root.appendingPathComponent("scripts/dashboard-queries")
}

/// A step of the scenarios that is not a check failed (no answer, a guest command that had to
/// succeed did not): the scenario cannot go on.
struct ScenarioError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The guest's control server (`scripts/vm/guest/www/cgi-bin/run`): POST a shell script, the
/// answer is its output and a last line `exit=N`.
struct GuestShell {
    let controlPort: Int

    struct Outcome {
        var output: String
        var status: Int32
    }

    /// Runs `script` with /bin/sh in the guest, as root. Throws when the guest does not answer.
    func run(_ script: String, maxTime: Double = 120) throws -> Outcome {
        let answer = try curl(["--data-raw", script, "http://127.0.0.1:\(controlPort)/cgi-bin/run"], maxTime: maxTime)
        guard answer.exitCode == 0 else {
            throw ScenarioError("no answer from the guest's control server to `\(script.prefix(200))`: \(answer.stderr)")
        }
        var lines = answer.body.split(separator: "\n", omittingEmptySubsequences: false)
        while lines.last == "" { lines.removeLast() }
        guard let last = lines.last, last.hasPrefix("exit="), let status = Int32(last.dropFirst(5)) else {
            throw ScenarioError("the control server's answer to `\(script.prefix(200))` has no exit= line: \(answer.body.suffix(300))")
        }
        return Outcome(output: lines.dropLast().joined(separator: "\n"), status: status)
    }

    /// Whether `script` exits 0; no answer counts as a failure.
    func succeeds(_ script: String) -> Bool {
        (try? run(script))?.status == 0
    }

    /// Runs a step `script` that must succeed, and returns its output.
    @discardableResult
    func mustRun(_ script: String, maxTime: Double = 120) throws -> String {
        let outcome = try run(script, maxTime: maxTime)
        guard outcome.status == 0 else {
            throw ScenarioError("`\(script.prefix(300))` exited \(outcome.status) in the guest: \(outcome.output.suffix(500))")
        }
        return outcome.output
    }
}

/// The exporter in the guest, through its forwarded port.
struct ExporterEndpoint {
    let port: Int
    let token: String
    let maxTime: Double

    var base: String { "http://127.0.0.1:\(port)" }

    func scrape() throws -> Metrics {
        let answer = try curl(["\(base)/metrics"], maxTime: maxTime)
        guard answer.exitCode == 0 else { throw ScenarioError("scrape of \(base)/metrics failed: \(answer.stderr)") }
        return Metrics(answer.body)
    }

    /// An admin API request: its status and JSON answer.
    func admin(_ method: String, _ path: String) throws -> AdminAnswer {
        let answer = try curl(["-X", method, "-H", "Authorization: Bearer \(token)", base + path], maxTime: maxTime)
        guard answer.exitCode == 0 else { throw ScenarioError("\(method) \(path) failed: \(answer.stderr)") }
        return AdminAnswer(code: answer.httpCode, body: answer.body)
    }

    func install(_ set: String) throws -> AdminAnswer { try admin("POST", "/api/v1/trigger-sets/\(set)/install") }
    func install(_ set: String, for duration: String) throws -> AdminAnswer {
        try admin("POST", "/api/v1/trigger-sets/\(set)/install?duration=\(duration)")
    }
    func remove(_ set: String) throws -> AdminAnswer { try admin("POST", "/api/v1/trigger-sets/\(set)/remove") }

    /// The set's state as the status API says it, nil when it does not answer.
    func state(of set: String) -> String? {
        (try? admin("GET", "/api/v1/trigger-sets/\(set)"))?.state
    }

    /// Whether `/-/ready` answers 200 within a minute, asked every 0.5 s.
    func becomesReady() -> Bool {
        for _ in 0..<120 {
            if let answer = try? curl(["\(base)/-/ready"], maxTime: 5), answer.httpCode == 200 { return true }
            Thread.sleep(forTimeInterval: 0.5)
        }
        return false
    }
}

/// What the admin API answered.
struct AdminAnswer {
    let code: Int
    let body: String

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    /// The set's state in an answer about one set.
    var state: String? { json["state"] as? String }

    /// The start of the answer, for a check's message.
    func excerpt(_ length: Int) -> String { String(body.prefix(length)) }
}

/// The allow-list as `GET /api/v1/trigger-sets` describes it.
struct AllowList: Decodable {
    struct TriggerSet: Decodable {
        struct Trigger: Decodable { let event: String }
        let name: String
        let triggers: [Trigger]
        var supported = true
        var unsupportedReason: String?
    }

    let triggerSets: [TriggerSet]

    static func decode(_ body: String) throws -> AllowList {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(AllowList.self, from: Data(body.utf8))
    }

    /// The sets this kernel can run.
    var names: [String] { triggerSets.filter(\.supported).map(\.name) }

    /// The sets it cannot, with the reason the exporter gives.
    var unsupported: [(name: String, reason: String)] {
        triggerSets.filter { !$0.supported }.map { ($0.name, $0.unsupportedReason ?? "") }
    }

    /// The events of the set's triggers, in the set's order.
    func events(of set: String) -> [String] {
        triggerSets.first { $0.name == set }?.triggers.map(\.event) ?? []
    }

    /// How many triggers all sets together put on each event.
    var triggersPerEvent: [String: Int] {
        triggerSets.filter(\.supported).flatMap(\.triggers).reduce(into: [:]) { $0[$1.event, default: 0] += 1 }
    }
}

/// Waits for `condition` to hold: tried `tries` times, `interval` seconds apart. A try that
/// throws counts as not yet.
func eventually(tries: Int = 20, interval: Double = 1, _ condition: () throws -> Bool) -> Bool {
    for attempt in 1...tries {
        if (try? condition()) == true { return true }
        if attempt < tries { Thread.sleep(forTimeInterval: interval) }
    }
    return false
}

func sleep(seconds: Double) { Thread.sleep(forTimeInterval: seconds) }

/// Messages outside the checks, on stderr as the scripts' own.
func say(_ message: String) {
    FileHandle.standardError.write(Data("scenarios: \(message)\n".utf8))
}
