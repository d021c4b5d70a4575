/// A flame graph as one self-contained SVG document (inline style and script, no external
/// reference): a frame per function call path, as wide as its share of the chosen value,
/// its name inside (cut to fit), a tooltip and a details line with its value and percentage;
/// a click zooms into a frame, "Reset zoom" zooms out.
///
/// The document's size is bounded whatever the table: frames narrower than
/// `minimumFrameWidth` pixels are not drawn, nor are frames past `maximumFrames`.
public struct FlameGraph: Sendable {
    public var title: String
    /// The image's width in pixels.
    public var width: Int = 1200
    public var minimumFrameWidth: Double = 0.5
    public var maximumFrames: Int = 8000

    static let frameHeight = 16
    static let margin = 10
    static let top = 44
    static let bottom = 30
    /// The width of one character of the 12 px monospace font, as names are cut to fit.
    static let characterWidth = 7.2

    public init(title: String) {
        self.title = title
    }

    public func render(_ profile: StackProfile, column: Int = 0) -> [UInt8] {
        let plot = Double(max(width - 2 * Self.margin, 100))
        let layout = FlameGraphLayout(profile, column: column, minimumFraction: minimumFrameWidth / plot, maximumFrames: max(maximumFrames, 1))
        let depth = (layout.frames.map(\.depth).max() ?? 0) + 1
        let height = Self.top + depth * Self.frameHeight + Self.bottom
        let type = profile.sampleTypes.indices.contains(column) ? profile.sampleTypes[column] : .samples
        var svg = SVGText()

        svg.raw("""
            <?xml version="1.0" encoding="UTF-8" standalone="no"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)">
            <style>
            text { font-family: monospace; font-size: 12px; fill: #000; }
            #title { font-size: 16px; }
            g.f rect { stroke: #fff; stroke-width: 0.5; }
            g.f:hover rect { stroke: #000; cursor: pointer; }
            g.f text { pointer-events: none; }
            g.f.parent rect { opacity: 0.5; }
            #reset { cursor: pointer; fill: #0645ad; }
            </style>
            <rect x="0" y="0" width="\(width)" height="\(height)" fill="#f8f8f8"/>

            """)
        svg.raw("<text id=\"title\" x=\"\(Self.margin)\" y=\"22\">")
        svg.escaped(title)
        svg.raw("</text>\n<text id=\"summary\" x=\"\(Self.margin)\" y=\"38\">")
        var summary = "\(Self.quantity(layout.total, type)) in \(profile.stacks.count) stacks"
        if layout.omitted > 0 { summary += "; \(layout.omitted) frames too narrow to draw" }
        if layout.total == 0 { summary = "No samples" }
        svg.escaped(summary)
        svg.raw("</text>\n<text id=\"reset\" x=\"\(width - Self.margin)\" y=\"22\" text-anchor=\"end\" style=\"display:none\">Reset zoom</text>\n")

        for frame in layout.frames {
            let fraction = Double(frame.value) / Double(layout.total)
            let x = Double(frame.start) / Double(layout.total)
            let pixels = fraction * plot
            let y = height - Self.bottom - (frame.depth + 1) * Self.frameHeight
            svg.raw("<g class=\"f\" data-x=\"\(Self.fixed(x, 8))\" data-w=\"\(Self.fixed(fraction, 8))\" data-d=\"\(frame.depth)\"><title>")
            svg.escaped(frame.name)
            svg.raw("\n")
            svg.escaped("\(Self.quantity(frame.value, type)), \(Self.fixed(fraction * 100, 2))%")
            svg.raw("</title><rect x=\"\(Self.fixed(Double(Self.margin) + x * plot, 2))\" y=\"\(y)\" width=\"\(Self.fixed(pixels, 2))\" height=\"\(Self.frameHeight - 1)\" fill=\"\(Self.color(frame.name))\" rx=\"2\"/>")
            svg.raw("<text x=\"\(Self.fixed(Double(Self.margin) + x * plot + 3, 2))\" y=\"\(y + Self.frameHeight - 4)\">")
            svg.escaped(Self.fit(frame.name, width: pixels))
            svg.raw("</text></g>\n")
        }
        svg.raw("<text id=\"details\" x=\"\(Self.margin)\" y=\"\(height - 10)\"> </text>\n")
        svg.raw(Self.script(plotWidth: plot, minimumFrameWidth: minimumFrameWidth))
        svg.raw("</svg>\n")
        return svg.bytes
    }

    /// "67 samples", "1234 nanoseconds".
    static func quantity(_ value: Int64, _ type: SampleType) -> String {
        type.unit == "count" ? "\(value) \(type.type)" : "\(value) \(type.unit)"
    }

