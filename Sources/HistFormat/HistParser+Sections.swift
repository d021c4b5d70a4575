/// The lines of a hist file around its entries: handler lines (onmax, onchange), the snapshot
/// note, and the totals that end each block.
extension Parser {
    mutating func parseActionLine(_ layout: EntryLayout) throws(HistParseError) -> HistActionLine {
        let handler: HistActionLine.Handler
        if cursor.hasPrefix(Literal.tabMax) {
            cursor.index += Literal.tabMax.count
            handler = .max
        } else {
            cursor.index += Literal.tabChanged.count
            handler = .changed
        }
        cursor.skipSpaces()
        let value = try cursor.readDecimal("the handler's value")
        let lineEnd = cursor.endOfLine()
        var saved: [SavedField] = []
        var current = nextSavedName(from: cursor.index, lineEnd: lineEnd, names: layout.savedNames)
        while let (nameStart, nameEnd) = current {
            let valueStart = nameEnd + 2
            let next = nextSavedName(from: valueStart, lineEnd: lineEnd, names: layout.savedNames)
            let valueEnd = next.map { $0.0 - 2 } ?? lineEnd
            saved.append(SavedField(name: cursor.string(nameStart..<nameEnd), value: cursor.trimmedString(valueStart..<valueEnd)))
            current = next
        }
        cursor.index = lineEnd
        if !cursor.atEnd { cursor.consumeNewline() }
        return HistActionLine(handler: handler, value: value, saved: saved)
    }

    /// The next `  NAME: ` of a saved field; with the `save()` names known, only those.
    func nextSavedName(from: Int, lineEnd: Int, names: Set<String>) -> (Int, Int)? {
        var i = from
        while let at = cursor.find(Literal.twoSpaces, from: i, limit: lineEnd) {
            var j = at + 2
            while j < lineEnd && isIdentifierByte(cursor.bytes[j]) { j += 1 }
            if j > at + 2 && cursor.hasPrefix(Literal.colonSpace, at: j) {
                if names.isEmpty || names.contains(cursor.string((at + 2)..<j)) { return (at + 2, j) }
            }
            i = at + 1
        }
        return nil
    }

    mutating func parseSnapshot() throws(HistParseError) -> HistSnapshot {
        let end = cursor.endOfLine()
        if end >= cursor.bytes.count { throw cursor.error(.unexpectedEndOfInput(expected: "the snapshot details")) }
        cursor.index = end
        cursor.consumeNewline()
        try cursor.expect(Literal.triggeringValue, "'\\ttriggering value { '")
        let lineEnd = cursor.endOfLine()
        guard let close = cursor.find(Literal.handlerClose, from: cursor.index, limit: lineEnd) else {
            throw cursor.error(.expected("' }: ' after the snapshot handler"))
        }
        let handler = cursor.string(cursor.index..<close)
        cursor.index = close + Literal.handlerClose.count
        cursor.skipSpaces()
        let value = try cursor.readDecimal("the triggering value")
        try cursor.expect(Literal.triggeredBy, "'\\ttriggered by event with key: '")
        let key = cursor.trimmedString(cursor.index..<lineEnd)
        cursor.index = lineEnd
        if !cursor.atEnd { cursor.consumeNewline() }
        return HistSnapshot(handler: handler, triggeringValue: value, key: key)
    }

    mutating func parseTotals() throws(HistParseError) -> HistTotals {
        try cursor.expect(Literal.totals, "'Totals:'")
        try cursor.expect(Literal.hits, "'    Hits: '")
        let hits = try cursor.readDecimal("the number of hits")
        try endLine()
        try cursor.expect(Literal.entries, "'    Entries: '")
        let entries = try cursor.readDecimal("the number of entries")
        try endLine()
        var dropped: UInt64 = 0
        if cursor.hasPrefix(Literal.dropped) {
            cursor.index += Literal.dropped.count
            dropped = try cursor.readDecimal("the number of dropped events")
            try endLine()
        }
        return HistTotals(hits: hits, entries: entries, dropped: dropped)
    }

    /// Ends a line; the very last line of a file may lack its newline.
    mutating func endLine() throws(HistParseError) {
        if cursor.atEnd { return }
        guard cursor.peek() == 0x0A else { throw cursor.error(.expected("the end of the line")) }
        cursor.consumeNewline()
    }

    mutating func parseLegacyError() throws(HistParseError) -> LegacyError {
        cursor.index += Literal.legacyError.count
        let end = cursor.endOfLine()
        let message = cursor.string(cursor.index..<end)
        cursor.index = end
        if cursor.atEnd { return LegacyError(message: message, lastCommand: "") }
        cursor.consumeNewline()
        var command = ""
        if cursor.hasPrefix(Literal.lastCommand) {
            cursor.index += Literal.lastCommand.count
            let cend = cursor.endOfLine()
            command = cursor.string(cursor.index..<cend)
            cursor.index = cend
            if !cursor.atEnd { cursor.consumeNewline() }
        }
        return LegacyError(message: message, lastCommand: command)
    }
}
