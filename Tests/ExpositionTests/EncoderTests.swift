import Testing
@testable import Exposition

struct EncoderTests {
    private func text(_ families: [MetricFamily], _ format: ExpositionFormat) -> String {
        String(decoding: ExpositionEncoder.encode(families, format: format), as: UTF8.self)
    }

    @Test func textGoldenIsByteExact() {
        let bytes = ExpositionEncoder.encode(Fixtures.families, format: .text004)
        #expect(bytes == Array(Fixtures.text004.utf8))
    }

    @Test func openMetricsGoldenIsByteExact() {
        let bytes = ExpositionEncoder.encode(Fixtures.families, format: .openMetrics100)
        #expect(bytes == Array(Fixtures.openMetrics100.utf8))
    }

    @Test(arguments: [ExpositionFormat.text004, .openMetrics100])
    func encodingIsDeterministic(format: ExpositionFormat) {
        let first = ExpositionEncoder.encode(Fixtures.families, format: format)
        let second = ExpositionEncoder.encode(Fixtures.families, format: format)
        #expect(first == second)
    }

    @Test func appendsAfterExistingBytes() {
        var buffer: [UInt8] = Array("prefix\n".utf8)
        ExpositionEncoder.encode(Fixtures.families, format: .text004, into: &buffer)
        #expect(buffer == Array(("prefix\n" + Fixtures.text004).utf8))
    }

    @Test func noFamilies() {
        #expect(ExpositionEncoder.encode([], format: .text004).isEmpty)
        #expect(text([], .openMetrics100) == "# EOF\n")
    }

    @Test(arguments: [ExpositionFormat.text004, .openMetrics100])
    func familiesWithoutMetricsAreLeftOut(format: ExpositionFormat) {
        let empty = MetricFamily(name: "nothing", help: "h", type: .counter, metrics: [])
        #expect(text([empty], format) == (format == .text004 ? "" : "# EOF\n"))
    }

    @Test func metricsOfAnotherTypeAreLeftOut() {
        let family = MetricFamily(
            name: "mixed", help: "h", type: .gauge,
            metrics: [
                Metric(labels: [Label("a", "1")], value: .counter(1)),
                Metric(labels: [Label("a", "2")], value: .gauge(2)),
            ]
        )
        #expect(text([family], .text004) == "# HELP mixed h\n# TYPE mixed gauge\nmixed{a=\"2\"} 2\n")
        let onlyWrong = MetricFamily(name: "wrong", help: "h", type: .histogram, metrics: [Metric(labels: [], value: .info)])
        #expect(text([onlyWrong], .text004) == "")
    }

    @Test func unitLineOnlyWhenItIsTheNameSuffix() {
        func unitLine(name: String, type: MetricType = .gauge, unit: String?) -> Bool {
            let family = MetricFamily(
                name: name, help: "h", type: type, unit: unit,
                metrics: [Metric(labels: [], value: type == .info ? .info : .gauge(1))]
            )
            return text([family], .openMetrics100).contains("# UNIT ")
        }
        #expect(unitLine(name: "disk_bytes", unit: "bytes"))
        #expect(!unitLine(name: "disk_bytes", unit: nil))
        #expect(!unitLine(name: "disk_bytes", unit: ""))
        #expect(!unitLine(name: "disk", unit: "bytes"))
        #expect(!unitLine(name: "diskbytes", unit: "bytes"))
        #expect(!unitLine(name: "bytes", unit: "bytes"))
        #expect(!unitLine(name: "build_bytes", type: .info, unit: "bytes"))
        let textFamily = MetricFamily(name: "disk_bytes", help: "h", type: .gauge, unit: "bytes", metrics: [Metric(labels: [], value: .gauge(1))])
        #expect(!text([textFamily], .text004).contains("UNIT"))
    }

    @Test(arguments: [ExpositionFormat.text004, .openMetrics100])
    func suppliedInfiniteBucketIsNotRepeated(format: ExpositionFormat) {
        let family = MetricFamily(
            name: "h", help: "h", type: .histogram,
            metrics: [Metric(labels: [], value: .histogram(
                buckets: [HistogramBucket(upperBound: 1, cumulativeCount: 1), HistogramBucket(upperBound: .infinity, cumulativeCount: 2)],
                sum: 3, count: 2
            ))]
        )
        let output = text([family], format)
        #expect(output.components(separatedBy: "le=\"+Inf\"").count == 2)
    }

