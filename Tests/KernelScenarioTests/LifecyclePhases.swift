import Foundation
import Testing

extension Scenario {
    /// The set that is installed through the admin API before each crash.
    static let adminInstalled = "irq_handler_duration"

    func removeAll() throws {
        let answer = try exporter.admin("POST", "/api/v1/remove-all")
        let results = answer.json["results"] as? [[String: Any]] ?? []
        check(answer.code == 200 && !results.contains { $0["ok"] as? Bool == false },
              "remove-all answers 200 with every set ok (\(answer.excerpt(300)))")
        let lines = try triggerLines()
        check(lines == [0, 0, 0], "after remove-all the kernel's trigger files hold nothing of ours (\(spaced(lines)))")
        let everyEvent = allowList.triggersPerEvent.keys.sorted()
        let allLines = try triggerLines(everyEvent)
        check(allLines == everyEvent.map { _ in 0 }, "after remove-all no preset's trigger file holds anything (\(spaced(allLines)))")
        check(guest.succeeds("! grep -q ftrace_exporter_ \(Self.tracefs)/synthetic_events"),
              "after remove-all no synthetic event of ours is left")
        check(guest.succeeds("[ -d \(Self.instance) ]"), "after remove-all the instance stays, held by the exporter until it stops")
        check(guest.succeeds("grep -q '^hist:keys=common_pid.execname' \(Self.tracefs)/events/kmem/kmalloc/trigger"),
              "the top-level trigger we do not own is still there")
    }

    /// The default set, and a preset installed through the admin API, are in the kernel at the
    /// crash; the restart (default configuration, on_start: adopt) takes both over.
    func killAndRestartAdopting() throws {
        let x = Self.adminInstalled
        let code = try exporter.install("wakeup_latency").code
        check(code == 200, "wakeup_latency installed again (200, got \(code))")
        let timeBoxed = try exporter.install(x, for: "20m")
        check(timeBoxed.code == 200, "\(x) installed through the admin API for 20m before the crash (200, got \(timeBoxed.code))")
        let deadline = timeBoxed.json["expires_at"] as? String
        check(deadline != nil, "its answer carries the deadline (\(deadline ?? "none"))")
        try guest.mustRun("kill -9 $(cat /run/exporter.pid); sleep 0.5")
        let before = try triggerLines(), xBefore = try triggerLines(of: x)
        check(before == [1, 1, 1], "after kill -9 our triggers are still in the kernel (\(spaced(before)))")
        check(xBefore == [1, 1, 1], "and those of \(x) (\(spaced(xBefore)))")
        try guest.mustRun("\(Self.exporterStart) --refresh.interval=1s")
        check(exporter.becomesReady(), "exporter ready again after the crash")
        let after = try triggerLines(), xAfter = try triggerLines(of: x)
        check(after == [1, 1, 1], "restart adopted them with nothing duplicated (\(spaced(after)))")
        check(xAfter == [1, 1, 1], "nor anything of \(x) duplicated (\(spaced(xAfter)))")
        check(guest.succeeds("! \(Self.lastStartLog) | grep -E 'EBUSY|EEXIST'"), "no EBUSY or EEXIST in the restarted exporter's log")
        check(exporter.state(of: "wakeup_latency") == "installed", "the adopted set reads as installed")
        check(exporter.state(of: x) == "installed", "the adopted \(x) reads as installed")
        check(guest.succeeds("\(Self.lastStartLog) | grep 'adopted trigger set found in the kernel' | grep -q 'set=\(x) '"),
              "the log says \(x) was adopted")
        let adopted = try exporter.admin("GET", "/api/v1/trigger-sets/\(x)").json["expires_at"] as? String
        check(deadline != nil && adopted == deadline, "the adopted \(x) keeps its original deadline (\(adopted ?? "none"))")
        let kept = try exporter.admin("POST", "/api/v1/trigger-sets/\(x)/install").json["expires_at"]
        check(kept is NSNull, "installing it again without a duration makes it permanent (expires_at \(String(describing: kept)))")
    }