    /// The name cut to the characters that fit in `width` pixels, ending in `..` when cut;
    /// nothing when fewer than three fit. The script cuts the same way after a zoom.
    static func fit(_ name: String, width: Double) -> String {
        let fits = Int(((width - 6) / characterWidth).rounded(.down))
        guard fits >= 3 else { return "" }
        let characters = Array(name.unicodeScalars)
        if characters.count <= fits { return name }
        var cut = String.UnicodeScalarView()
        cut.append(contentsOf: characters[..<(fits - 2)])
        return String(cut) + ".."
    }

    /// A warm color fixed by the name, so a function has the same color in every graph
    /// (flamegraph.pl's "hot" palette, from a hash instead of random numbers).
    static func color(_ name: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let v1 = Double(hash & 0xFF) / 255, v2 = Double((hash >> 8) & 0xFF) / 255, v3 = Double((hash >> 16) & 0xFF) / 255
        return "rgb(\(205 + Int(50 * v1)),\(Int(230 * v2)),\(Int(55 * v3)))"
    }

    /// `value` with `digits` decimals, without the exponent form `description` may choose.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(value) * Double(scale)).rounded())
        let fraction = String(scaled % scale)
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard digits > 0 else { return sign + String(scaled) }
        return sign + String(scaled / scale) + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    static func script(plotWidth: Double, minimumFrameWidth: Double) -> String {
        """
        <script type="text/ecmascript"><![CDATA[
        (function () {
          var W = \(fixed(plotWidth, 2)), X0 = \(margin), CW = \(characterWidth), MINPX = \(fixed(minimumFrameWidth, 2));
          var frames = Array.prototype.slice.call(document.querySelectorAll("g.f"));
          var details = document.getElementById("details"), reset = document.getElementById("reset");
          function num(g, a) { return +g.getAttribute(a); }
          function label(g) { return g.querySelector("title").textContent; }
          function fit(name, w) {
            var n = Math.floor((w - 6) / CW);
            if (n < 3) return "";
            return name.length <= n ? name : name.slice(0, n - 2) + "..";
          }
          function place(g, x, w) {
            var r = g.querySelector("rect"), t = g.querySelector("text");
            r.setAttribute("x", (X0 + x).toFixed(2));
            r.setAttribute("width", w.toFixed(2));
            t.setAttribute("x", (X0 + x + 3).toFixed(2));
            t.textContent = fit(label(g).split("\\n")[0], w);
            g.style.display = "";
          }
          function zoom(target) {
            var zx = num(target, "data-x"), zw = num(target, "data-w"), zd = num(target, "data-d"), e = 1e-9;
            frames.forEach(function (g) {
              var x = num(g, "data-x"), w = num(g, "data-w"), d = num(g, "data-d");
              g.classList.remove("parent");
              if (d < zd) {
                if (x <= zx + e && x + w >= zx + zw - e) { place(g, 0, W); g.classList.add("parent"); }
                else g.style.display = "none";
              } else if (x >= zx - e && x + w <= zx + zw + e && w / zw * W >= MINPX) {
                place(g, (x - zx) / zw * W, w / zw * W);
              } else g.style.display = "none";
            });
            reset.style.display = "";
          }
          function unzoom() {
            frames.forEach(function (g) { g.classList.remove("parent"); place(g, num(g, "data-x") * W, num(g, "data-w") * W); });
            reset.style.display = "none";
          }
          frames.forEach(function (g) {
            g.addEventListener("click", function () { zoom(g); });
            g.addEventListener("mouseover", function () { details.textContent = label(g).replace("\\n", ": "); });
            g.addEventListener("mouseout", function () { details.textContent = " "; });
          });
          reset.addEventListener("click", unzoom);
        })();
        ]]></script>

        """
    }
}

/// SVG text built as bytes, with names escaped for XML text and attributes alike.
struct SVGText {
    private(set) var bytes: [UInt8] = []

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// `&<>"'` as entities; control characters XML 1.0 does not allow as `?`.
    mutating func escaped(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): raw("&amp;")
            case UInt8(ascii: "<"): raw("&lt;")
            case UInt8(ascii: ">"): raw("&gt;")
            case UInt8(ascii: "\""): raw("&quot;")
            case UInt8(ascii: "'"): raw("&#39;")
            case 0x09, 0x0A, 0x0D: bytes.append(byte)
            case 0..<0x20: bytes.append(UInt8(ascii: "?"))
            default: bytes.append(byte)
            }
        }
    }
}
