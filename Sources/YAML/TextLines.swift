/// Lines and columns of UTF-8 text counted as libyaml counts them, to place the problems
/// libyaml reports by byte offset and to keep every mark on a line the text has.
struct TextLines {
    /// How many lines the text has (an empty line after a final line break included).
    let count: Int
    /// The last line's length in Unicode scalars.
    let lastLineLength: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        let end = Self.walk(bytes, upTo: bytes.count)
        count = end.line
        lastLineLength = end.column - 1
    }

    /// The place of the byte at `offset`.
    static func mark(ofByteAt offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> YAMLMark {
        walk(bytes, upTo: min(max(offset, 0), bytes.count))
    }

    /// libyaml ends a last line that lacks its line break before it reports the end of the
    /// text, so a problem found there is marked on the line after the last; it belongs at the
    /// end of the last line.
    func inside(_ mark: YAMLMark) -> YAMLMark {
        mark.line > count ? YAMLMark(line: count, column: lastLineLength + 1) : mark
    }

    private static func walk(_ bytes: UnsafeBufferPointer<UInt8>, upTo offset: Int) -> YAMLMark {
        var mark = YAMLMark(line: 1, column: 1)
        var index = 0
        while index < offset {
            let breakLength = lineBreakLength(bytes, at: index)
            if breakLength > 0 {
                mark.line += 1
                mark.column = 1
                index += breakLength
                continue
            }
            // A scalar is counted at its first byte; continuation bytes are 10xxxxxx.
            if bytes[index] & 0xC0 != 0x80 { mark.column += 1 }
            index += 1
        }
        return mark
    }

    /// The bytes of the line break at `index` (LF, CR, CRLF, NEL, LS, PS), 0 for none.
    private static func lineBreakLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let left = bytes.count - index
        switch bytes[index] {
        case 0x0A: return 1
        case 0x0D: return left > 1 && bytes[index + 1] == 0x0A ? 2 : 1
        case 0xC2: return left > 1 && bytes[index + 1] == 0x85 ? 2 : 0
        case 0xE2: return left > 2 && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9) ? 3 : 0
        default: return 0
        }
    }
}
