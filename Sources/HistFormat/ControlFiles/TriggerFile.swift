/// An event's `trigger` file as the kernel reads it back: a `# Available triggers:` header when
/// it holds none, else one trigger a line: hist triggers (`hist:...`, parsed as `TriggerInfo`)
/// among the others (`traceon`, `snapshot`, `enable_event:...`).
public struct TriggerFile: Sendable {
    public struct Line: Sendable {
        public var text: String
        /// The parsed hist trigger; nil for other triggers and for a hist line that does not parse.
        public var hist: TriggerInfo?
        public var isHist: Bool { text.hasPrefix("hist:") }
    }

    /// Every trigger line, comments and blank lines left out.
    public var lines: [Line]

    public init(parsing text: String) {
        lines = text.split(separator: "\n").compactMap { raw in
            if raw.hasPrefix("#") || raw.allSatisfy(\.isWhitespace) { return nil }
            let text = String(raw)
            return Line(text: text, hist: text.hasPrefix("hist:") ? try? TriggerInfo.parse(text) : nil)
        }
    }

    public init(_ bytes: [UInt8]) { self.init(parsing: String(decoding: bytes, as: UTF8.self)) }

    public var histLines: [Line] { lines.filter(\.isHist) }

    /// Whether a hist trigger with this identity is there (the kernel's own comparison: keys,
    /// values, filter, name; not size, not state).
    public func contains(_ identity: TriggerInfo.Identity) -> Bool {
        lines.contains { $0.hist?.identity == identity }
    }
}
