import Synchronization

/// Trigger info lines parsed before, with their entry layouts. A table is read at every refresh
/// under the same trigger line, and parsing the line costs more than a small table's entries
/// (two thirds of a one-entry table's parse); the memo makes it a dictionary lookup.
final class TriggerInfoMemo: Sendable {
    static let shared = TriggerInfoMemo()
    /// More distinct trigger lines than this (every table of a busy host, several times over)
    /// empties the memo rather than let it grow.
    static let capacity = 1024

    struct Parsed: Sendable {
        var info: TriggerInfo
        var layout: EntryLayout
    }

    private let parsed = Mutex<[String: Parsed]>([:])

    /// The line's trigger info and layout; only lines that parse are kept, so an error is
    /// reported with its own line and column every time.
    func parse(_ text: String, line: Int, column: Int) throws(HistParseError) -> Parsed {
        if let known = parsed.withLock({ $0[text] }) { return known }
        let info = try TriggerInfo.parse(text, line: line, column: column)
        let result = Parsed(info: info, layout: EntryLayout(info))
        parsed.withLock { memo in
            if memo.count >= Self.capacity { memo.removeAll(keepingCapacity: true) }
            memo[text] = result
        }
        return result
    }
}
