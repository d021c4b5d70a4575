@testable import Exposition

/// A small exposition touching every family type, labels that need escaping,
/// numbers on both sides of Go's exponent threshold, and an empty family.
enum Fixtures {
    static let families: [MetricFamily] = [
        MetricFamily(
            name: "ftrace_events", help: "Trace events recorded per CPU.", type: .counter,
            metrics: [
                Metric(labels: [Label("event", "sched:sched_switch"), Label("cpu", "0")], value: .counter(3)),
                Metric(labels: [Label("event", "sched:sched_switch"), Label("cpu", "1")], value: .counter(1_234_567)),
            ]
        ),
        MetricFamily(
            name: "ftrace_buffer_size_bytes",
            help: "Size of the \"trace\" ring buffer, in bytes.\nPer CPU.",
            type: .gauge, unit: "bytes",
            metrics: [Metric(labels: [], value: .gauge(1_441_792))]
        ),
        MetricFamily(name: "ftrace_idle", help: "Nothing to report yet.", type: .gauge, metrics: []),
        MetricFamily(
            name: "ftrace_exporter_build", help: "Build information.", type: .info,
            metrics: [Metric(labels: [Label("version", "0.1.0"), Label("swift", "6.3.1")], value: .info)]
        ),
        MetricFamily(
            name: "ftrace_hist_raw", help: "Values of unknown meaning.", type: .unknown,
            metrics: [
                Metric(labels: [Label("key", #"a\b "q""#)], value: .unknown(-0.25)),
                Metric(labels: [], value: .unknown(0)),
            ]
        ),
        MetricFamily(
            name: "ftrace_wakeup_latency_seconds", help: "Wakeup latency.", type: .histogram, unit: "seconds",
            metrics: [
                Metric(
                    labels: [Label("comm", "cyclictest")],
                    value: .histogram(
                        buckets: [
                            HistogramBucket(upperBound: 1e-06, cumulativeCount: 2),
                            HistogramBucket(upperBound: 0.000128, cumulativeCount: 5),
                            HistogramBucket(upperBound: 0.001, cumulativeCount: 7),
                            HistogramBucket(upperBound: 1, cumulativeCount: 9),
                            HistogramBucket(upperBound: 10, cumulativeCount: 9),
                        ],
                        sum: 12.000345, count: 10
                    )
                ),
                Metric(
                    labels: [],
                    value: .histogram(
                        buckets: [HistogramBucket(upperBound: 1e-06, cumulativeCount: 0)],
                        sum: 0, count: 0
                    )
                ),
            ]
        ),
    ]

    static let text004 = #"""
        # HELP ftrace_events_total Trace events recorded per CPU.
        # TYPE ftrace_events_total counter
        ftrace_events_total{event="sched:sched_switch",cpu="0"} 3
        ftrace_events_total{event="sched:sched_switch",cpu="1"} 1.234567e+06
        # HELP ftrace_buffer_size_bytes Size of the "trace" ring buffer, in bytes.\nPer CPU.
        # TYPE ftrace_buffer_size_bytes gauge
        ftrace_buffer_size_bytes 1.441792e+06
        # HELP ftrace_exporter_build_info Build information.
        # TYPE ftrace_exporter_build_info gauge
        ftrace_exporter_build_info{version="0.1.0",swift="6.3.1"} 1
        # HELP ftrace_hist_raw Values of unknown meaning.
        # TYPE ftrace_hist_raw untyped
        ftrace_hist_raw{key="a\\b \"q\""} -0.25
        ftrace_hist_raw 0
        # HELP ftrace_wakeup_latency_seconds Wakeup latency.
        # TYPE ftrace_wakeup_latency_seconds histogram
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="1e-06"} 2
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="0.000128"} 5
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="0.001"} 7
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="1"} 9
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="10"} 9
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="+Inf"} 10
        ftrace_wakeup_latency_seconds_sum{comm="cyclictest"} 12.000345
        ftrace_wakeup_latency_seconds_count{comm="cyclictest"} 10
        ftrace_wakeup_latency_seconds_bucket{le="1e-06"} 0
        ftrace_wakeup_latency_seconds_bucket{le="+Inf"} 0
        ftrace_wakeup_latency_seconds_sum 0
        ftrace_wakeup_latency_seconds_count 0

        """#

    static let openMetrics100 = #"""
        # TYPE ftrace_events counter
        # HELP ftrace_events Trace events recorded per CPU.
        ftrace_events_total{event="sched:sched_switch",cpu="0"} 3.0
        ftrace_events_total{event="sched:sched_switch",cpu="1"} 1.234567e+06
        # TYPE ftrace_buffer_size_bytes gauge
        # UNIT ftrace_buffer_size_bytes bytes
        # HELP ftrace_buffer_size_bytes Size of the \"trace\" ring buffer, in bytes.\nPer CPU.
        ftrace_buffer_size_bytes 1.441792e+06
        # TYPE ftrace_exporter_build info
        # HELP ftrace_exporter_build Build information.
        ftrace_exporter_build_info{version="0.1.0",swift="6.3.1"} 1
        # TYPE ftrace_hist_raw unknown
        # HELP ftrace_hist_raw Values of unknown meaning.
        ftrace_hist_raw{key="a\\b \"q\""} -0.25
        ftrace_hist_raw 0.0
        # TYPE ftrace_wakeup_latency_seconds histogram
        # UNIT ftrace_wakeup_latency_seconds seconds
        # HELP ftrace_wakeup_latency_seconds Wakeup latency.
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="1e-06"} 2
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="0.000128"} 5
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="0.001"} 7
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="1.0"} 9
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="10.0"} 9
        ftrace_wakeup_latency_seconds_bucket{comm="cyclictest",le="+Inf"} 10
        ftrace_wakeup_latency_seconds_sum{comm="cyclictest"} 12.000345
        ftrace_wakeup_latency_seconds_count{comm="cyclictest"} 10
        ftrace_wakeup_latency_seconds_bucket{le="1e-06"} 0
        ftrace_wakeup_latency_seconds_bucket{le="+Inf"} 0
        ftrace_wakeup_latency_seconds_sum 0.0
        ftrace_wakeup_latency_seconds_count 0
        # EOF

        """#
}
