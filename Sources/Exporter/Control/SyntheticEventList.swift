/// The names of the synthetic events the kernel holds, from a read-back (hist-format.md §8).
///
/// `synthetic_events` lists one event a line, `name<TAB>type field; ...`; `dynamic_events`
/// lists the same lines prefixed `s:synthetic/`, among the probes (`p:`, `r:`, `e:`...) that
/// are no synthetic events at all.
enum SyntheticEventList {
    static func names(syntheticEvents text: String) -> Set<String> {
        var names: Set<String> = []
        for line in text.split(separator: "\n") {
            let name = line.prefix { $0 != "\t" && $0 != " " }
            if !name.isEmpty && !name.hasPrefix("#") { names.insert(String(name)) }
        }
        return names
    }

    static func names(dynamicEvents text: String) -> Set<String> {
        var names: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("s:") {
            var event = line.dropFirst(2).prefix { $0 != "\t" && $0 != " " }
            if let slash = event.firstIndex(of: "/") { event = event[event.index(after: slash)...] }
            if !event.isEmpty { names.insert(String(event)) }
        }
        return names
    }
}
