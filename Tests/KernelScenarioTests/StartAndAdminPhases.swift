import Foundation
import Testing

extension Scenario {
    func defaultStartUnderLoad() throws {
        check(exporter.becomesReady(), "exporter ready after installing the default set")
        // Load for the two scrapes below only: still running during the admin phase, it made
        // that half again as slow. (The all-presets phase has load of its own.)
        try guest.mustRun("setsid load 12 4 </dev/null >/dev/null 2>&1 &")
        sleep(seconds: 4)
        let a = try exporter.scrape()
        sleep(seconds: 4)
        let b = try exporter.scrape()
        let countA = a.sum("ftrace_wakeup_latency_seconds_count")
        let countB = b.sum("ftrace_wakeup_latency_seconds_count")
        check(countA > 0, "wakeup latency histogram is non-empty (\(whole(countA)))")
        check(countB > countA, "its _count grows between scrapes (\(whole(countA)) -> \(whole(countB)))")
        check(infiniteBucketsMatchCounts(b, "ftrace_wakeup_latency_seconds"), "+Inf bucket equals _count for every CPU")
        check(promtoolAccepts(b.text), "promtool check metrics accepts the exposition")
        check(b.has("ftrace_exporter_trigger_set_state", ["set": "wakeup_latency", "state": "installed"], value: 1),
              "trigger set state is installed")
    }

    /// Every `_count` series of the histogram has a `+Inf` bucket equal to it, and there is one.
    private func infiniteBucketsMatchCounts(_ metrics: Metrics, _ histogram: String) -> Bool {
        let counts = metrics.samples("\(histogram)_count")
        let infinite = metrics.samples("\(histogram)_bucket", ["le": "+Inf"])
        return !counts.isEmpty && counts.allSatisfy { count in
            infinite.contains { $0.labels.filter { $0.key != "le" } == count.labels && $0.value == count.value }
        }
    }

