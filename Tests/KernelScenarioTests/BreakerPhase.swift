import Foundation
import Testing

extension Scenario {
    /// rejected.yml's two fork-counting sets: a quiet spell trips neither; a fork loop trips the
    /// one whose budget (50 forks a second for 2 s) it exceeds, which is removed, and leaves the
    /// other (a million a second) alone. The exporter refreshes every second.
    func overheadBreaker() throws {
        let (trips, holds) = ("fork_budget_trips", "fork_budget_holds")
        for set in [trips, holds] {
            let code = try exporter.install(set).code
            check(code == 200, "\(set) installed (200, got \(code))")
        }
        let forkTrigger = "\(Self.instance)/events/sched/sched_process_fork/trigger"
        sleep(seconds: 5)
        check(exporter.state(of: trips) == "installed", "after 5 s without load \(trips) is still installed")
        let quiet = try exporter.scrape()
        check(quiet.has("ftrace_exporter_trigger_set_breaker_trips_total", ["set": trips], value: 0), "and no trip is counted")
        check(quiet.hasFamily("ftrace_exporter_trigger_set_events_per_second"), "its event rate is exported")

        try guest.mustRun("end=$(($(date +%s) + 8)); while [ $(date +%s) -lt $end ]; do for i in 1 2 3 4 5 6 7 8 9 10; do (:); done; done",
                          maxTime: 60)
        check(eventually { try self.triggerLines(["sched/sched_process_fork"]) == [1] },
              "the fork loop tripped \(trips): one fork table is left in the kernel")
        check(guest.succeeds("grep -q '^hist:keys=parent_pid' \(forkTrigger) && ! grep -q '^hist:keys=parent_comm' \(forkTrigger)"),
              "the one left is \(holds)'s")
        check(exporter.state(of: trips) == "absent", "\(trips) reads as absent")
        check(exporter.state(of: holds) == "installed", "\(holds) reads as installed")
        check(eventually { try self.exporter.scrape().has("ftrace_exporter_trigger_set_breaker_trips_total", ["set": trips], value: 1) },
              "the trip is counted")
        check((try? exporter.scrape().has("ftrace_exporter_trigger_set_breaker_trips_total", ["set": holds], value: 0)) == true,
              "and none for \(holds)")
        let answer = try exporter.admin("GET", "/api/v1/trigger-sets/\(trips)")
        let lastTrip = (answer.json["breaker"] as? [String: Any])?["last_trip"] as? [String: Any]
        check(lastTrip?["action"] as? String == "remove" && ((lastTrip?["events_per_second"] as? Double) ?? 0) > 50,
              "the set's JSON shows the trip (\(answer.excerpt(400)))")
        check(guest.succeeds("grep 'overhead breaker tripped' /var/log/exporter.log | grep -qE 'set=\(trips)( |$)'"), "and the log says so")
        let code = try exporter.remove(holds).code
        check(code == 200, "\(holds) is removed cleanly (200, got \(code))")
    }
}
