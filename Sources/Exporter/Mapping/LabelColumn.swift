import HistFormat

/// What one label of a table's series is drawn from: the label value of a key (through a
/// configured decoder), the pid of an `.execname` key, or a part of the cgroup a
/// `decode: cgroup` key names.
enum KeyLabelSource {
    case value(LabelDecoder?)
    case pid
    case cgroup(CgroupNames.Part, CgroupNames)

    /// nil for a cgroup id that names no cgroup.
    func render(_ key: KeyValue) -> String? {
        switch self {
        case .value(let decoder): return KeyLabels.value(key, decoder: decoder)
        case .pid: return KeyLabels.pid(key) ?? ""
        case .cgroup(let part, let names): return names.label(part, of: key)
        }
    }
}

/// The distinct values of one label of a table, each given a small id.
///
/// A table's entries repeat their key values (a comm, a CPU, a call site) from entry to
/// entry: hashing and comparing every entry's labels as an array of `String`s was most of
/// the cost of mapping a table. Two keys that render alike (stacks that differ only in
/// symbol offsets) get the same id, so ids compare as their label values do.
struct LabelColumn {
    let source: KeyLabelSource
    /// Keys already rendered, where rendering costs more than hashing the key: a decoder
    /// builds its text from the number each time.
    private var idOfKey: [KeyValue: Int32]?
    private var idOfValue: [String: Int32] = [:]
    /// The label value of each id.
    private(set) var values: [String] = []

    static let unnamed: Int32 = -1

    init(_ source: KeyLabelSource) {
        self.source = source
        switch source {
        case .value(.some), .cgroup: idOfKey = [:]
        case .value(.none), .pid: break
        }
    }

    /// The id of the key's label value; `LabelColumn.unnamed` when the source names nothing.
    mutating func id(of key: KeyValue) -> Int32 {
        if let id = idOfKey?[key] { return id }
        guard let value = source.render(key) else { return Self.unnamed }
        let id: Int32
        if let known = idOfValue[value] {
            id = known
        } else {
            id = Int32(values.count)
            values.append(value)
            idOfValue[value] = id
        }
        idOfKey?[key] = id
        return id
    }

    /// The position of each id's value in `String` order: comparing ranks compares the
    /// values, as `labelsPrecede` does, with one sort of the distinct values per table.
    func ranks() -> [Int32] {
        // Sorting the values with their ids compares them in place, without fetching (and
        // retaining) each from the array per comparison.
        var order = Array(zip(values, 0...))
        order.sort { $0.0 < $1.0 }
        var ranks = [Int32](repeating: 0, count: values.count)
        for (rank, entry) in order.enumerated() { ranks[entry.1] = Int32(rank) }
        return ranks
    }
}
