@testable import Exporter
import Exposition
import Foundation
import HistFormat
import Testing
import TraceFSTesting

/// A table keyed by cgroup with more cgroups than its series limit: the rest are summed into
/// one `other` series, and every counter, `other` included, only goes up.
@Suite struct SeriesRollUpTests {
    @Test func theLabelSetsBeyondTheLimitRollUpIntoOtherWhichNeverGoesBack() throws {
        let s = try TableClearTests.Setup(seriesLimit: 3)
        defer { try? FileManager.default.removeItem(atPath: s.root) }
        #expect(try s.controller.install("by_cgroup").state == .installed)
        let a = try s.cgroup("/system.slice/a.service"), b = try s.cgroup("/system.slice/b.service")
        let c = try s.cgroup("/system.slice/c.service"), d = try s.cgroup("/system.slice/d.service")
        func count(_ cgroup: String) -> String {
            "ftrace_wakeup_latency_by_cgroup_seconds_count{cgroup=\"\(cgroup)\",pod_uid=\"\",container_id=\"\"}"
        }
        let line = TableClearTests.line
        s.setTable([line(a, 3, 1, 5), line(b, 3, 2, 10), line(c, 3, 4, 20), line(d, 4, 8, 100)])
        let first = s.scrape()
        #expect(TableClearTests.sample(first, count("/system.slice/a.service")) == 1)
        #expect(TableClearTests.sample(first, count("/system.slice/b.service")) == 2)
        #expect(TableClearTests.sample(first, count("other")) == 12, "c and d: \(first)")
        #expect(first.contains(#"ftrace_wakeup_latency_by_cgroup_seconds_bucket{cgroup="other",pod_uid="",container_id="",le="8e-06"} 4"#))
        let overLimit = first.split(separator: "\n").first { $0.hasPrefix("ftrace_hist_series_over_limit{") && $0.contains("cg_lat") }
        #expect(overLimit?.hasSuffix(" 2") == true, "\(overLimit ?? "none")")

        // b's cgroup goes (its entries name nothing): its slot frees, but d stays in `other`,
        // and c's counts stay there after c goes too.
        try FileManager.default.removeItem(atPath: s.root + "/system.slice/b.service")
        try FileManager.default.removeItem(atPath: s.root + "/system.slice/c.service")
        let e = try s.cgroup("/system.slice/e.service")
        s.setTable([line(a, 3, 1, 5), line(d, 4, 9, 110), line(e, 2, 1, 3), line(b + 1_000_000, 2, 1, 1)])
        let second = s.collector.collect()
        let text = String(decoding: ExpositionEncoder.encode(second, format: .text004), as: UTF8.self)
        #expect(TableClearTests.sample(text, count("/system.slice/e.service")) == 1, "a new cgroup takes the freed slot: \(text)")
        #expect(TableClearTests.sample(text, count("other")) == 13, "c's 4 kept, d's 9")
    }
}
