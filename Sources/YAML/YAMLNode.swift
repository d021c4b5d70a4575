/// Where a node or a problem starts in the text: line and column from 1, lines broken where
/// YAML breaks them (LF, CRLF, a lone CR, NEL, LS and PS) and columns counted in Unicode
/// scalars, as libyaml counts them.
public struct YAMLMark: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// How a scalar was written; only a plain scalar can mean null.
public enum YAMLScalarStyle: Equatable, Sendable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}

/// Whether a sequence or mapping was written in block (indented) or flow (`[...]`, `{...}`) style.
public enum YAMLCollectionStyle: Equatable, Sendable {
    case block, flow
}

/// One key and its value, in the order the mapping gives them.
public struct YAMLPair: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A node of a YAML document with the place it starts. Scalars are kept as written, untyped:
/// the reader of the document decides what a value means. An alias is the node its anchor
/// names, shared, not copied.
public struct YAMLNode: Sendable {
    public enum Content: Sendable {
        case scalar(String, YAMLScalarStyle)
        case sequence([YAMLNode], YAMLCollectionStyle)
        case mapping([YAMLPair], YAMLCollectionStyle)
    }

    public var content: Content
    public var mark: YAMLMark

    public init(_ content: Content, mark: YAMLMark) {
        self.content = content
        self.mark = mark
    }

    /// The scalar's text; nil for a sequence or mapping.
    public var scalar: String? {
        if case .scalar(let text, _) = content { return text }
        return nil
    }

    /// The scalar's style; nil for a sequence or mapping.
    public var scalarStyle: YAMLScalarStyle? {
        if case .scalar(_, let style) = content { return style }
        return nil
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items, _) = content { return items }
        return nil
    }

    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs, _) = content { return pairs }
        return nil
    }
}