    /// A set installed for 3 s is removed by the exporter on its own, counted and logged.
    func timeBoxedInstall() throws {
        let set = "kmalloc_by_call_site"
        let answer = try exporter.install(set, for: "3s")
        check(answer.code == 200, "\(set) installed for 3s (200, got \(answer.code))")
        check(try exporter.scrape().hasFamily("ftrace_exporter_trigger_set_expiry_timestamp_seconds"),
              "its deadline is in /metrics")
        check(eventually(tries: 30, interval: 0.5) { try self.triggerLines(of: set) == [0] },
              "the kernel holds nothing of \(set) within 15 s")
        check(exporter.state(of: set) == "absent", "\(set) reads as absent")
        check(eventually { try self.exporter.scrape().has("ftrace_exporter_trigger_set_expirations_total", ["set": set], value: 1) },
              "the removal is counted")
        check(guest.succeeds("grep 'removed a time-boxed trigger set at its deadline' /var/log/exporter.log | grep -qE 'set=\(set)( |$)'"),
              "and logged")
        let tooLong = try exporter.install("syscall_latency", for: "2h")
        check(tooLong.code == 400 && (tooLong.json["error"] as? String)?.contains("at most 1h") == true,
              "an install past a preset's max_duration answers 400 (\(tooLong.code), \(tooLong.excerpt(200)))")
        check(try triggerLines(of: "syscall_latency") == [0, 0, 0], "and writes nothing")
    }

    func oneExporterPerInstance() throws {
        try guest.mustRun("ftrace_exporter --web.listen-address=127.0.0.1:9751 --refresh.interval=1s >/dev/null 2>/tmp/second.log; "
                          + "echo $? > /tmp/second.status")
        check(guest.succeeds("[ \"$(cat /tmp/second.status)\" = 1 ]"), "a second exporter on the same instance exits 1")
        check(guest.succeeds("grep -q \"is in use by another exporter, process $(cat /run/exporter.pid) \" /tmp/second.log"),
              "naming the first one's pid")
        let lines = try triggerLines()
        check(lines == [1, 1, 1], "and leaves the first one's sets alone (\(spaced(lines)))")
        check(exporter.state(of: "wakeup_latency") == "installed", "the first one still reads them as installed")
    }

    /// The restarted exporter refreshes every second, so each fault shows within a few seconds.
    func faults() throws {
        let stateOfWakeupLatency = { (state: String) in
            eventually {
                try self.exporter.scrape().has("ftrace_exporter_trigger_set_state", ["set": "wakeup_latency", "state": state], value: 1)
            }
        }
        let trigger = "\(Self.instance)/events/synthetic/ftrace_exporter_wakeup_lat/trigger"
        try guest.mustRun("echo '!hist:keys=cpu,lat.log2:vals=hitcount,lat' >> \(trigger)")
        check(guest.succeeds("! grep -q '^hist:keys=cpu,lat' \(trigger)"), "a table of ours removed from outside is gone from the kernel")
        check(stateOfWakeupLatency("partial"), "the set then reads as partial in /metrics")
        check(exporter.state(of: "wakeup_latency") == "partial", "and in the status API")
        sleep(seconds: 2)
        check(guest.succeeds("! grep -q '^hist:keys=cpu,lat' \(trigger)"),
              "it is not put back behind the operator's back (lifecycle.repair is off)")
        let code = try exporter.install("wakeup_latency").code
        check(code == 200, "install puts back only what is missing (200, got \(code))")
        let lines = try triggerLines()
        check(lines == [1, 1, 1], "then each of our triggers is in the kernel once (\(spaced(lines)))")
        check(stateOfWakeupLatency("installed"), "and the set reads as installed")
        try tracefsUnmountedAndMountedAgain()
    }

