import CYAML

/// Reads one YAML document into a tree of `YAMLNode`s, each with its place in the text.
///
/// libyaml does the scanning and parsing; this turns its events into nodes, resolves aliases
/// to the nodes their anchors name, and refuses what libyaml lets through but a configuration
/// must not hold: a key given twice in one mapping, a second document, nesting without bound.
public enum YAMLDocument {
    /// The longest text read: a configuration is a few KiB, a web configuration with inline
    /// certificates some tens.
    public static let maximumBytes = 16 << 20
    /// Configurations nest a handful of levels; the bound keeps a hostile text of brackets from
    /// building a tree whose teardown recurses that deep.
    public static let maximumDepth = 64

    /// The document in `text`; nil when the text holds none (it is empty or only comments).
    public static func parse(_ text: String, maximumBytes: Int = maximumBytes) throws(YAMLError) -> YAMLNode? {
        try parse(Array(text.utf8), maximumBytes: maximumBytes)
    }

    /// The document in the UTF-8 `bytes`; nil when they hold none.
    public static func parse(_ bytes: [UInt8], maximumBytes: Int = maximumBytes) throws(YAMLError) -> YAMLNode? {
        guard bytes.count <= maximumBytes else { throw YAMLError(.tooLarge(limit: maximumBytes), at: nil) }
        if bytes.isEmpty { return nil }
        let result = bytes.withUnsafeBufferPointer { buffer -> Result<YAMLNode?, YAMLError> in
            var composer = Composer(buffer)
            defer { composer.close() }
            do throws(YAMLError) {
                return .success(try composer.document())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// A sequence or mapping whose end event has not come yet.
private struct OpenCollection {
    enum Kind { case sequence, mapping }
    let kind: Kind
    let style: YAMLCollectionStyle
    let mark: YAMLMark
    let anchor: String?
    var items: [YAMLNode] = []
    var pairs: [YAMLPair] = []
    var pendingKey: YAMLNode?
}

/// libyaml's parser over one input, and the nodes built from its events so far.
private struct Composer {
    let input: UnsafeBufferPointer<UInt8>
    let lines: TextLines
    let parser: UnsafeMutablePointer<yaml_parser_t>
    /// yaml_parser_initialize fails only when memory runs out.
    let initialized: Bool
    var open: [OpenCollection] = []
    var anchors: [String: YAMLNode] = [:]
    var root: YAMLNode?
    var documents = 0

    init(_ input: UnsafeBufferPointer<UInt8>) {
        self.input = input
        lines = TextLines(input)
        parser = .allocate(capacity: 1)
        initialized = yaml_parser_initialize(parser) == 1
        if initialized {
            yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(parser, input.baseAddress, input.count)
        }
    }

    func close() {
        if initialized { yaml_parser_delete(parser) }
        parser.deallocate()
    }

    mutating func document() throws(YAMLError) -> YAMLNode? {
        guard initialized else { throw YAMLError(.outOfMemory, at: nil) }
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) == 1 else { throw parserError() }
            defer { yaml_event_delete(&event) }
            let mark = place(event.start_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 { throw YAMLError(.moreThanOneDocument, at: mark) }
            case YAML_ALIAS_EVENT:
                let name = string(event.data.alias.anchor) ?? ""
                guard var node = anchors[name] else { throw YAMLError(.undefinedAlias(name), at: mark) }
                // Placed where it is used, so a problem with the value points there; what the
                // node holds keeps the places of the anchored text.
                node.mark = mark
                try add(node)
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                let node = YAMLNode(.scalar(text, style(scalar.style)), mark: mark)
                register(node, as: string(scalar.anchor))
                try add(node)
            case YAML_SEQUENCE_START_EVENT:
                let start = event.data.sequence_start
                try begin(OpenCollection(
                    kind: .sequence, style: start.style == YAML_FLOW_SEQUENCE_STYLE ? .flow : .block, mark: mark,
                    anchor: string(start.anchor)))
            case YAML_MAPPING_START_EVENT:
                let start = event.data.mapping_start
                try begin(OpenCollection(
                    kind: .mapping, style: start.style == YAML_FLOW_MAPPING_STYLE ? .flow : .block, mark: mark,
                    anchor: string(start.anchor)))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                let collection = open.removeLast()
                let node: YAMLNode
                switch collection.kind {
                case .sequence:
                    node = YAMLNode(.sequence(collection.items, collection.style), mark: collection.mark)
                case .mapping:
                    try checkUniqueKeys(collection.pairs)
                    node = YAMLNode(.mapping(collection.pairs, collection.style), mark: collection.mark)
                }
                register(node, as: collection.anchor)
                try add(node)
            default:
                // The stream's start and a document's end carry nothing.
                continue
            }
        }
    }

    mutating func begin(_ collection: OpenCollection) throws(YAMLError) {
        guard open.count < YAMLDocument.maximumDepth else {
            throw YAMLError(.tooDeep(limit: YAMLDocument.maximumDepth), at: collection.mark)
        }
        open.append(collection)
    }

    /// Puts a finished node where it belongs: the root, the next item, a key or its value.
    mutating func add(_ node: YAMLNode) throws(YAMLError) {
        guard !open.isEmpty else {
            root = node
            return
        }
        let last = open.count - 1
        switch open[last].kind {
        case .sequence:
            open[last].items.append(node)
        case .mapping:
            if let key = open[last].pendingKey {
                open[last].pairs.append(YAMLPair(key: key, value: node))
                open[last].pendingKey = nil
            } else {
                open[last].pendingKey = node
            }
        }
    }

    /// An anchor names the node from its end on, as in Yams and PyYAML: a node cannot hold an
    /// alias of itself, so the tree has no cycles.
    mutating func register(_ node: YAMLNode, as anchor: String?) {
        if let anchor { anchors[anchor] = node }
    }

    /// The first key that repeats an earlier one, compared as text. YAML forbids it, and
    /// libyaml lets it through; a reader would keep one of the values without a word.
    func checkUniqueKeys(_ pairs: [YAMLPair]) throws(YAMLError) {
        var seen: [String: YAMLMark] = [:]
        for pair in pairs {
            guard let key = pair.key.scalar else { continue }
            if let first = seen[key] { throw YAMLError(.duplicateKey(key, first: first), at: pair.key.mark) }
            seen[key] = pair.key.mark
        }
    }

    func parserError() -> YAMLError {
        let state = parser.pointee
        let problem = string(state.problem) ?? "unknown problem"
        switch state.error {
        case YAML_MEMORY_ERROR:
            return YAMLError(.outOfMemory, at: nil)
        case YAML_READER_ERROR:
            // The reader reports a byte offset, not a line and column.
            return YAMLError(.syntax(problem), at: lines.inside(TextLines.mark(ofByteAt: state.problem_offset, in: input)))
        default:
            return YAMLError(.syntax(problem), at: place(state.problem_mark))
        }
    }

    /// libyaml counts lines and columns from 0.
    func place(_ mark: yaml_mark_t) -> YAMLMark {
        lines.inside(YAMLMark(line: mark.line + 1, column: mark.column + 1))
    }

    func style(_ style: yaml_scalar_style_t) -> YAMLScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }

    /// A NUL-terminated string of libyaml's: an anchor's name, a problem's wording.
    func string(_ pointer: UnsafeRawPointer?) -> String? {
        guard let bytes = pointer?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var length = 0
        while bytes[length] != 0 { length += 1 }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
}
