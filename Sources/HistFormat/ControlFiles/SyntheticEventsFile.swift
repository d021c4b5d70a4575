/// `synthetic_events` as read back (hist-format.md §8): one event a line,
/// `name<TAB>type field; ...`, comments aside.
public struct SyntheticEventsFile: Sendable {
    /// The names of the synthetic events the kernel holds.
    public var names: Set<String>

    public init(parsing text: String) {
        names = []
        for line in text.split(separator: "\n") {
            let name = line.prefix { $0 != "\t" && $0 != " " }
            if !name.isEmpty && !name.hasPrefix("#") { names.insert(String(name)) }
        }
    }

    public init(_ bytes: [UInt8]) { self.init(parsing: String(decoding: bytes, as: UTF8.self)) }
}