    /// The exporter holds its instance directory open (its lock), so a plain umount answers EBUSY
    /// while it runs; a lazy one detaches the mount as an operator's would.
    private func tracefsUnmountedAndMountedAgain() throws {
        let tracefsAvailable = { (value: Double) in
            eventually { try self.exporter.scrape().has("ftrace_tracefs_available", [:], value: value) }
        }
        let histogram = "ftrace_wakeup_latency_seconds_count"
        check(guest.succeeds("! umount \(Self.tracefs) 2>/dev/null"),
              "a plain umount of tracefs answers EBUSY while the exporter holds its instance")
        check(guest.succeeds("umount -l \(Self.tracefs)"), "tracefs detaches (umount -l) under the running exporter")
        check(tracefsAvailable(0), "with tracefs unmounted, /metrics answers and says so")
        check((try? exporter.scrape().hasFamily(histogram)) == false, "the wakeup histogram is gone from /metrics meanwhile")
        let code = try exporter.install("wakeup_latency_rt").code
        check(code == 503, "an install meanwhile answers 503 (got \(code))")
        check(guest.succeeds("mount -t tracefs nodev \(Self.tracefs)"), "tracefs mounts again")
        check(tracefsAvailable(1), "once tracefs is mounted again it is back")
        check((try? exporter.scrape().hasFamily(histogram)) == true, "with the histogram, which the unmount did not touch")
        check(guest.succeeds("grep -q 'tracefs is gone' /var/log/exporter.log && grep -q 'tracefs is available again' /var/log/exporter.log"),
              "the exporter logged the loss and the return")
        let lines = try triggerLines()
        check(lines == [1, 1, 1], "our triggers are still there once each (\(spaced(lines)))")
    }

    func sigterm() throws {
        let x = Self.adminInstalled
        try stopExporter()
        check(guest.succeeds("[ \"$(cat /run/exporter.status)\" = 0 ]"), "SIGTERM exits 0")
        let lines = try triggerLines(), xLines = try triggerLines(of: x)
        check(lines == [0, 0, 0], "after SIGTERM nothing of ours is in the kernel (\(spaced(lines)))")
        check(xLines == [0, 0, 0], "nor anything of the adopted \(x) (\(spaced(xLines)))")
        check(guest.succeeds("[ ! -d \(Self.instance) ]"), "after SIGTERM the instance is removed")
        check(guest.succeeds("! grep -q ftrace_exporter_wakeup_lat \(Self.tracefs)/synthetic_events"),
              "after SIGTERM the synthetic event is removed")
        check(guest.succeeds("! grep -q ftrace_exporter_irq_dur \(Self.tracefs)/synthetic_events"), "and that of \(x)")
        check(guest.succeeds("grep -q '^hist:keys=common_pid.execname' \(Self.tracefs)/events/kmem/kmalloc/trigger"),
              "after SIGTERM the top-level trigger we do not own is still there")
    }

    /// rejected.yml: lifecycle.on_start clean, wakeup_latency and irq_handler_duration as the
    /// built-in allow-list defines them (else their leftovers would not be recognised), and a set
    /// the kernel rejects (the next phase).
    func killAndRestartCleaning() throws {
        let x = Self.adminInstalled
        let rejectedConfig = "--config.file=/etc/ftrace_exporter/rejected.yml"
        // The writes --check-config prints for the two sets, under either configuration.
        let writes = { (flags: String) in
            "ftrace_exporter --check-config \(flags) | awk '/^# trigger set /{keep = ($4 == \"wakeup_latency\" || $4 == \"\(x)\")} keep && !/^#/ && NF'"
        }
        check(guest.succeeds("[ -n \"$(\(writes("")))\" ] && [ \"$(\(writes("")))\" = \"$(\(writes(rejectedConfig)))\" ]"),
              "rejected.yml defines wakeup_latency and \(x) as the built-in configuration does")
        try guest.mustRun("\(Self.exporterStart) --refresh.interval=1s")
        check(exporter.becomesReady(), "exporter ready with the default configuration")
        let code = try exporter.install(x).code
        check(code == 200, "\(x) installed through the admin API (200, got \(code))")
        try guest.mustRun("kill -9 $(cat /run/exporter.pid); sleep 0.5")
        let before = try triggerLines(), xBefore = try triggerLines(of: x)
        check(before == [1, 1, 1] && xBefore == [1, 1, 1],
              "after kill -9 both sets are left in the kernel (\(spaced(before))/\(spaced(xBefore)))")
        try guest.mustRun("\(Self.exporterStart) \(rejectedConfig)")
        check(exporter.becomesReady(), "exporter ready with the rejected-set configuration (on_start: clean)")
        let xAfter = try triggerLines(of: x)
        check(xAfter == [0, 0, 0], "the clean start removed the leftover \(x) (\(spaced(xAfter)))")
        check(guest.succeeds("! grep -q ftrace_exporter_irq_dur \(Self.tracefs)/synthetic_events"), "and its synthetic event")
        check(exporter.state(of: x) == "absent", "\(x) reads as absent")
        let after = try triggerLines()
        check(after == [1, 1, 1], "wakeup_latency, installed on start, is in the kernel once each (\(spaced(after)))")
        let removed = "msg=\"removed trigger set left by an earlier run\" set="
        check(guest.succeeds("""
            \(Self.lastStartLog) > /tmp/last-start.log
            grep -q '\(removed)\(x)' /tmp/last-start.log || exit 1
            r=$(grep -n '\(removed)wakeup_latency' /tmp/last-start.log | cut -d: -f1)
            i=$(grep -n 'msg="trigger set installed" set=wakeup_latency' /tmp/last-start.log | cut -d: -f1)
            [ -n "$r" ] && [ -n "$i" ] && [ "$r" -lt "$i" ]
            """), "the log says both leftovers were removed, then wakeup_latency installed afresh")
        check(exporter.state(of: "wakeup_latency") == "installed", "wakeup_latency reads as installed")
        check(guest.succeeds("! \(Self.lastStartLog) | grep -E 'EBUSY|EEXIST'"), "no EBUSY or EEXIST in the clean start's log")
    }