    @Test func negativeZeroIsWrittenAsZeroLikeExpfmt() {
        let family = MetricFamily(name: "g", help: "h", type: .gauge, metrics: [Metric(labels: [], value: .gauge(-0.0))])
        #expect(text([family], .text004).hasSuffix("\ng 0\n"))
        #expect(text([family], .openMetrics100).hasSuffix("\ng 0.0\n# EOF\n"))
    }

    @Test func specialValues() {
        let family = MetricFamily(
            name: "g", help: "h", type: .gauge,
            metrics: [
                Metric(labels: [Label("v", "nan")], value: .gauge(.nan)),
                Metric(labels: [Label("v", "inf")], value: .gauge(.infinity)),
                Metric(labels: [Label("v", "-inf")], value: .gauge(-.infinity)),
                Metric(labels: [Label("v", "-1")], value: .gauge(-1)),
            ]
        )
        #expect(text([family], .text004).hasSuffix("g{v=\"nan\"} NaN\ng{v=\"inf\"} +Inf\ng{v=\"-inf\"} -Inf\ng{v=\"-1\"} -1\n"))
        #expect(text([family], .openMetrics100).hasSuffix("g{v=\"nan\"} NaN\ng{v=\"inf\"} +Inf\ng{v=\"-inf\"} -Inf\ng{v=\"-1\"} -1.0\n# EOF\n"))
    }

    /// The canonical `le`/`quantile` renderings listed in the OpenMetrics 1.0
    /// specification ("Considerations: Canonical Numbers").
    @Test func openMetricsCanonicalNumbers() {
        let values: [Double] = [
            0.0, 0.001, 0.002, 0.01, 0.1, 0.9, 0.95, 0.99, 0.999, 1.0, 1.7, 10.0,
            1e-10, 1e-09, 1e-05, 0.0001, 0.1, 1.0, 100000.0, 1e+06, 1e+10, .infinity,
        ]
        let expected = [
            "0.0", "0.001", "0.002", "0.01", "0.1", "0.9", "0.95", "0.99", "0.999", "1.0", "1.7", "10.0",
            "1e-10", "1e-09", "1e-05", "0.0001", "0.1", "1.0", "100000.0", "1e+06", "1e+10", "+Inf",
        ]
        let rendered = values.map { value -> String in
            var buffer: [UInt8] = []
            ExpositionEncoder.appendOpenMetricsFloat(value, into: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
        #expect(rendered == expected)
    }

    @Test func openMetricsCountsAreIntegers() {
        func render(_ value: Double) -> String {
            var buffer: [UInt8] = []
            ExpositionEncoder.appendOpenMetricsInteger(value, into: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
        #expect(render(0) == "0")
        #expect(render(-0.0) == "0")
        #expect(render(1_234_567) == "1234567")
        #expect(render(1e19) == "10000000000000000000")
        #expect(render(1e20) == "1e+20")
        #expect(render(18_446_744_073_709_549_568) == "18446744073709549568")
        // Not representable as a 64-bit integer: the float form is the best left.
        #expect(render(18_446_744_073_709_551_616) == "1.8446744073709552e+19")
        #expect(render(2.5) == "2.5")
        #expect(render(.nan) == "NaN")
    }

    @Test func textWritesLargeCountsTheGoWay() {
        let family = MetricFamily(
            name: "h", help: "h", type: .histogram,
            metrics: [Metric(labels: [], value: .histogram(
                buckets: [HistogramBucket(upperBound: 0.5, cumulativeCount: 1_000_000)],
                sum: 250_000, count: 1_234_567
            ))]
        )
        #expect(text([family], .text004) == """
            # HELP h h
            # TYPE h histogram
            h_bucket{le="0.5"} 1e+06
            h_bucket{le="+Inf"} 1.234567e+06
            h_sum 250000
            h_count 1.234567e+06

            """)
        #expect(text([family], .openMetrics100) == """
            # TYPE h histogram
            # HELP h h
            h_bucket{le="0.5"} 1000000
            h_bucket{le="+Inf"} 1234567
            h_sum 250000.0
            h_count 1234567
            # EOF

            """)
    }

    @Test func emptyHelpStillWritesTheLine() {
        let family = MetricFamily(name: "g", help: "", type: .gauge, metrics: [Metric(labels: [], value: .gauge(1))])
        #expect(text([family], .text004) == "# HELP g \n# TYPE g gauge\ng 1\n")
    }
}
