import Testing
import YAML

@Suite struct YAMLDocumentTests {
    func parse(_ text: String) throws -> YAMLNode {
        try #require(try YAMLDocument.parse(text))
    }

    func error(_ text: String, maximumBytes: Int = YAMLDocument.maximumBytes) -> YAMLError? {
        do {
            _ = try YAMLDocument.parse(text, maximumBytes: maximumBytes)
            return nil
        } catch {
            return error
        }
    }

    func mark(_ line: Int, _ column: Int) -> YAMLMark { YAMLMark(line: line, column: column) }

    @Test func everyNodeHasItsPlace() throws {
        let root = try parse("tracefs:\n  path: /sys\nsets:\n  - name: a\n    list: [x, 'y']\n")
        #expect(root.mark == mark(1, 1))
        let top = try #require(root.mapping)
        #expect(top.map(\.key.scalar) == ["tracefs", "sets"])
        #expect(top.map(\.key.mark) == [mark(1, 1), mark(3, 1)])
        let tracefs = try #require(top[0].value.mapping)
        #expect(tracefs[0].value.scalar == "/sys" && tracefs[0].value.mark == mark(2, 9))
        let item = try #require(top[1].value.sequence?.first)
        #expect(top[1].value.mark == mark(4, 3))
        #expect(item.mark == mark(4, 5))
        let list = try #require(item.mapping?[1].value)
        #expect(list.mark == mark(5, 11))
        #expect(list.sequence?.map(\.mark) == [mark(5, 12), mark(5, 15)])
        #expect(list.sequence?.map(\.scalarStyle) == [.plain, .singleQuoted])
    }

    @Test func stylesAreKept() throws {
        let root = try parse("a: plain\nb: 'single'\nc: \"double\"\nd: |\n  literal\ne: >\n  folded\nf: {x: 1}\ng: [1]\nh:\n  - 1\n")
        let values = try #require(root.mapping).map(\.value)
        #expect(values.prefix(5).map(\.scalarStyle) == [.plain, .singleQuoted, .doubleQuoted, .literal, .folded])
        #expect(values[3].scalar == "literal\n")
        guard case .mapping(_, .flow) = values[5].content, case .sequence(_, .flow) = values[6].content,
              case .sequence(_, .block) = values[7].content, case .mapping(_, .block) = root.content
        else {
            Issue.record("collection styles: \(values.map(\.content))")
            return
        }
    }

    /// Columns count Unicode scalars, and lines break where YAML breaks them.
    @Test func columnsCountScalarsAndLinesBreakAsYAMLSays() throws {
        #expect(try parse("é: ü\n").mapping?[0].value.mark == mark(1, 4))
        for lineBreak in ["\n", "\r\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"] {
            let root = try parse("a: 1\(lineBreak)b: 2\(lineBreak)")
            #expect(root.mapping?[1].value.mark == mark(2, 4), "break \(Array(lineBreak.unicodeScalars))")
        }
    }

    @Test func noDocumentIsNil() throws {
        #expect(try YAMLDocument.parse("") == nil)
        #expect(try YAMLDocument.parse("# only a comment\n\n") == nil)
        let empty = try parse("---\n")
        #expect(empty.scalar == "" && empty.scalarStyle == .plain)
    }

    @Test func scalarsMayHoldNUL() throws {
        #expect(try parse("\"a\\0b\"").scalar == "a\u{0}b")
    }

    /// An alias is the anchored node, placed where the alias stands.
    @Test func aliasesShareTheAnchoredNode() throws {
        let root = try parse("base: &b {x: 1}\ncopy: *b\n")
        let copy = try #require(root.mapping?[1].value)
        #expect(copy.mark == mark(2, 7))
        #expect(copy.mapping?[0].key.scalar == "x" && copy.mapping?[0].value.mark == mark(1, 14))
    }

    @Test func anUndefinedAliasIsPlaced() {
        #expect(error("a: *nowhere\n") == YAMLError(.undefinedAlias("nowhere"), at: mark(1, 4)))
        // An anchor names its node once the node is complete: no node holds itself.
        #expect(error("a: &x [*x]\n") == YAMLError(.undefinedAlias("x"), at: mark(1, 8)))
    }

    @Test func aKeyGivenTwiceIsPlacedAtTheRepetition() {
        #expect(error("a: 1\nb: 2\na: 3\n") == YAMLError(.duplicateKey("a", first: mark(1, 1)), at: mark(3, 1)))
        #expect(error("m: {k: 1, k: 2}\n") == YAMLError(.duplicateKey("k", first: mark(1, 5)), at: mark(1, 11)))
        // Keys are compared as text, however they are quoted.
        #expect(error("name: a\n\"name\": b\n") == YAMLError(.duplicateKey("name", first: mark(1, 1)), at: mark(2, 1)))
        #expect(error("a: {x: 1}\nb: {x: 1}\n") == nil)
    }

    @Test func oneDocumentOnly() {
        #expect(error("a: 1\n---\nb: 2\n") == YAMLError(.moreThanOneDocument, at: mark(2, 1)))
    }

    /// libyaml's words, placed on a line the text has even when the text ends without a line
    /// break (libyaml marks the line after the last).
    @Test func syntaxErrorsArePlacedInsideTheText() {
        let text = "a: 1\nb:\n  - c\n  d"
        for lineBreak in ["\n", "\r", "\r\n"] {
            let found = error(text.replacingLineBreaks(with: lineBreak))
            #expect(found == YAMLError(.syntax("could not find expected ':'"), at: mark(4, 4)), "\(String(describing: found))")
        }
        #expect(error("a: [1, 2\n") == YAMLError(.syntax("did not find expected ',' or ']'"), at: mark(2, 1)))
        #expect(error("a: b: c\n")?.mark == mark(1, 5))
    }

    /// libyaml's reader reports a byte offset; it is turned into a line and column.
    @Test func aControlCharacterIsPlaced() {
        #expect(error("a: 1\nbé: x\u{7}\n") == YAMLError(.syntax("control characters are not allowed"), at: mark(2, 6)))
    }

    @Test func theInputHasABound() {
        #expect(error("a: 1\n", maximumBytes: 4) == YAMLError(.tooLarge(limit: 4), at: nil))
        #expect(error("a: 1\n", maximumBytes: 5) == nil)
    }

    @Test func nestingHasABound() throws {
        let limit = YAMLDocument.maximumDepth
        var node = try parse(String(repeating: "[", count: limit) + String(repeating: "]", count: limit))
        var depth = 1
        while let inner = node.sequence?.first {
            node = inner
            depth += 1
        }
        #expect(depth == limit)
        #expect(error(String(repeating: "[", count: limit + 1)) == YAMLError(.tooDeep(limit: limit), at: mark(1, limit + 1)))
        #expect(error(String(repeating: "[", count: 1 << 20)) == YAMLError(.tooDeep(limit: limit), at: mark(1, limit + 1)))
    }

    @Test func errorsSayWhatAndWhere() {
        #expect(YAMLError(.duplicateKey("a", first: mark(1, 1)), at: mark(3, 1)).description
            == "3:1: 'a' is given twice in the same mapping (first at 1:1)")
        #expect(YAMLError(.tooLarge(limit: 4), at: nil).description == "longer than 4 bytes")
    }
}

extension String {
    func replacingLineBreaks(with lineBreak: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: lineBreak)
    }
}
