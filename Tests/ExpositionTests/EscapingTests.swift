import Testing
@testable import Exposition

struct EscapingTests {
    private func encode(help: String, labelValue: String, format: ExpositionFormat) -> String {
        let family = MetricFamily(
            name: "demo", help: help, type: .gauge,
            metrics: [Metric(labels: [Label("path", labelValue)], value: .gauge(1))]
        )
        return String(decoding: ExpositionEncoder.encode([family], format: format), as: UTF8.self)
    }

    @Test func textHelpEscapesBackslashAndNewlineButNotQuote() {
        let output = encode(help: #"a \ b "c"# + "\nd", labelValue: "", format: .text004)
        #expect(output.hasPrefix(#"# HELP demo a \\ b "c\nd"# + "\n"))
    }

    @Test func openMetricsHelpAlsoEscapesQuote() {
        let output = encode(help: #"a \ b "c"# + "\nd", labelValue: "", format: .openMetrics100)
        #expect(output.contains("\n" + #"# HELP demo a \\ b \"c\nd"# + "\n"))
    }

    @Test(arguments: [ExpositionFormat.text004, .openMetrics100])
    func labelValuesEscapeBackslashQuoteAndNewline(format: ExpositionFormat) {
        let output = encode(help: "h", labelValue: #"C:\dir "x""# + "\nend", format: format)
        #expect(output.contains(#"demo{path="C:\\dir \"x\"\nend"}"#))
    }

    @Test(arguments: [ExpositionFormat.text004, .openMetrics100])
    func utf8PassesThroughUnchanged(format: ExpositionFormat) {
        let output = encode(help: "Größe – 大小 🚀", labelValue: "café ☕️ \t tab", format: format)
        #expect(output.contains("Größe – 大小 🚀\n"))
        #expect(output.contains(#"demo{path="café ☕️ \#t tab"}"#))
    }

    @Test func escapedBytesAreExact() {
        var buffer: [UInt8] = []
        ExpositionEncoder.appendEscaped("\\\"\n", escapingQuotes: true, into: &buffer)
        #expect(buffer == [0x5C, 0x5C, 0x5C, 0x22, 0x5C, 0x6E])
        buffer.removeAll()
        ExpositionEncoder.appendEscaped("\\\"\n", escapingQuotes: false, into: &buffer)
        #expect(buffer == [0x5C, 0x5C, 0x22, 0x5C, 0x6E])
    }
}
