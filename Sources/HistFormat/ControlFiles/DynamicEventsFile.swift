/// `dynamic_events` as read back: every dynamic event a line, `KIND:[GROUP/]NAME ...`, where
/// synthetic events are `s:` (`s:synthetic/name fields` on 6.1, `s:name` before) among the
/// probes (`p:`, `r:`, `e:`, `f:`, `t:`), which are no synthetic events at all.
public struct DynamicEventsFile: Sendable {
    public struct Entry: Equatable, Sendable {
        /// `s`, `p`, `r`, `e`, `f`, `t`.
        public var kind: String
        /// The group before the slash, empty when the line names none.
        public var group: String
        public var name: String

        public init(kind: String, group: String, name: String) {
            self.kind = kind
            self.group = group
            self.name = name
        }
    }

    public var entries: [Entry]

    public init(parsing text: String) {
        entries = text.split(separator: "\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#") else { return nil }
            let kind = String(line[..<colon])
            var event = line[line.index(after: colon)...].prefix { $0 != "\t" && $0 != " " }
            var group = ""
            if let slash = event.firstIndex(of: "/") {
                group = String(event[..<slash])
                event = event[event.index(after: slash)...]
            }
            return event.isEmpty ? nil : Entry(kind: kind, group: group, name: String(event))
        }
    }

    public init(_ bytes: [UInt8]) { self.init(parsing: String(decoding: bytes, as: UTF8.self)) }

    /// The synthetic events among them.
    public var syntheticNames: Set<String> { Set(entries.filter { $0.kind == "s" }.map(\.name)) }
}