    private func promtoolAccepts(_ exposition: String) -> Bool {
        let file = vm.work.appendingPathComponent("scrape.prom")
        guard (try? exposition.write(to: file, atomically: true, encoding: .utf8)) != nil,
              let input = try? FileHandle(forReadingFrom: file) else { return false }
        defer { try? input.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["promtool", "check", "metrics"]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    func discovery() throws {
        let metrics = try exporter.scrape()
        let discovered = metrics.samples("ftrace_hist_hits_total", ["tracefs_instance": "", "system": "kmem", "event": "kmalloc"])
            .contains { sample in
                let table = sample.labels["table"] ?? ""
                return !table.isEmpty && table.allSatisfy(\.isHexDigit) && sample.labels["comm"] != nil
            }
        check(discovered, "a top-level trigger installed before start is discovered")
    }

    func adminOneSetAtATime() throws {
        let listing = try exporter.admin("GET", "/api/v1/trigger-sets")
        allowList = try AllowList.decode(listing.body)
        let sets = allowList.names
        check(!sets.isEmpty, "the allow-list is listed (\(sets.joined(separator: " ")))")
        // Tracepoint probes (CONFIG_FPROBE_EVENTS) and stacks in synthetic events (6.5+) are
        // not in 6.1: those sets are unsupported there, and say why.
        let reasons = ["wakeup_latency_by_cgroup": "CONFIG_FPROBE_EVENTS", "offcpu_time_stacks": "6.5"]
        let expectedUnsupported = vm.kernel == "6.1" ? ["wakeup_latency_by_cgroup", "offcpu_time_stacks"] : []
        check(allowList.unsupported.map(\.name) == expectedUnsupported,
              "the sets this kernel cannot run are marked unsupported: \(allowList.unsupported.map { "\($0.name) (\($0.reason))" })")
        for (set, _) in allowList.unsupported {
            let refused = try exporter.install(set)
            check(refused.code == 503 && refused.body.contains(reasons[set] ?? "?"), "installing unsupported \(set) answers 503 with the reason (\(refused.code))")
            check(exporter.state(of: set) == "absent", "nothing of unsupported \(set) is in the kernel")
        }
        for set in sets {
            let removal = try exporter.remove(set)
            check(removal.code == 200, "remove \(set) answers 200")
            check(removal.state == "absent", "after removing \(set) its state is absent")
            let install = try exporter.install(set)
            check(install.code == 200, "install \(set) answers 200 (\(install.excerpt(300)))")
            check(install.state == "installed", "after installing \(set) its state is installed")
            if let family = Presets.family(set) {
                try guest.mustRun(Presets.load(set))
                var total = 0.0
                for _ in 0..<8 {
                    sleep(seconds: 1)
                    total = try exporter.scrape().sum(family)
                    if total > 0 { break }
                }
                check(total > 0, "\(set) produces data under matching load (\(family) = \(whole(total)))")
            }
            if set != "wakeup_latency" {
                let removal = try exporter.remove(set)
                check(removal.state == "absent", "\(set) is removed cleanly")
            }
        }
    }

    /// Each latency set pairs two events through tables keyed by pid (or device and sector),
    /// which the kernel never empties. Under churn of new keys past 3x their size, the exporter
    /// must rotate them and keep measuring: N new tasks (or requests) afterwards add at least N
    /// to the count.
    func churnPastEveryBookkeepingTable() throws {
        // New tids stay new only with a large pid_max, as on systemd hosts (at 32768 they repeat).
        try guest.mustRun("echo 4194304 > /proc/sys/kernel/pid_max")
        for set in Presets.churned where allowList.names.contains(set) {
            try churn(set)
        }
    }

    private func churn(_ set: String) throws {
        let family = Presets.family(set) ?? ""
        let ofSet = ["set": set]
        if set != "wakeup_latency" {
            let code = try exporter.install(set).code
            check(code == 200, "churn: install \(set) (200, got \(code))")
        }
        // The tables not on the set's synthetic event; a refresh that began before the install
        // does not show them yet.
        let bookkeeping = { (sample: Metrics.Sample) in sample.labels["system"] != "synthetic" }
        var metrics = Metrics("")
        var capacity = 0
        _ = eventually {
            metrics = try exporter.scrape()
            capacity = Int(metrics.maximum("ftrace_hist_capacity", ["trigger_set": set], where: bookkeeping))
            return capacity > 0
        }
        check(capacity > 0, "churn: \(set)'s bookkeeping tables hold at most \(capacity) entries each")
        let rotations0 = metrics.sum("ftrace_exporter_trigger_set_rotations_total", ofSet)
        let keys = capacity * 7 / 2
        let started = Date()
        say("churn for \(set): " + (try guest.mustRun(Presets.churn(set, keys: keys), maxTime: 900)))
        sleep(seconds: 2)
        metrics = try exporter.scrape()
        let rotations = metrics.sum("ftrace_exporter_trigger_set_rotations_total", ofSet) - rotations0
        if set == "block_io_latency" {
            // Its tables are keyed by the sector modulo 65536, which repeats: 4 KiB reads leave
            // 8192 residues per device, so they stay far below their size and never need a rotation.
            let entries = Int(metrics.maximum("ftrace_hist_entries", ["trigger_set": set], where: bookkeeping))
            check(entries <= 8192, "churn: after \(keys) new sectors \(set)'s bookkeeping tables hold at most 8192 entries "
                  + "(\(entries) of \(capacity), \(whole(rotations)) rotations)")
        } else {
            let took = String(format: "%.1fs", Date().timeIntervalSince(started))
            check(rotations >= 3, "churn: \(keys) new keys (3.5x size=\(capacity)) rotated \(set)'s bookkeeping tables "
                  + "(\(whole(rotations)) times in \(took))")
        }
        let failures = metrics.sum("ftrace_exporter_trigger_set_rotation_failures_total", ofSet)
        check(failures == 0, "churn: no rotation of \(set) failed (\(whole(failures)))")
        let drops = metrics.sum("ftrace_exporter_bookkeeping_dropped_total", ofSet)
        check(drops == 0, "churn: \(set)'s bookkeeping tables dropped nothing (\(whole(drops)))")
        let outputDrops = metrics.sum("ftrace_hist_dropped_total", ["trigger_set": set, "system": "synthetic"])
        check(outputDrops == 0, "churn: \(set)'s output table dropped nothing (\(whole(outputDrops)))")
        check(exporter.state(of: set) == "installed", "churn: \(set) is still installed")
        try newWorkIsMeasured(set, family: family, keys: capacity / 16)
        if set != "wakeup_latency" {
            let code = try exporter.remove(set).code
            check(code == 200, "churn: remove \(set) (200, got \(code))")
        }
    }

    /// New work after the churn is measured: `keys` new keys show in the kernel's own output
    /// table (its Hits, read in the guest) and then in /metrics. A rotation misses the pairs in
    /// flight and those that start or end while its triggers are out, so a try that raced one
    /// is made again.
    private func newWorkIsMeasured(_ set: String, family: String, keys n: Int) throws {
        let hist = "\(Self.instance)/events/synthetic/\(Presets.syntheticEvent(set) ?? "")/hist"
        let kernelHits = { () throws -> Int in
            let output = try self.guest.mustRun("awk '/^ *Hits:/ { h = $2 } END { print h + 0 }' \(hist)")
            guard let hits = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw ScenarioError("Hits of \(hist): \(output)")
            }
            return hits
        }
        let rotations = { try self.exporter.scrape().sum("ftrace_exporter_trigger_set_rotations_total", ["set": set]) }
        var raced = 0, k0 = 0, k1 = 0
        for attempt in 1...3 {
            let r0 = try rotations()
            k0 = try kernelHits()
            try guest.mustRun(Presets.churn(set, keys: n))
            k1 = try kernelHits()
            sleep(seconds: 2)  // a rotation under way when the churn ended is counted once it is done
            if try rotations() == r0 { break }
            raced = attempt
        }
        if raced == 3 {
            check(false, "churn: \(n) new keys after the churn: each of 3 tries raced a rotation of \(set)")
        } else {
            check(k1 - k0 >= n, "churn: \(n) new keys after the churn add at least \(n) to the kernel's \(set) output table "
                  + "(\(k0) -> \(k1); \(raced) tries raced a rotation)")
        }
        // Under emulation a refresh can take tens of seconds here: the kernel prints a table of
        // thousands of entries in seconds, one file at a time, and the rotator's looks read them too.
        var after = 0.0
        for _ in 0..<3 {
            if eventually({ after = try exporter.scrape().sum(family); return after >= Double(k1) }) { break }
        }
        let refresh = (try? exporter.scrape().sum("ftrace_exporter_refresh_duration_seconds")) ?? .nan
        check(after >= Double(k1), "churn: /metrics shows what the kernel counted: \(family) reaches \(k1) "
              + "(got \(whole(after)); last refresh took \(String(format: "%.1f", refresh)) s)")
    }
}
