/// The shape of an event filter (`hist:... if <filter>`): predicates `field op value` joined by
/// `&&`/`||`, with `!` and parentheses. The kernel refuses a malformed trigger filter with
/// EINVAL and logs nothing, so the shape is checked before it is written.
public enum FilterSyntax {
    /// Fields every event can be filtered on besides its own.
    public static let genericFields: Set<String> = ["CPU", "cpu", "COMM", "comm"]

    /// Whether the filter is well formed; with `fields`, also whether every predicate names
    /// one of them (or a generic field).
    public static func isValid(_ filter: String, fields: Set<String>? = nil) -> Bool {
        guard let tokens = tokenize(filter), !tokens.isEmpty else { return false }
        var position = 0
        let names = fields.map { $0.union(genericFields) }
        guard expression(tokens, &position, names) else { return false }
        return position == tokens.count
    }

    enum Token: Equatable {
        case word(String)
        case string(String)
        case op(String)
        case logic(String)
        case open, close, not
    }

    static func tokenize(_ text: String) -> [Token]? {
        let chars = Array(text)
        var tokens: [Token] = []
        var i = 0
        let special: Set<Character> = ["(", ")", "=", "!", "<", ">", "&", "|", "~", "\"", "'", " ", "\t"]
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" {
                i += 1
            } else if c == "(" {
                tokens.append(.open)
                i += 1
            } else if c == ")" {
                tokens.append(.close)
                i += 1
            } else if c == "\"" || c == "'" {
                guard let end = chars[(i + 1)...].firstIndex(of: c) else { return nil }
                tokens.append(.string(String(chars[(i + 1)..<end])))
                i = end + 1
            } else if c == "&" && i + 1 < chars.count && chars[i + 1] == "&" {
                tokens.append(.logic("&&"))
                i += 2
            } else if c == "|" && i + 1 < chars.count && chars[i + 1] == "|" {
                tokens.append(.logic("||"))
                i += 2
            } else if "=!<>&~".contains(c) {
                if i + 1 < chars.count && chars[i + 1] == "=" && c != "&" && c != "~" {
                    tokens.append(.op(String([c, "="])))
                    i += 2
                } else if c == "!" {
                    tokens.append(.not)
                    i += 1
                } else if c == "=" {
                    return nil
                } else {
                    tokens.append(.op(String(c)))
                    i += 1
                }
            } else if c == "|" {
                return nil
            } else {
                var j = i
                while j < chars.count && !special.contains(chars[j]) { j += 1 }
                tokens.append(.word(String(chars[i..<j])))
                i = j
            }
        }
        return tokens
    }

    static func expression(_ t: [Token], _ p: inout Int, _ names: Set<String>?) -> Bool {
        guard term(t, &p, names) else { return false }
        while p < t.count, case .logic = t[p] {
            p += 1
            guard term(t, &p, names) else { return false }
        }
        return true
    }

    static func term(_ t: [Token], _ p: inout Int, _ names: Set<String>?) -> Bool {
        guard p < t.count else { return false }
        switch t[p] {
        case .not:
            p += 1
            return term(t, &p, names)
        case .open:
            p += 1
            guard expression(t, &p, names), p < t.count, t[p] == .close else { return false }
            p += 1
            return true
        case .word(let field):
            guard names?.contains(field) ?? true, p + 2 < t.count, case .op = t[p + 1] else { return false }
            switch t[p + 2] {
            case .word, .string:
                p += 3
                return true
            default:
                return false
            }
        default:
            return false
        }
    }
}
