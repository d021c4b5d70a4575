/// The grammar the kernel parses a `synthetic_events` definition with
/// (`trace_events_synth.c`: `__create_synth_event()`, `parse_synth_field()`; hist-format.md §8):
/// a name, then `;`-separated fields, each `[unsigned] type name`, where a `char` field may be
/// an array (`char comm[16]`, `char name[]`, or the read-back form `char[16] comm`) and a
/// stack is `long[] stack` (6.3+). Checked at load time so that a definition the kernel would
/// refuse is found, with its place in the file, before anything is installed.
///
/// Types are checked for shape only: the kernel's list grows (`gfp_t`, `bool`, stacks), and
/// refusing a type a newer kernel knows would be worse than letting the kernel say no.
enum SyntheticEventSyntax {
    /// Synthetic events are global to the kernel: the prefix keeps ours apart from anyone
    /// else's (the README promises it).
    static let namePrefix = "ftrace_exporter_"
    /// `SYNTH_FIELDS_MAX`.
    static let maximumFields = 64

    struct Field: Equatable {
        var type: String
        var name: String
    }

    struct Definition: Equatable {
        var name: String
        var fields: [Field]
    }

    /// The definition, or why the kernel would refuse it (or the exporter must not write it).
    static func parse(_ text: String) -> Result<Definition, SyntaxProblem> {
        if text.contains(where: { $0 == "\n" || $0 == "\r" }) {
            return .failure("one definition per item: the kernel reads each line of a write as its own command")
        }
        if text.contains("#") { return .failure("'#' starts a comment in synthetic_events, and the kernel would ignore the rest") }
        if text.hasPrefix("!") || text.hasPrefix("-") { return .failure("definitions add events; removal ('!name') is derived from them") }
        guard let first = text.first, first != " " && first != "\t" else { return .failure("\(form)") }
        let name = String(text.prefix { $0 != " " && $0 != "\t" })
        guard isIdentifier(name) else { return .failure("'\(name)' is not a valid event name (letters, digits and '_', not starting with a digit)") }

        var fields: [Field] = []
        for part in text.dropFirst(name.count).split(separator: ";", omittingEmptySubsequences: false) {
            let tokens = part.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            // The kernel skips empty fields (`u64 a;`).
            if tokens.isEmpty { continue }
            switch parseField(tokens) {
            case .success(let field):
                if fields.contains(where: { $0.name == field.name }) {
                    return .failure("the field '\(field.name)' is defined twice")
                }
                fields.append(field)
            case .failure(let problem):
                return .failure(problem)
            }
        }
        if fields.isEmpty { return .failure("\(form)") }
        if fields.count > maximumFields { return .failure("\(fields.count) fields; the kernel allows at most \(maximumFields)") }
        guard name.hasPrefix(namePrefix), name.count > namePrefix.count else {
            return .failure("synthetic events are global to the kernel, so ours are named '\(namePrefix)<name>': rename '\(name)' to '\(namePrefix)\(name)' (and every trigger that names it)")
        }
        return .success(Definition(name: name, fields: fields))
    }

    static let form = "a synthetic event is '<name> <type> <field>[; <type> <field>...]', e.g. 'ftrace_exporter_lat u64 lat; pid_t pid; char comm[16]'"

    /// `[unsigned] type name`, with an array size on the type or the name.
    static func parseField(_ tokens: [String]) -> Result<Field, SyntaxProblem> {
        let unsigned = tokens[0] == "unsigned"
        let wanted = unsigned ? 3 : 2
        guard tokens.count == wanted else {
            return .failure("'\(tokens.joined(separator: " "))' is not a field: each field is '[unsigned] <type> <name>', and fields are separated by ';'")
        }
        let typeToken = tokens[wanted - 2]
        let nameToken = tokens[wanted - 1]
        guard let type = splitArray(typeToken), isIdentifier(type.base) else {
            return .failure("'\(typeToken)' is not a type (e.g. u64, s32, int, pid_t, char[16])")
        }
        guard let name = splitArray(nameToken), isIdentifier(name.base) else {
            return .failure("'\(nameToken)' is not a field name (letters, digits and '_', not starting with a digit)")
        }
        if type.array != nil && name.array != nil {
            return .failure("'\(typeToken) \(nameToken)' gives the array size twice")
        }
        let fullType = (unsigned ? "unsigned " : "") + type.base
        if let array = type.array ?? name.array {
            // Strings are char arrays, stacks are long[] (6.3+); any other array is "Invalid type".
            let isString = fullType == "char"
            let isStack = (fullType == "long" || fullType == "unsigned long") && array.isEmpty
            guard isString || isStack else {
                return .failure("'\(fullType)' cannot be an array: only char (strings: char name[16], char name[]) and long[] (stacks) can; the kernel refuses it with 'Invalid type'")
            }
            return .success(Field(type: "\(fullType)[\(array)]", name: name.base))
        }
        return .success(Field(type: fullType, name: name.base))
    }

    /// `comm[16]` as (`comm`, `16`), `name[]` as (`name`, ``), `lat` as (`lat`, nil); nil when
    /// the brackets are not a trailing `[digits]` or `[]`.
    static func splitArray(_ token: String) -> (base: String, array: String?)? {
        guard let open = token.firstIndex(of: "[") else { return (token, nil) }
        guard token.hasSuffix("]") else { return nil }
        let size = token[token.index(after: open)..<token.index(before: token.endIndex)]
        guard size.allSatisfy({ $0.isASCII && $0.isNumber }), size.first != "0" || size.count == 1, size != "0" else { return nil }
        return (String(token[..<open]), String(size))
    }
}

struct SyntaxProblem: Error, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    var message: String
    init(stringLiteral value: String) { message = value }
    init(stringInterpolation: DefaultStringInterpolation) { message = String(stringInterpolation: stringInterpolation) }
}
