import Foundation
@testable import StackFormats
import Testing

@Suite struct FlameGraphTests {
    static func svg(_ profile: StackProfile, _ graph: FlameGraph = FlameGraph(title: "sched/sched_switch")) -> String {
        String(decoding: graph.render(profile), as: UTF8.self)
    }

    /// `<g class="f" ...>` elements: one per frame drawn.
    static func frameCount(_ svg: String) -> Int { svg.components(separatedBy: "<g class=\"f\"").count - 1 }

    @Test func everyCorpusFrameIsDrawnWithItsNameValueAndShare() throws {
        let profile = try StackFixtures.corpusProfile()
        let text = Self.svg(profile)
        #expect(text.hasPrefix("<?xml version=\"1.0\""))
        #expect(text.hasSuffix("</svg>\n"))
        let total = profile.total(0)
        #expect(text.contains("<title>all\n\(total) samples, 100.00%</title>"))
        #expect(text.contains("<title>__schedule\n"))
        #expect(text.contains(">secondary_startup_64_no_verify</text>"), "a wide frame shows its whole name")
        #expect(text.contains("fill=\"\(FlameGraph.color("do_idle"))\""))
        #expect(!text.contains("+0x"))
    }

    @Test func theDocumentIsSelfContained() throws {
        let text = Self.svg(try StackFixtures.corpusProfile())
        for external in ["href", "src=", "url(", "@import", "<link", "http://", "https://"] where external != "http://" {
            #expect(!text.contains(external), "\(external)")
        }
        // The one http:// is the SVG namespace name, which nothing fetches.
        #expect(text.components(separatedBy: "http://").count == 2)
        #expect(text.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(text.contains("<script type=\"text/ecmascript\"><![CDATA["))
        #expect(text.contains("id=\"reset\""))
        #expect(text.contains("id=\"details\""))
    }

    @Test func namesAreEscaped() {
        let profile = StackProfile(sampleTypes: [.samples], samples: [StackSample(frames: ["<script>alert('x')&\"y\"\u{1}"], values: [1])])
        let text = Self.svg(profile, FlameGraph(title: "a<b>&c"))
        #expect(text.contains("&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;y&quot;?"))
        #expect(!text.contains("<script>alert"))
        #expect(text.contains(">a&lt;b&gt;&amp;c</text>"))
    }

    @Test func theOutputIsTheSameEveryTime() throws {
        let profile = try StackFixtures.corpusProfile()
        #expect(Self.svg(profile) == Self.svg(StackProfile(sampleTypes: [.samples], samples: try StackFixtures.corpusSamples().reversed())))
        #expect(FlameGraph.color("__schedule") == FlameGraph.color("__schedule"))
        #expect(FlameGraph.color("__schedule") != FlameGraph.color("do_idle"))
    }

    @Test("names are cut to the width, ending in '..'; nothing when fewer than three characters fit", arguments: [
        (230.0, "secondary_startup_64_no_verify"), (100.0, "secondary_s.."), (28.0, "s.."), (20.0, ""),
    ])
    func namesFit(width: Double, shown: String) {
        #expect(FlameGraph.fit("secondary_startup_64_no_verify", width: width) == shown)
    }

    @Test func numbersAreFixedPoint() {
        #expect(FlameGraph.fixed(0.000001234, 8) == "0.00000123")
        #expect(FlameGraph.fixed(12.5, 2) == "12.50")
        #expect(FlameGraph.fixed(1180, 2) == "1180.00")
        #expect(FlameGraph.fixed(-0.001, 2) == "0.00")
    }

    /// A table of 50,000 distinct stacks draws the frames a pixel can show, and the cap holds.
    @Test func aHugeTableMakesABoundedDocument() {
        let samples = (0..<50_000).map { i in
            StackSample(frames: ["leaf\(i)+0x1/0x2", "mid\(i % 500)+0x1/0x2", "root+0x0/0x1"], values: [Int64(i % 7 + 1)])
        }
        let profile = StackProfile(sampleTypes: [.samples], samples: samples)
        let text = Self.svg(profile)
        let drawn = Self.frameCount(text)
        #expect(drawn < 2_000, "\(drawn) frames")
        #expect(text.utf8.count < 1_000_000, "\(text.utf8.count) bytes")
        #expect(text.contains("frames too narrow to draw"))
        var capped = FlameGraph(title: "t")
        capped.minimumFrameWidth = 0
        capped.maximumFrames = 300
        let cappedText = Self.svg(profile, capped)
        #expect(Self.frameCount(cappedText) == 300)
        #expect(cappedText.contains("<title>root\n"), "the widest frames are the ones kept")
    }

    @Test func aValueColumnSetsTheWidthsAndUnits() {
        let profile = StackProfile(sampleTypes: [.samples, SampleType(type: "delay", unit: "nanoseconds")], samples: [
            StackSample(frames: ["a"], values: [1, 300]), StackSample(frames: ["b"], values: [3, 100]),
        ])
        let text = Self.svg(profile, FlameGraph(title: "t"), column: 1)
        #expect(text.contains("<title>a\n300 nanoseconds, 75.00%</title>"))
        #expect(text.contains("<title>b\n100 nanoseconds, 25.00%</title>"))
    }

    @Test func anEmptyTableSaysSo() {
        let text = Self.svg(StackProfile(sampleTypes: [.samples], samples: []))
        #expect(text.contains("No samples"))
        #expect(Self.frameCount(text) == 0)
    }
}

extension FlameGraphTests {
    static func svg(_ profile: StackProfile, _ graph: FlameGraph, column: Int) -> String {
        String(decoding: graph.render(profile, column: column), as: UTF8.self)
    }
}
