import Foundation
import TestKit
import Testing

extension Scenario {
    /// A real Prometheus on the host's loopback, scraping the exporter every second from here
    /// until the dashboards are checked.
    func startPrometheus() throws {
        let directory = vm.work.appendingPathComponent("prometheus")
        try? FileManager.default.removeItem(at: directory)
        let server = try PrometheusServer(configuration: """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: ftrace_exporter
                static_configs: [{targets: ["127.0.0.1:\(vm.exporterPort)"]}]
            """, directory: directory)
        server.queryMaxTime = vm.curlMaxTime
        prometheus = server
        prometheusStarted = Date()
        // If this process dies before it stops Prometheus, scripts/vm/scenarios does.
        try "\(server.processIdentifier)\n".write(to: vm.work.appendingPathComponent("prometheus.pid"), atomically: true, encoding: .utf8)
        check(server.becomesReady(within: 20), "Prometheus is ready")
    }

    func allPresetsTogether() throws {
        guard let prometheus else { throw ScenarioError("Prometheus was not started") }
        defer {
            prometheus.stop()
            self.prometheus = nil
            try? FileManager.default.removeItem(at: vm.work.appendingPathComponent("prometheus.pid"))
        }
        let sets = allowList.names
        for set in sets {
            let install = try exporter.install(set)
            check(install.code == 200, "with the others, install \(set) answers 200 (\(install.excerpt(200)))")
            check(install.state == "installed", "with the others, \(set) reads as installed")
        }
        let allInstalled = Date()
        // Every trigger file of the allow-list holds each of its triggers once: as many hist lines
        // as sets put triggers there (three on sched_switch, for example).
        let perEvent = allowList.triggersPerEvent.sorted { $0.key < $1.key }
        let lines = try triggerLines(perEvent.map(\.key))
        check(lines == perEvent.map(\.value), "every trigger of every preset is in the kernel once (\(spaced(lines)))")
        try guest.mustRun("cat > /tmp/all-load <<\"EOF\"\n\(allLoad(sets))\nEOF\n"
                          + "setsid sh /tmp/all-load </dev/null >/dev/null 2>&1 & echo $! > /run/all-load.pid")
        var totals: [String: Double] = [:]
        for _ in 0..<20 {
            sleep(seconds: 1)
            let metrics = try exporter.scrape()
            for set in sets { totals[set] = metrics.sum(Presets.family(set) ?? "") }
            if totals.values.allSatisfy({ $0 > 0 }) { break }
        }
        for set in sets {
            let total = totals[set] ?? 0
            check(total > 0, "together with the others, \(set) produces data (\(Presets.family(set) ?? "?") = \(whole(total)))")
        }
        if sets.contains("syscall_errors") {
            let failedOpens = try exporter.scrape().sum("ftrace_syscall_errors_total", ["errno": "ENOENT"])
            check(failedOpens > 0, "syscall_errors names the error: opening a missing file counts as errno=\"ENOENT\" (\(whole(failedOpens)))")
        }
        if sets.contains("function_latency") {
            let fsyncs = try exporter.scrape().sum("ftrace_function_latency_seconds_count", ["function": "vfs_fsync_range"])
            check(fsyncs > 0, "function_latency names the function: fsync calls count as function=\"vfs_fsync_range\" (\(whole(fsyncs)))")
        }
        try stackTablesAsFlameGraphs()
        // Enough data for the dashboards' 20s rate windows.
        let rest = Double(vm.allPresetsSeconds) - Date().timeIntervalSince(allInstalled)
        if rest > 0 {
            say("all presets installed: Prometheus scrapes \(Int(rest))s more")
            sleep(seconds: rest)
        }
        try checkScrapes(since: allInstalled)
        let p99 = Double(try value(of: "histogram_quantile(0.99, sum by (le) (rate(ftrace_wakeup_latency_seconds_bucket[20s])))") ?? "")
        check(p99.map { $0.isFinite && $0 > 0 } ?? false, "p99 wakeup latency from PromQL is finite and positive (\(p99.map { "\($0)" } ?? "none") s)")
        try checkDashboards()
        try guest.mustRun("kill -TERM -$(cat /run/all-load.pid) 2>/dev/null; true")
    }

    /// The matching load of every preset, each in a loop of its own, plus scheduler load, until
    /// the process group is killed. At nice 19: the loops and the exporter's refresh of every
    /// preset (seconds of CPU under TCG) left the exporter's HTTP thread so little of the guest
    /// that a scrape sometimes took over Prometheus's 1 s timeout.
    private func allLoad(_ sets: [String]) -> String {
        (["renice -n 19 -p $$ >/dev/null", "load \(vm.allPresetsSeconds + 60) 2 >/dev/null 2>&1 &"]
            + sets.map { "while :; do \(Presets.load($0)); sleep 1; done &" }
            + ["wait"]).joined(separator: "\n")
    }

