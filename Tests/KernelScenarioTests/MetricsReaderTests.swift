import Testing

/// The scenarios judge the exporter by what this reader makes of a scrape, so it is checked
/// itself, in every `swift test`.
@Suite struct MetricsReaderTests {
    static let exposition = """
        # HELP ftrace_wakeup_latency_seconds Wakeup latency.
        # TYPE ftrace_wakeup_latency_seconds histogram
        ftrace_wakeup_latency_seconds_bucket{cpu="0",le="1e-06"} 3
        ftrace_wakeup_latency_seconds_bucket{cpu="0",le="+Inf"} 7
        ftrace_wakeup_latency_seconds_count{cpu="0"} 7
        ftrace_wakeup_latency_seconds_count{cpu="1"} 5
        ftrace_hist_hits_total{tracefs_instance="",system="kmem",event="kmalloc",table="1f",comm="a \\"b\\" c\\\\d,e}"} 2
        ftrace_tracefs_available 1
        ftrace_exporter_refresh_duration_seconds NaN
        """

    @Test func readsNamesLabelsAndValues() {
        let metrics = Metrics(Self.exposition)
        #expect(metrics.samples.count == 7, "comments are not samples")
        #expect(metrics.sum("ftrace_wakeup_latency_seconds_count") == 12)
        #expect(metrics.sum("ftrace_wakeup_latency_seconds_count", ["cpu": "1"]) == 5)
        #expect(metrics.samples("ftrace_wakeup_latency_seconds_bucket", ["le": "+Inf"]).map(\.value) == [7])
        #expect(metrics.has("ftrace_tracefs_available", [:], value: 1))
        #expect(metrics.hasFamily("ftrace_exporter_refresh_duration_seconds"))
        #expect(!metrics.hasFamily("ftrace_wakeup_latency_seconds"), "a histogram's samples carry suffixes")
    }

    @Test func unescapesLabelValues() {
        let hits = Metrics(Self.exposition).samples("ftrace_hist_hits_total")
        #expect(hits.first?.labels["comm"] == "a \"b\" c\\d,e}")
        #expect(hits.first?.labels["table"] == "1f")
        #expect(hits.first?.labels["tracefs_instance"] == "")
    }

    @Test func sumsNothingToZero() {
        #expect(Metrics("").sum("ftrace_context_switches_total") == 0)
        #expect(Metrics(Self.exposition).maximum("ftrace_hist_capacity") == 0)
    }
}
