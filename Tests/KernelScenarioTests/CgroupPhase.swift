import Foundation
import TestKit
import Testing

extension Scenario {
    /// A pod's cgroups as a kubelet with the systemd driver and containerd make them.
    enum KubeletShapes {
        static let podUID = "5d1c7a3e-2b4f-4e6a-9c8d-7f0e1a2b3c4d"
        static let pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(podUID.replacingOccurrences(of: "-", with: "_")).slice"
        static let containerA = String(repeating: "a1", count: 32)
        static let containerB = String(repeating: "b2", count: 32)
        static let scopeA = pod + "/cri-containerd-\(containerA).scope"
        static let scopeB = pod + "/cri-containerd-\(containerB).scope"
        static let service = "/system.slice/fte-demo.service"
        static let all = [scopeA, scopeB, service]
    }

    static let byCgroup = "wakeup_latency_by_cgroup"
    static let byCgroupFamily = "ftrace_wakeup_latency_by_cgroup_seconds_count"

    /// Wakeup latency per cgroup: a pod slice with two container scopes and a system service,
    /// each running load; each histogram grows under the path, pod and container it belongs to.
    /// Then cgroups come and go until the table reaches its mark and is cleared: the removed
    /// container's series goes, the others' counts carry on. On a kernel without tracepoint
    /// probes the set is unsupported (the admin phase checks its 503).
    func wakeupLatencyPerCgroup() throws {
        guard !allowList.unsupported.contains(where: { $0.name == Self.byCgroup }) else {
            let reason = allowList.unsupported.first { $0.name == Self.byCgroup }?.reason ?? ""
            check(reason.contains("CONFIG_FPROBE_EVENTS"), "\(Self.byCgroup) is unsupported here, naming CONFIG_FPROBE_EVENTS (\(reason))")
            return
        }
        // Alone, after remove-all: with every preset installed a refresh takes seconds under TCG.
        let install = try exporter.install(Self.byCgroup)
        check(install.code == 200, "install \(Self.byCgroup) alone answers 200 (\(install.excerpt(200)))")
        defer {
            let removal = try? exporter.remove(Self.byCgroup)
            check(removal?.code == 200, "\(Self.byCgroup) is removed at the end (\(removal?.code ?? 0))")
        }
        try guest.mustRun(KubeletShapes.all.map { "mkdir -p /sys/fs/cgroup\($0)" }.joined(separator: "; "))
        for (i, path) in KubeletShapes.all.enumerated() {
            try guest.mustRun("setsid sh -c 'echo $$ > /sys/fs/cgroup\(path)/cgroup.procs; while :; do sleep 0.02; done' "
                              + "</dev/null >/dev/null 2>&1 & echo $! > /run/cg-load-\(i).pid")
        }
        defer { _ = try? guest.run("for f in /run/cg-load-*.pid; do kill -TERM -$(cat $f); done 2>/dev/null; true") }
        func counts() throws -> [Double] {
            let metrics = try exporter.scrape()
            return KubeletShapes.all.map { metrics.sum(Self.byCgroupFamily, ["cgroup": $0]) }
        }
        // A new cgroup is named once the exporter walks the mount again (at most every 10 s).
        var first = try counts()
        for _ in 0..<30 where first.contains(0) {
            sleep(seconds: 1)
            first = try counts()
        }
        var second = first
        for _ in 0..<20 where zip(first, second).contains(where: { $0 >= $1 }) {
            sleep(seconds: 1)
            second = try counts()
        }
        for (i, path) in KubeletShapes.all.enumerated() {
            check(first[i] > 0 && second[i] > first[i], "the histogram of \(path) grows (\(whole(first[i])) -> \(whole(second[i])))")
        }
        let metrics = try exporter.scrape()
        for (scope, container) in [(KubeletShapes.scopeA, KubeletShapes.containerA), (KubeletShapes.scopeB, KubeletShapes.containerB)] {
            let labelled = metrics.sum(Self.byCgroupFamily, ["cgroup": scope, "pod_uid": KubeletShapes.podUID, "container_id": container])
            check(labelled > 0, "the container scope's series names the pod uid and container id \(container.prefix(12)) (\(whole(labelled)))")
        }
        let service = metrics.sum(Self.byCgroupFamily, ["cgroup": KubeletShapes.service, "pod_uid": "", "container_id": ""])
        check(service > 0, "the system service's series has empty pod_uid and container_id (\(whole(service)))")

        try removedCgroupGoesAfterTheClear(before: second)
    }

    /// Container B is stopped and its scope removed; then short-lived cgroups fill the table to
    /// its mark, and the exporter clears it.
    private func removedCgroupGoesAfterTheClear(before: [Double]) throws {
        try guest.mustRun("kill -TERM -$(cat /run/cg-load-1.pid); sleep 1; rmdir /sys/fs/cgroup\(KubeletShapes.scopeB)")
        let clears = "ftrace_exporter_table_clears_total"
        let startClears = try exporter.scrape().sum(clears, ["set": Self.byCgroup, "result": "confirmed"])
        let churn = "mkdir -p /sys/fs/cgroup/fte-churn.slice && churn cgroups \(vm.cgroupChurn) /sys/fs/cgroup/fte-churn.slice"
        let output = try guest.mustRun(churn, maxTime: 600).trimmingCharacters(in: .whitespacesAndNewlines)
        say(output)
        var cleared = false
        for _ in 0..<60 where !cleared {
            sleep(seconds: 1)
            cleared = try exporter.scrape().sum(clears, ["set": Self.byCgroup, "result": "confirmed"]) > startClears
        }
        check(cleared, "the table keyed by cgroup reached its mark and was cleared, confirmed by read-back")
        sleep(seconds: 3)
        let metrics = try exporter.scrape()
        let gone = metrics.samples(Self.byCgroupFamily, ["cgroup": KubeletShapes.scopeB])
        check(gone.isEmpty, "the removed container's series is gone after the clear (\(gone.count) left)")
        let dropped = metrics.sum("ftrace_exporter_table_clear_dropped_entries_total", ["set": Self.byCgroup])
        check(dropped > 0, "the entries of removed cgroups are let go and counted (\(whole(dropped)))")
        for i in [0, 2] {
            let now = metrics.sum(Self.byCgroupFamily, ["cgroup": KubeletShapes.all[i]])
            check(now >= before[i], "the count of \(KubeletShapes.all[i]) carries on across the clear (\(whole(before[i])) -> \(whole(now)))")
        }
        let carried = metrics.sum("ftrace_hist_carried_entries", ["trigger_set": Self.byCgroup])
        check(carried > 0, "the live cgroups' entries are carried (\(whole(carried)))")
    }
}
