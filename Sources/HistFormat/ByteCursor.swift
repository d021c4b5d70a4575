/// A forward reader over UTF-8 bytes that knows its line and column, so every parse
/// error can say where it happened. Works on bytes: the kernel pads in bytes, and
/// `Character` iteration would make large tables quadratic in practice.
struct ByteCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var line = 1
    var lineStart = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var atEnd: Bool { index >= bytes.count }

    func peek(_ offset: Int = 0) -> UInt8? {
        let i = index + offset
        return i < bytes.count ? bytes[i] : nil
    }

    func error(_ kind: HistParseError.Kind) -> HistParseError {
        HistParseError(kind, line: line, column: index - lineStart + 1)
    }

    func error(_ kind: HistParseError.Kind, at position: Int) -> HistParseError {
        HistParseError(kind, line: line, column: position - lineStart + 1)
    }

    /// Where the current line ends (the index of its `\n`, or the end of input).
    func endOfLine(from start: Int? = nil) -> Int {
        var i = start ?? index
        let count = bytes.count
        guard let base = bytes.baseAddress else { return i }
        // Eight bytes at a time: a word has a `\n` when `word ^ 0x0a0a...` has a zero byte.
        while i + 8 <= count {
            let x = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) ^ 0x0A0A_0A0A_0A0A_0A0A
            if (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        while i < count && base[i] != 0x0A { i += 1 }
        return i
    }

    func hasPrefix(_ literal: [UInt8], at position: Int? = nil) -> Bool {
        let start = position ?? index
        guard start + literal.count <= bytes.count else { return false }
        return literal.withUnsafeBufferPointer { literal in
            for k in 0..<literal.count where bytes[start + k] != literal[k] { return false }
            return true
        }
    }

    /// Consumes `literal`, which must not contain a newline except as its last byte.
    mutating func expect(_ literal: [UInt8], _ what: @autoclosure () -> String) throws(HistParseError) {
        guard hasPrefix(literal) else {
            if index + literal.count > bytes.count && hasPrefixTruncated(literal) {
                throw error(.unexpectedEndOfInput(expected: what()))
            }
            throw error(.expected(what()))
        }
        index += literal.count
        if literal.last == 0x0A { newLine() }
    }

    private func hasPrefixTruncated(_ literal: [UInt8]) -> Bool {
        let available = bytes.count - index
        for k in 0..<min(available, literal.count) where bytes[index + k] != literal[k] { return false }
        return true
    }

    /// Consumes one `\n` and starts a new line.
    mutating func consumeNewline() {
        index += 1
        newLine()
    }

    private mutating func newLine() {
        line += 1
        lineStart = index
    }

    mutating func skipSpaces() {
        let count = bytes.count
        guard let base = bytes.baseAddress else { return }
        // Eight bytes at a time: the kernel pads its numbers to fixed widths with runs of
        // spaces. In a word XORed with spaces, the first byte that is not zero is the first
        // byte that is not a space.
        while index + 8 <= count {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) ^ 0x2020_2020_2020_2020
            if word != 0 {
                index += word.trailingZeroBitCount / 8
                return
            }
            index += 8
        }
        while index < count && base[index] == 0x20 { index += 1 }
    }

    mutating func readDecimal(_ what: @autoclosure () -> String) throws(HistParseError) -> UInt64 {
        let start = index
        var value: UInt64 = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(bytes[index] - 0x30))
            if o1 || o2 { throw error(.numberOutOfRange, at: start) }
            value = a
            index += 1
        }
        if index == start {
            throw atEnd ? error(.unexpectedEndOfInput(expected: what())) : error(.expected(what()))
        }
        return value
    }

    mutating func readHex(_ what: @autoclosure () -> String) throws(HistParseError) -> UInt64 {
        let start = index
        var value: UInt64 = 0
        while index < bytes.count, let d = hexDigit(bytes[index]) {
            if value > (UInt64.max >> 4) { throw error(.numberOutOfRange, at: start) }
            value = value << 4 | UInt64(d)
            index += 1
        }
        if index == start {
            throw atEnd ? error(.unexpectedEndOfInput(expected: what())) : error(.expected(what()))
        }
        return value
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// The text in `range` without the trailing padding the kernel adds.
    func trimmedString(_ range: Range<Int>) -> String {
        var lo = range.lowerBound
        var hi = range.upperBound
        while hi > lo && (bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09) { hi -= 1 }
        while lo < hi && (bytes[lo] == 0x20 || bytes[lo] == 0x09) { lo += 1 }
        return string(lo..<hi)
    }

    /// The first index in `from..<limit` where `literal` starts.
    func find(_ literal: [UInt8], from: Int, limit: Int) -> Int? {
        guard let first = literal.first else { return from }
        var i = from
        while i + literal.count <= limit {
            if bytes[i] == first && hasPrefix(literal, at: i) { return i }
            i += 1
        }
        return nil
    }
}

@inline(__always)
func hexDigit(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x61...0x66: return b - 0x61 + 10
    case 0x41...0x46: return b - 0x41 + 10
    default: return nil
    }
}

/// A byte of a C identifier: ASCII letter, digit or underscore.
@inline(__always)
public func isIdentifierByte(_ b: UInt8) -> Bool {
    (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
}
