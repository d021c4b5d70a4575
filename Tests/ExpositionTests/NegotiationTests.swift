import Testing
@testable import Exposition

struct NegotiationTests {
    @Test(arguments: [
        (nil, ExpositionFormat.text004),
        ("", .text004),
        ("*/*", .text004),
        ("*", .text004),
        ("text/*", .text004),
        ("application/*", .text004),
        ("text/plain", .text004),
        ("text/plain; version=0.0.4", .text004),
        ("text/plain;version=0.0.4;charset=utf-8", .text004),
        ("application/openmetrics-text; version=1.0.0", .openMetrics100),
        ("application/openmetrics-text;version=1.0.0;charset=utf-8", .openMetrics100),
        ("application/openmetrics-text", .openMetrics100),
        ("Application/OpenMetrics-Text; VERSION=1.0.0", .openMetrics100),
        ("application/openmetrics-text; version=\"1.0.0\"", .openMetrics100),
        // Only 1.0.0 output exists, so a 0.0.1-only client gets the text fallback.
        ("application/openmetrics-text;version=0.0.1", .text004),
        ("application/openmetrics-text;version=2.0.0", .text004),
        ("application/openmetrics-text;version=0.0.1,application/openmetrics-text;version=1.0.0;q=0.5", .openMetrics100),
        // What Prometheus sends by default, and with OpenMetrics scraping off.
        (
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            .openMetrics100
        ),
        ("text/plain;version=0.0.4;q=1,*/*;q=0.1", .text004),
        (
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,"
                + "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3",
            .openMetrics100
        ),
        // q-values order the ranges, whatever their position.
        ("text/plain;q=0.5, application/openmetrics-text;version=1.0.0;q=0.9", .openMetrics100),
        ("application/openmetrics-text;version=1.0.0;q=0.4, text/plain;q=0.5", .text004),
        ("text/plain;version=0.0.4;q=0.2,application/openmetrics-text;q=0.3", .openMetrics100),
        // Equal q-values keep header order.
        ("text/plain, application/openmetrics-text", .text004),
        ("application/openmetrics-text, text/plain", .openMetrics100),
        // q=0 means "not acceptable"; a malformed q counts as 0.
        ("application/openmetrics-text;version=1.0.0;q=0", .text004),
        ("application/openmetrics-text;q=0.0, text/plain;q=0.1", .text004),
        ("application/openmetrics-text;q=high", .text004),
        // A text version this encoder does not write is passed over.
        ("text/plain;version=0.0.3, application/openmetrics-text", .openMetrics100),
        ("garbage, ,;;,application/openmetrics-text", .openMetrics100),
    ] as [(String?, ExpositionFormat)])
    func negotiates(accept: String?, expected: ExpositionFormat) {
        #expect(ExpositionFormat.negotiate(accept: accept) == expected)
    }

    @Test func contentTypes() {
        #expect(ExpositionFormat.text004.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(ExpositionFormat.openMetrics100.contentType == "application/openmetrics-text; version=1.0.0; charset=utf-8")
    }

    @Test func acceptParsingOrdersByQuality() {
        let ranges = parseAcceptHeader("a/b;q=0.1, c/d, e/f;q=0.5;version=9, g/h;q=0")
        #expect(ranges.map { "\($0.type)/\($0.subtype)" } == ["c/d", "e/f", "a/b"])
        #expect(ranges[1].version == "9")
    }
}
