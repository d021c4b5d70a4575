/// Why a text is not a YAML document this reader takes, and where (nil when the problem has no
/// place: the text as a whole is too long, or memory ran out).
public struct YAMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// libyaml's own words for a text that is not YAML (a missing ':', a bad indent, a
        /// control character).
        case syntax(String)
        /// A mapping holds `key` twice; the error is placed at the repetition.
        case duplicateKey(String, first: YAMLMark)
        /// An alias (`*name`) with no anchor before it.
        case undefinedAlias(String)
        /// A second document (`---`) after the first.
        case moreThanOneDocument
        case tooLarge(limit: Int)
        case tooDeep(limit: Int)
        case outOfMemory
    }

    public var kind: Kind
    public var mark: YAMLMark?

    public init(_ kind: Kind, at mark: YAMLMark?) {
        self.kind = kind
        self.mark = mark
    }

    /// The problem alone, without its place.
    public var reason: String {
        switch kind {
        case .syntax(let problem): return problem
        case .duplicateKey(let key, let first): return "'\(key)' is given twice in the same mapping (first at \(first))"
        case .undefinedAlias(let name): return "found undefined alias '\(name)'"
        case .moreThanOneDocument: return "expected a single document but found another document"
        case .tooLarge(let limit): return "longer than \(limit) bytes"
        case .tooDeep(let limit): return "nested more than \(limit) levels deep"
        case .outOfMemory: return "out of memory"
        }
    }

    public var description: String {
        guard let mark else { return reason }
        return "\(mark): \(reason)"
    }
}