    /// `up` over the time every preset has been installed, when no admin action runs. Failed
    /// scrapes since Prometheus started are only reported: an admin action holds the
    /// libmicrohttpd pool thread it runs on, and the keep-alive scrape connection served by the
    /// same thread waits for it; installs and removals that take over a second under TCG then
    /// fail a scrape.
    private func checkScrapes(since allInstalled: Date) throws {
        let window = Int(Date().timeIntervalSince(allInstalled)) - 1
        let upMinimum = try value(of: "min_over_time(up[\(window)s])")
        let upScrapes = try value(of: "count_over_time(up[\(window)s])")
        let upFailed = try value(of: "count_over_time(up[\(window)s]) - sum_over_time(up[\(window)s])")
        let slowest = try value(of: "max_over_time(scrape_duration_seconds[\(window)s])")
        let scrapes = upScrapes.flatMap { Double($0) }.map { Int($0) } ?? 0
        check(upMinimum == "1" && scrapes >= window * 6 / 10,
              "up == 1 throughout (\(upScrapes ?? "none") scrapes in \(window)s, \(upFailed ?? "none") failed, slowest \(slowest ?? "none") s)")
        let since = Int(Date().timeIntervalSince(prometheusStarted))
        let down = try value(of: "count_over_time(up[\(since)s]) - sum_over_time(up[\(since)s])")
        FileHandle.standardError.write(Data("NOTE [\(vm.kernel)] scrapes that failed in the \(since)s since Prometheus started: \(down ?? "none")\n".utf8))
    }

    /// The first value of an instant query's result, nil when the result is empty.
    private func value(of expression: String) throws -> String? {
        guard let prometheus else { throw ScenarioError("Prometheus is not running") }
        let answer = try prometheus.query(expression)
        guard let json = (try? JSONSerialization.jsonObject(with: Data(answer.utf8))) as? [String: Any],
              let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]] else {
            throw ScenarioError("Prometheus answered \(expression) with \(answer.prefix(300))")
        }
        return (result.first?["value"] as? [Any])?.last as? String
    }

    /// Every PromQL expression of the dashboards (panels and template variables) evaluates
    /// against this Prometheus and, with every preset installed and loaded, returns data.
    private func checkDashboards() throws {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: Repository.dashboards.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { Repository.dashboards.appendingPathComponent($0).path }
        guard !files.isEmpty, let prometheus else { return }
        let queries = try dashboardQueries(files)
        // The families of sets this kernel cannot run (stacks in synthetic events on 6.1) stay empty.
        let allowed = Self.mayBeEmpty + allowList.unsupported.flatMap { set in
            Presets.families(set.name).map { (metric: $0, reason: "\(set.name) cannot run on this kernel") }
        }
        var failed = 0, empty = 0
        for query in queries {
            switch outcome(of: query.expression, prometheus) {
            case .returnsData:
                continue
            case .error(let message):
                failed += 1
                say("dashboard query error: \(query.location): \(query.expression) (\(message))")
            case .empty:
                if let why = allowed.first(where: { mentions(query.expression, $0.metric) }) {
                    say("dashboard query allowed-empty: \(query.location): \(query.expression) (\(why.metric): \(why.reason))")
                } else {
                    empty += 1
                    say("dashboard query empty: \(query.location): \(query.expression)")
                }
            }
        }
        check(failed == 0, "every dashboard query evaluates against this Prometheus (\(failed) of \(queries.count) failed)")
        check(empty == 0, "every dashboard query returns data with every preset installed "
              + "(\(empty) of \(queries.count) empty, allowed ones aside)")
    }

    /// Dashboard queries that may return nothing even with every preset installed and loaded,
    /// by a metric they use.
    private static let mayBeEmpty = [
        (metric: "ftrace_exporter_refresh_errors_total",
         reason: "created with the first failed read of a hist file; a healthy run has none"),
    ]

    private func dashboardQueries(_ files: [String]) throws -> [(location: String, expression: String)] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.dashboardQueries.path, "--locate", "--interval", "20s",
                             "--instance", "127.0.0.1:\(vm.exporterPort)"] + files
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ScenarioError("scripts/dashboard-queries exited \(process.terminationStatus)") }
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            let file = URL(fileURLWithPath: fields[0]).lastPathComponent
            return (location: "\(file) \(fields.count > 1 ? fields[1] : "")", expression: fields.count > 2 ? fields[2] : "")
        }
    }

    private enum QueryOutcome {
        case returnsData, empty, error(String)
    }

    private func outcome(of expression: String, _ prometheus: PrometheusServer) -> QueryOutcome {
        guard let answer = try? prometheus.query(expression) else { return .error("no answer") }
        guard let json = (try? JSONSerialization.jsonObject(with: Data(answer.utf8))) as? [String: Any] else {
            return .error(answer.isEmpty ? "no answer" : String(answer.prefix(300)))
        }
        guard json["status"] as? String == "success" else { return .error("\(json["error"] ?? answer)") }
        let result = (json["data"] as? [String: Any])?["result"]
        if result == nil || result is NSNull || (result as? [Any])?.isEmpty == true { return .empty }
        return .returnsData
    }

    /// Whether `expression` names `metric` as a whole word.
    private func mentions(_ expression: String, _ metric: String) -> Bool {
        let isWordCharacter = { (c: Character) in c.isLetter || c.isNumber || c == "_" }
        var searchFrom = expression.startIndex
        while let range = expression.range(of: metric, range: searchFrom..<expression.endIndex) {
            let before = range.lowerBound == expression.startIndex ? nil : expression[expression.index(before: range.lowerBound)]
            let after = range.upperBound == expression.endIndex ? nil : expression[range.upperBound]
            if !(before.map(isWordCharacter) ?? false) && !(after.map(isWordCharacter) ?? false) { return true }
            searchFrom = range.upperBound
        }
        return false
    }
}