    func rejectedTrigger() throws {
        let answer = try exporter.install("rejected")
        check(answer.code == 422, "installing a set the kernel rejects answers 422 (got \(answer.code))")
        check((answer.json["error_log"] as? String)?.contains("Couldn't find field") == true,
              "the answer carries the kernel's error_log text")
        check(answer.json["errno"] as? String == "EINVAL", "the answer names the errno")
        check(guest.succeeds("! grep -q no_such_field \(Self.instance)/events/sched/sched_switch/trigger"),
              "nothing of the rejected set is left in the kernel")
        try fprobeSet()
        try stopExporter()
        check(guest.succeeds("[ \"$(cat /run/exporter.status)\" = 0 ] && [ ! -d \(Self.instance) ]"),
              "SIGTERM of the clean-start exporter exits 0 and leaves no instance")
    }

    /// fprobes where the kernel has them (6.12): a function-latency set through an `f:` pair
    /// installs, measures and goes; where it has none (6.1), the set is unsupported, with the
    /// reason, and nothing is written.
    private func fprobeSet() throws {
        let set = "function_latency_fprobe"
        let answer = try exporter.install(set)
        if vm.kernel == "6.1" {
            check(answer.code == 503 && answer.body.contains("CONFIG_FPROBE_EVENTS"),
                  "6.1 has no fprobes: installing \(set) answers 503 with the reason (\(answer.code) \(answer.excerpt(200)))")
            check(guest.succeeds("! grep -q ftrace_exporter_ffunc \(Self.tracefs)/dynamic_events"), "nothing of \(set) was written")
            return
        }
        check(answer.code == 200 && answer.state == "installed", "install \(set) answers 200 (\(answer.excerpt(300)))")
        check(guest.succeeds("grep -q '^f:fprobes/ftrace_exporter_ffunc_return vfs_fsync_range%return' \(Self.tracefs)/dynamic_events"),
              "the fprobe on the return is in dynamic_events")
        try guest.mustRun(Presets.load("function_latency"))
        let measured = eventually(tries: 10) {
            try exporter.scrape().sum("ftrace_function_latency_fprobe_seconds_count", ["function": "vfs_fsync_range"]) > 0
        }
        check(measured, "fsync calls are measured through the fprobes, labelled function=\"vfs_fsync_range\"")
        let removal = try exporter.remove(set)
        check(removal.code == 200 && removal.state == "absent", "\(set) is removed cleanly")
        check(guest.succeeds("! grep -q ftrace_exporter_ffunc \(Self.tracefs)/dynamic_events"), "its fprobes and synthetic event are gone")
    }
}
