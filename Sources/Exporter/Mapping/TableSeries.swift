import Exposition
import HistFormat

/// The series a table's entries fold into: each entry's labels as ids, one `LabelColumn`
/// per label, and the distinct label sets in first-seen order up to a limit.
struct TableSeries {
    struct Column {
        var name: String
        /// The key the label is drawn from.
        var keyPosition: Int
        var source: KeyLabelSource
    }

    let names: [String]
    private let keyPositions: [Int]
    private var columns: [LabelColumn]
    private(set) var index: SeriesIndex
    /// Label sets left out by the limit, each counted once.
    private var overLimit: SeriesIndex
    private var scratch: [Int32]
    /// Entries left out because a key names nothing (a cgroup removed since).
    private(set) var unnamedEntries = 0

    init(_ columns: [Column], expected: Int) {
        names = columns.map(\.name)
        keyPositions = columns.map(\.keyPosition)
        self.columns = columns.map { LabelColumn($0.source) }
        index = SeriesIndex(width: columns.count, expected: expected)
        overLimit = SeriesIndex(width: columns.count)
        scratch = [Int32](repeating: 0, count: columns.count)
    }

    var count: Int { index.count }
    var overLimitCount: Int { overLimit.count }

    /// The series of the entry, added while there are fewer than `limit`; nil once the
    /// limit leaves it out, for an entry without the keys the columns read, or one whose key
    /// names nothing.
    mutating func series(of entry: HistEntry, limit: Int) -> Int? {
        for (c, position) in keyPositions.enumerated() {
            guard position < entry.keys.count else { return nil }
            let id = columns[c].id(of: entry.keys[position].value)
            guard id != LabelColumn.unnamed else {
                unnamedEntries += 1
                return nil
            }
            scratch[c] = id
        }
        if let known = index.series(scratch) { return known }
        guard index.count < limit else {
            if overLimit.series(scratch) == nil { overLimit.append(scratch) }
            return nil
        }
        return index.append(scratch)
    }

    /// Series numbers in the order of their label values.
    func sorted() -> [Int] {
        index.sorted(by: columns.map { $0.ranks() })
    }

    /// The label ids of the series in `order`, one row after another, for a `SeriesBlock`.
    func rows(in order: [Int]) -> [Int32] {
        var rows: [Int32] = []
        rows.reserveCapacity(order.count * names.count)
        for series in order {
            for c in names.indices { rows.append(index.id(series, c)) }
        }
        return rows
    }

    /// Each column's distinct values, as the ids of `rows(in:)` refer to them.
    var values: [[String]] { columns.map(\.values) }

    /// The series' labels after `prefix`, with room for `extra` more.
    func labels(of series: Int, after prefix: [Label] = [], extra: Int = 0) -> [Label] {
        var labels = prefix
        labels.reserveCapacity(prefix.count + names.count + extra)
        for (c, name) in names.enumerated() {
            labels.append(Label(name, columns[c].values[Int(index.id(series, c))]))
        }
        return labels
    }
}
