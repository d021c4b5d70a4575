/// A failure to read hist-file or trigger text, with the place it happened.
///
/// Lines and columns are 1-based; columns count bytes, because the kernel
/// pads in bytes and a multi-byte comm would otherwise shift every column.
public struct HistParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The text stopped where more was required (a cut read, a truncated file).
        case unexpectedEndOfInput(expected: String)
        /// Something other than the grammar allows stood here.
        case expected(String)
        /// A number did not fit in 64 bits.
        case numberOutOfRange
        /// The `# trigger info:` line (or a trigger read-back line) did not parse.
        case invalidTriggerInfo(String)
        /// Past a bound the kernel never exceeds (stack depth, frame length): the text is
        /// not a kernel rendering, and taking it would make labels of any size.
        case limitExceeded(String)
    }

    public var kind: Kind
    public var line: Int
    public var column: Int

    public init(_ kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    public var description: String {
        let what: String
        switch kind {
        case .unexpectedEndOfInput(let expected): what = "unexpected end of input, expected \(expected)"
        case .expected(let expected): what = "expected \(expected)"
        case .numberOutOfRange: what = "number does not fit in 64 bits"
        case .invalidTriggerInfo(let reason): what = "invalid trigger info: \(reason)"
        case .limitExceeded(let limit): what = "more than the kernel prints: \(limit)"
        }
        return "line \(line), column \(column): \(what)"
    }
}
