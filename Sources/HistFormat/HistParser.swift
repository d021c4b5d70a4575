/// Parses the text of an `events/<sys>/<event>/hist` file (hist-format.md §2).
///
/// The trigger info of each block drives the parse: it says how many keys an entry has
/// and how each is rendered, which is the only way to read string keys that contain
/// spaces, commas or braces.
public enum HistParser {
    public static func parse(_ bytes: [UInt8]) throws(HistParseError) -> HistFile {
        let result: Result<HistFile, HistParseError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(cursor: ByteCursor(buffer), strings: StringCache(inputSize: buffer.count))
            do throws(HistParseError) {
                return .success(try parser.parseFile())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(HistParseError) -> HistFile {
        try parse(Array(text.utf8))
    }
}

enum Literal {
    static let eventHistogram = Array("# event histogram\n".utf8)
    static let hashLine = Array("#\n".utf8)
    static let triggerInfo = Array("# trigger info: ".utf8)
    static let newline = Array("\n".utf8)
    static let entryOpen = Array("{ ".utf8)
    static let keySeparator = Array(", ".utf8)
    static let keyClose = Array(" }".utf8)
    static let stackKeyClose = Array("}".utf8)
    static let colonSpace = Array(": ".utf8)
    static let colonNewline = Array(":\n".utf8)
    static let percentColon = Array(" (%):".utf8)
    static let errorMark = Array("[ERROR]".utf8)
    static let log2Open = Array("~ 2^".utf8)
    static let bucketOpen = Array("~ ".utf8)
    static let dotStacktrace = Array(".stacktrace".utf8)
    static let tabMax = Array("\tmax: ".utf8)
    static let tabChanged = Array("\tchanged: ".utf8)
    static let snapshotTaken = Array("Snapshot taken".utf8)
    static let triggeringValue = Array("\ttriggering value { ".utf8)
    static let handlerClose = Array(" }: ".utf8)
    static let triggeredBy = Array("\ttriggered by event with key: ".utf8)
    static let totals = Array("Totals:\n".utf8)
    static let hits = Array("    Hits: ".utf8)
    static let entries = Array("    Entries: ".utf8)
    static let dropped = Array("    Dropped: ".utf8)
    static let legacyError = Array("ERROR: ".utf8)
    static let lastCommand = Array("  Last command: ".utf8)
    static let twoSpaces = Array("  ".utf8)
}

struct Parser {
    var cursor: ByteCursor
    /// Key and value names, symbols, comms and stack frames repeat from entry to entry.
    var strings = StringCache()
    /// The frames of the stack being read, reused so each stack gets one exact-size array.
    var frameScratch: [String] = []
    /// The names of the block being read, as its last entry printed them.
    var names = NameMemo()

    /// The text in `range`, without the kernel's padding when `trimmed`, shared with an
    /// earlier identical text where there was one.
    mutating func text(_ range: Range<Int>, trimmed: Bool = false) -> String {
        var lo = range.lowerBound
        var hi = range.upperBound
        if trimmed {
            while hi > lo && (cursor.bytes[hi - 1] == 0x20 || cursor.bytes[hi - 1] == 0x09) { hi -= 1 }
            while lo < hi && (cursor.bytes[lo] == 0x20 || cursor.bytes[lo] == 0x09) { lo += 1 }
        }
        return strings.string(UnsafeBufferPointer(rebasing: cursor.bytes[lo..<hi]))
    }

    mutating func parseFile() throws(HistParseError) -> HistFile {
        var file = HistFile()
        while true {
            while cursor.peek() == 0x0A { cursor.consumeNewline() }
            if cursor.atEnd { return file }
            if cursor.hasPrefix(Literal.eventHistogram) {
                file.blocks.append(try parseBlock())
            } else if cursor.hasPrefix(Literal.legacyError) {
                file.legacyError = try parseLegacyError()
            } else {
                throw cursor.error(.expected("'# event histogram' or the end of the file"))
            }
        }
    }

    mutating func parseBlock() throws(HistParseError) -> HistBlock {
        let startLine = cursor.line
        try cursor.expect(Literal.eventHistogram, "'# event histogram'")
        try cursor.expect(Literal.hashLine, "'#'")
        try cursor.expect(Literal.triggerInfo, "'# trigger info: '")
        let infoStart = cursor.index
        let infoEnd = cursor.endOfLine()
        if infoEnd >= cursor.bytes.count { throw cursor.error(.unexpectedEndOfInput(expected: "the end of the trigger info line")) }
        let parsedInfo = try TriggerInfoMemo.shared.parse(
            cursor.string(infoStart..<infoEnd), line: cursor.line, column: infoStart - cursor.lineStart + 1)
        let (info, layout) = (parsedInfo.info, parsedInfo.layout)
        cursor.index = infoEnd
        cursor.consumeNewline()
        try cursor.expect(Literal.hashLine, "'#'")

        names = NameMemo(keyCount: layout.keyKinds.count)
        var entries = HistEntries()
        // An entry line is 60 bytes or more: room for the whole file, which is one block mostly.
        let expectedEntries = min((cursor.bytes.count - cursor.index) / 64, 1 << 20)
        entries.reserve(entries: expectedEntries, keysPerEntry: layout.keyKinds.count, valuesPerEntry: layout.valueCapacity)
        var snapshot: HistSnapshot?
        while true {
            if cursor.atEnd { throw cursor.error(.unexpectedEndOfInput(expected: "'Totals:'")) }
            if cursor.hasPrefix(Literal.entryOpen) {
                try parseEntry(layout, into: &entries)
            } else if cursor.peek() == 0x0A {
                cursor.consumeNewline()
            } else if cursor.hasPrefix(Literal.snapshotTaken) {
                snapshot = try parseSnapshot()
            } else if cursor.hasPrefix(Literal.totals) {
                let totals = try parseTotals()
                return HistBlock(triggerInfo: info, entries: entries, snapshot: snapshot, totals: totals, line: startLine)
            } else {
                throw cursor.error(.expected("an entry '{ ', 'Snapshot taken' or 'Totals:'"))
            }
        }
    }

    // MARK: Entries

    mutating func parseEntry(_ layout: EntryLayout, into entries: inout HistEntries) throws(HistParseError) {
        try cursor.expect(Literal.entryOpen, "'{ '")
        // Once a key has spanned lines, the kernel closes the entry with `}` alone.
        var anyMultiLine = false
        for (position, kind) in layout.keyKinds.enumerated() {
            let isLast = position == layout.keyKinds.count - 1
            if position > 0 { try cursor.expect(Literal.keySeparator, "', ' before the next key") }
            let close = anyMultiLine ? Literal.stackKeyClose : Literal.keyClose
            let (key, multiLine) = try parseKey(kind, at: position, isLast: isLast, close: close, names: layout.keyNames[position])
            entries.appendKey(key)
            anyMultiLine = anyMultiLine || multiLine
        }
        if anyMultiLine {
            try cursor.expect(Literal.stackKeyClose, "'}' after a stack key")
        } else {
            try cursor.expect(Literal.keyClose, "' }' closing the keys")
        }
        let hitcount = try parseValues(into: &entries, layout)
        if !cursor.atEnd { cursor.consumeNewline() }
        while cursor.hasPrefix(Literal.tabMax) || cursor.hasPrefix(Literal.tabChanged) {
            entries.appendAction(try parseActionLine(layout))
        }
        entries.finishEntry(hitcount: hitcount)
    }

    /// Reads one key; says whether it spanned lines (a stack), since then `}` and the
    /// next `, ` start a line with no space before them. `names` are the names the key may
    /// print under (nil: any).
    mutating func parseKey(_ kind: KeyKind, at position: Int, isLast: Bool, close: [UInt8], names: [String]?) throws(HistParseError) -> (HistKey, Bool) {
        let lineEnd = cursor.endOfLine()
        if kind == .fieldStacktrace {
            guard let dot = cursor.find(Literal.dotStacktrace, from: cursor.index, limit: lineEnd) else {
                throw cursor.error(.expected("'<field>.stacktrace'"))
            }
            let nameStart = cursor.index
            let name = text(nameStart..<dot)
            try checkKeyName(name, names, at: nameStart)
            cursor.index = dot + Literal.dotStacktrace.count
            if lineEnd - cursor.index > EntryLayout.maximumFrameBytes {
                throw cursor.error(.limitExceeded("a stack frame of more than \(EntryLayout.maximumFrameBytes) bytes"))
            }
            var frames: [String] = []
            let first = text(cursor.index..<lineEnd, trimmed: true)
            if !first.isEmpty { frames.append(first) }
            cursor.index = lineEnd
            if cursor.atEnd { throw cursor.error(.unexpectedEndOfInput(expected: "stack frames")) }
            cursor.consumeNewline()
            frames += try parseFrames(before: frames.count)
            return (HistKey(name: name, value: .stack(frames)), true)
        }

        let nameStart = cursor.index
        let name: String
        if let known = memoized(self.names.keys[position], at: nameStart, endedBy: (0x3A, 0x3A)) {
            cursor.index = nameStart + known.bytes.count
            name = known.string
        } else {
            while cursor.index < lineEnd && cursor.bytes[cursor.index] != 0x3A { cursor.index += 1 }
            if cursor.index >= lineEnd {
                if lineEnd >= cursor.bytes.count { throw cursor.error(.unexpectedEndOfInput(expected: "a key name and ':'")) }
                throw cursor.error(.expected("a key name and ':'"))
            }
            name = text(nameStart..<cursor.index)
            try checkKeyName(name, names, at: nameStart)
            self.names.keys[position] = memo(of: nameStart..<cursor.index, name)
        }

        if kind == .stacktrace {
            try cursor.expect(Literal.colonNewline, "':' and a new line after a stack key")
            return (HistKey(name: name, value: .stack(try parseFrames())), true)
        }
        try cursor.expect(Literal.colonSpace, "': ' after the key name")

        let value: KeyValue
        switch kind {
        case .hex:
            value = .hex(try cursor.readHex("a hex key"))
        case .symbol, .symbolOffset:
            try cursor.expect([0x5B], "'[' before a symbol address")
            let address = try cursor.readHex("a symbol address")
            try cursor.expect([0x5D, 0x20], "'] ' after a symbol address")
            let width = kind == .symbol ? 45 : 55
            let text = try paddedText(minimumWidth: width, isLast: isLast, close: close, lineEnd: lineEnd)
            value = kind == .symbol ? .symbol(address: address, name: text) : .symbolOffset(address: address, text: text)
        case .execname, .syscall:
            let width = kind == .execname ? 16 : 30
            let textStart = cursor.index
            guard let open = bracketedNumberStart(from: min(textStart + width, lineEnd), lineEnd: lineEnd)
                ?? bracketedNumberStart(from: textStart, lineEnd: lineEnd)
            else {
                throw cursor.error(lineEnd >= cursor.bytes.count
                    ? .unexpectedEndOfInput(expected: "'[number]'") : .expected("a name and '[number]'"))
            }
            let text = text(textStart..<open, trimmed: true)
            cursor.index = open + 1
            cursor.skipSpaces()
            let number = try cursor.readDecimal("a number in brackets")
            try cursor.expect([0x5D], "']'")
            value = kind == .execname ? .execname(comm: text, pid: number) : .syscall(name: text, id: number)
        case .log2:
            try cursor.expect(Literal.log2Open, "'~ 2^'")
            let exponent = try cursor.readDecimal("a log2 exponent")
            // `%-2llu` pads one-digit exponents with a space that belongs to the key.
            if cursor.peek() == 0x20 && !cursor.hasPrefix(Literal.keyClose) { cursor.index += 1 }
            value = .log2(exponent: exponent)
        case .buckets:
            try cursor.expect(Literal.bucketOpen, "'~ '")
            let lower = try cursor.readDecimal("a bucket start")
            try cursor.expect([0x2D], "'-' between bucket bounds")
            let upper = try cursor.readDecimal("a bucket end")
            value = .bucket(lower: lower, upper: upper)
        case .plain:
            if let number = try plainNumber(isLast: isLast, close: close, lineEnd: lineEnd) {
                value = .number(number)
            } else {
                value = .string(try paddedText(minimumWidth: 50, isLast: isLast, close: close, lineEnd: lineEnd))
            }
        case .stacktrace, .fieldStacktrace:
            fatalError("handled above")
        }
        return (HistKey(name: name, value: value), false)
    }

    /// A key printed under another name than the trigger info gives it at that position
    /// belongs to another table: reading it as this one's would put its values under the
    /// wrong labels.
    func checkKeyName(_ name: String, _ names: [String]?, at position: Int) throws(HistParseError) {
        guard let names, !names.contains(name) else { return }
        throw cursor.error(.expected("the key '\(names[0])' the trigger info names here, not '\(name)'"), at: position)
    }

    /// A `%10llu` key: spaces, digits, then the key's terminator right away. A string
    /// key is padded to 50 columns, so digits followed by a terminator are never one.
    mutating func plainNumber(isLast: Bool, close: [UInt8], lineEnd: Int) throws(HistParseError) -> UInt64? {
        var i = cursor.index
        while i < lineEnd && cursor.bytes[i] == 0x20 { i += 1 }
        let digitsStart = i
        while i < lineEnd, cursor.bytes[i] >= 0x30, cursor.bytes[i] <= 0x39 { i += 1 }
        guard i > digitsStart else { return nil }
        let terminated = isLast ? cursor.hasPrefix(close, at: i) : cursor.hasPrefix(Literal.keySeparator, at: i)
        guard terminated else { return nil }
        cursor.index = digitsStart
        return try cursor.readDecimal("a number")
    }

    /// Text the kernel left-justifies in at least `minimumWidth` columns; it ends at the
    /// first key terminator at or after that width.
    mutating func paddedText(minimumWidth: Int, isLast: Bool, close: [UInt8], lineEnd: Int) throws(HistParseError) -> String {
        let start = cursor.index
        let search = min(start + minimumWidth, lineEnd)
        guard let end = terminator(from: search, isLast: isLast, close: close, lineEnd: lineEnd)
            ?? terminator(from: start, isLast: isLast, close: close, lineEnd: lineEnd)
        else {
            if lineEnd >= cursor.bytes.count { throw cursor.error(.unexpectedEndOfInput(expected: "the end of the key")) }
            throw cursor.error(.expected(isLast ? "' }' after the key" : "', <key>:' after the key"))
        }
        cursor.index = end
        return text(start..<end, trimmed: true)
    }

    /// Where a key's text ends: before `, <name>:` (or `, <name>.stacktrace`) for inner
    /// keys, before ` }` followed by a space or the end of the line for the last one.
    func terminator(from: Int, isLast: Bool, close: [UInt8], lineEnd: Int) -> Int? {
        var i = from
        while i < lineEnd {
            if isLast {
                if let at = cursor.find(close, from: i, limit: lineEnd) {
                    let after = at + close.count
                    if after == lineEnd || cursor.bytes[after] == 0x20 { return at }
                    i = at + 1
                    continue
                }
                return nil
            } else {
                guard let at = cursor.find(Literal.keySeparator, from: i, limit: lineEnd) else { return nil }
                var j = at + 2
                while j < lineEnd && (isIdentifierByte(cursor.bytes[j]) || cursor.bytes[j] == 0x2D
                    || cursor.bytes[j] == 0x2B || cursor.bytes[j] == 0x24)
                {
                    j += 1
                }
                if j > at + 2 && j < lineEnd && (cursor.bytes[j] == 0x3A || cursor.hasPrefix(Literal.dotStacktrace, at: j)) {
                    return at
                }
                if j > at + 2 && j == lineEnd {
                    return at  // a stack key after this one starts with its name and ':' at the end of the line
                }
                i = at + 1
            }
        }
        return nil
    }

    /// The `[` of a `[   123]` group at or after `from`.
    func bracketedNumberStart(from: Int, lineEnd: Int) -> Int? {
        var i = from
        while i < lineEnd {
            if cursor.bytes[i] == 0x5B {
                var j = i + 1
                while j < lineEnd && cursor.bytes[j] == 0x20 { j += 1 }
                let digits = j
                while j < lineEnd, cursor.bytes[j] >= 0x30, cursor.bytes[j] <= 0x39 { j += 1 }
                if j > digits && j < lineEnd && cursor.bytes[j] == 0x5D { return i }
            }
            i += 1
        }
        return nil
    }

    /// Stack frames: indented lines until a line that starts with `,` or `}`. `before`
    /// frames of the stack were on its first line.
    mutating func parseFrames(before: Int = 0) throws(HistParseError) -> [String] {
        frameScratch.removeAll(keepingCapacity: true)
        while true {
            guard let b = cursor.peek() else { throw cursor.error(.unexpectedEndOfInput(expected: "stack frames and '}'")) }
            if b == 0x2C || b == 0x7D { return Array(frameScratch) }
            guard b == 0x20 || b == 0x09 else { throw cursor.error(.expected("an indented stack frame, ',' or '}'")) }
            if before + frameScratch.count == EntryLayout.maximumStackFrames {
                throw cursor.error(.limitExceeded("a stack of more than \(EntryLayout.maximumStackFrames) frames"))
            }
            let end = cursor.endOfLine()
            if end - cursor.index > EntryLayout.maximumFrameBytes {
                throw cursor.error(.limitExceeded("a stack frame of more than \(EntryLayout.maximumFrameBytes) bytes"))
            }
            if end >= cursor.bytes.count { throw cursor.error(.unexpectedEndOfInput(expected: "the end of a stack frame")) }
            frameScratch.append(text(cursor.index..<end, trimmed: true))
            cursor.index = end
            cursor.consumeNewline()
        }
    }

    // MARK: Values

    /// Appends the entry's values; returns its hitcount.
    mutating func parseValues(into entries: inout HistEntries, _ layout: EntryLayout) throws(HistParseError) -> UInt64? {
        var hitcount: UInt64?
        let lineEnd = cursor.endOfLine()
        var position = -1
        while true {
            cursor.skipSpaces()
            if cursor.index >= lineEnd { break }
            position += 1
            let nameStart = cursor.index
            let name: String
            let style: EntryLayout.ValueStyle
            if position < names.values.count, let known = memoized(names.values[position], at: nameStart, endedBy: (0x3A, 0x20)) {
                cursor.index = nameStart + known.bytes.count
                name = known.string
                style = known.style
            } else {
                while cursor.index < lineEnd, cursor.bytes[cursor.index] != 0x3A, cursor.bytes[cursor.index] != 0x20 {
                    cursor.index += 1
                }
                if cursor.index >= lineEnd {
                    if lineEnd >= cursor.bytes.count { throw cursor.error(.unexpectedEndOfInput(expected: "':' after a value name")) }
                    throw cursor.error(.expected("':' after a value name"))
                }
                name = text(nameStart..<cursor.index)
                if let names = layout.valueNames, !names.contains(name) {
                    // A column the trigger does not have: taken as is, a configured column it
                    // hides would read as absent, and its sum as 0.
                    throw cursor.error(.expected("a value column of the trigger info (\(names.joined(separator: ", "))), not '\(name)'"), at: nameStart)
                }
                style = layout.valueStyle(name)
                names.rememberValue(memo(of: nameStart..<cursor.index, name, style: style), at: position)
            }
            if cursor.hasPrefix(Literal.percentColon) {
                cursor.index += Literal.percentColon.count
                if cursor.hasPrefix(Literal.errorMark) {
                    cursor.index += Literal.errorMark.count
                    entries.appendValue(HistValue(name: name, reading: .percent(hundredths: nil)))
                    continue
                }
                cursor.skipSpaces()
                let whole = try cursor.readDecimal("a percentage")
                try cursor.expect([0x2E], "'.' in a percentage")
                let fraction = try cursor.readDecimal("two decimals of a percentage")
                let (scaled, overflow) = whole.multipliedReportingOverflow(by: 100)
                if overflow || fraction > 99 { throw cursor.error(.numberOutOfRange) }
                entries.appendValue(HistValue(name: name, reading: .percent(hundredths: scaled + fraction)))
                continue
            }
            try cursor.expect(Literal.colonSpace, "': ' after the value name '\(name)'")
            switch style {
            case .graph:
                if cursor.hasPrefix(Literal.errorMark) {
                    cursor.index += Literal.errorMark.count
                    entries.appendValue(HistValue(name: name, reading: .graph("[ERROR]")))
                } else {
                    let end = min(cursor.index + 20, lineEnd)
                    entries.appendValue(HistValue(name: name, reading: .graph(cursor.string(cursor.index..<end))))
                    cursor.index = end
                }
            case .hex:
                cursor.skipSpaces()
                entries.appendValue(HistValue(name: name, reading: .hex(try cursor.readHex("a hex value"))))
            case .decimal:
                cursor.skipSpaces()
                let number = try cursor.readDecimal("a number for '\(name)'")
                if name == "hitcount" && hitcount == nil && entries.pendingValueCount == 0 {
                    hitcount = number
                } else {
                    entries.appendValue(HistValue(name: name, reading: .number(number)))
                }
            }
            if cursor.index < lineEnd && cursor.bytes[cursor.index] != 0x20 {
                throw cursor.error(.expected("a space between values"))
            }
        }
        cursor.index = lineEnd
        return hitcount
    }
}
