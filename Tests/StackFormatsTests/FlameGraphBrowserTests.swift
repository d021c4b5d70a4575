import Foundation
@testable import StackFormats
import Testing

/// The flame graph in a real browser: headless Chromium renders it, runs its script, and a
/// click zooms.
@Suite struct FlameGraphBrowserTests {
    static func chromium() -> String? {
        guard let path = StackFixtures.tool("chromium") else {
            #expect(!StackFixtures.isCI, "chromium is required in CI")
            return nil
        }
        return path
    }

    static let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir="]

    static func write(_ svg: [UInt8]) throws -> URL {
        let file = try StackFixtures.temporaryDirectory().appendingPathComponent("flame.svg")
        try Data(svg).write(to: file)
        return file
    }

    @Test func theScreenshotShowsTheFrames() throws {
        guard let chromium = Self.chromium() else { return }
        let svg = FlameGraph(title: "sched/sched_switch").render(try StackFixtures.corpusProfile())
        let file = try Self.write(svg)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let png = file.deletingLastPathComponent().appendingPathComponent("flame.png")
        let text = String(decoding: svg, as: UTF8.self)
        let height = Int(text.split(separator: "height=\"")[1].prefix { $0 != "\"" })!
        let run = try StackFixtures.run(chromium, Self.flags.map { $0 == "--user-data-dir=" ? $0 + file.deletingLastPathComponent().appendingPathComponent("profile").path : $0 }
            + ["--screenshot=\(png.path)", "--window-size=1200,\(height)", file.absoluteString])
        #expect(run.status == 0, "\(run.err)")
        let image = try PNGImage([UInt8](Data(contentsOf: png)))
        #expect(image.width == 1200)
        #expect(image.colors.count > 20, "more than a blank page: \(image.colors.count) colors")
        // __schedule spans the whole graph one row above `all`: a wide band of its color.
        let rgb = FlameGraph.color("__schedule").dropFirst(4).dropLast().split(separator: ",").map { UInt8($0)! }
        let painted = image.count((rgb[0], rgb[1], rgb[2]))
        #expect(painted > 10_000, "\(painted) pixels of __schedule's color")
    }

    /// The DOM after the script ran, and after a click on a frame that the test adds to the page.
    @Test func aClickZoomsIntoAFrame() throws {
        guard let chromium = Self.chromium() else { return }
        var text = String(decoding: FlameGraph(title: "sched/sched_switch").render(try StackFixtures.corpusProfile()), as: UTF8.self)
        let click = """
            <script type="text/ecmascript"><![CDATA[
            var target = Array.prototype.slice.call(document.querySelectorAll("g.f")).filter(function (g) {
              return g.querySelector("title").textContent.split("\\n")[0] == "schedule_idle";
            })[0];
            target.dispatchEvent(new MouseEvent("click", {bubbles: true}));
            ]]></script>
            </svg>
            """
        text = text.replacingOccurrences(of: "</svg>\n", with: click)
        let file = try Self.write(Array(text.utf8))
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let run = try StackFixtures.run(chromium, Self.flags.map { $0 == "--user-data-dir=" ? $0 + file.deletingLastPathComponent().appendingPathComponent("profile").path : $0 }
            + ["--dump-dom", file.absoluteString])
        #expect(run.status == 0, "\(run.err)")
        let dom = String(decoding: run.out, as: UTF8.self)
        #expect(dom.contains(">__schedule</text>"), "frame names are in the DOM")
        #expect(dom.contains(">do_idle</text>"))
        #expect(dom.contains("id=\"reset\" x=\"1190\" y=\"22\" text-anchor=\"end\" style=\"\""), "Reset zoom shows after a click")
        // schedule_idle now spans the plot, and frames outside it are hidden.
        let zoomed = try #require(dom.components(separatedBy: "<g class=\"f\"").first { $0.contains("<title>schedule_idle\n") })
        #expect(zoomed.contains("width=\"1180.00\""), "\(zoomed)")
        let hidden = try #require(dom.components(separatedBy: "<g class=\"f\"").first { $0.contains("<title>rcu_gp_kthread\n") })
        #expect(hidden.contains("display: none"), "\(hidden)")
    }
}
