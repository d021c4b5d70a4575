/// A field named in a hist trigger: a key, a value or a sort key, with its modifiers.
public struct FieldSpec: Hashable, Sendable, CustomStringConvertible {
    /// The field, pseudo-field (`common_cpu`, `stacktrace`) or whole expression text.
    public var name: String
    /// Modifiers in the order written: `log2`, `buckets=10`, `sym-offset`, `descending`...
    public var modifiers: [String]

    public init(name: String, modifiers: [String] = []) {
        self.name = name
        self.modifiers = modifiers
    }

    static let knownModifiers: Set<String> = [
        "hex", "sym", "sym-offset", "execname", "syscall", "log2", "usecs", "percent", "graph",
        "stacktrace", "descending", "ascending",
    ]

    /// Splits `call_site.sym-offset` or `lat.buckets=10`; anything with an unknown
    /// suffix (`common_timestamp.usecs-$ts0`, `sys.event.$v`) is an expression and kept whole.
    public init(parsing text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else {
            self.init(name: text)
            return
        }
        let suffixes = parts.dropFirst()
        let allKnown = suffixes.allSatisfy { FieldSpec.knownModifiers.contains($0) || FieldSpec.isBucketsModifier($0) }
        if allKnown && !parts[0].isEmpty {
            self.init(name: parts[0], modifiers: Array(suffixes))
        } else {
            self.init(name: text)
        }
    }

    static func isBucketsModifier(_ s: String) -> Bool {
        guard s.hasPrefix("buckets="), let n = UInt64(s.dropFirst(8)), n > 0 else { return false }
        return true
    }

    public var description: String { ([name] + modifiers).joined(separator: ".") }

    public func has(_ modifier: String) -> Bool { modifiers.contains(modifier) }

    /// The `N` of a `.buckets=N` modifier.
    public var bucketSize: UInt64? {
        for m in modifiers where FieldSpec.isBucketsModifier(m) { return UInt64(m.dropFirst(8)) }
        return nil
    }

    /// How the kernel prints this field as a key; the first matching modifier wins,
    /// in the order `hist_trigger_print_key()` tests them.
    public var keyKind: KeyKind {
        if has("hex") { return .hex }
        if has("sym") { return .symbol }
        if has("sym-offset") { return .symbolOffset }
        if has("execname") { return .execname }
        if has("syscall") { return .syscall }
        if has("stacktrace") { return .fieldStacktrace }
        if name == "stacktrace" || name == "common_stacktrace" { return .stacktrace }
        if has("log2") { return .log2 }
        if let n = bucketSize { return .buckets(n) }
        return .plain
    }

    /// The name the kernel compares triggers by: `cpu`/`CPU` are `common_cpu`, and the
    /// 6.16+ read-back bug (`common_cpucommon_cpu`, `common_cpucpu`) is undone.
    public var canonicalName: String {
        switch name {
        case "cpu", "CPU", "common_cpucommon_cpu", "common_cpucpu", "common_cpuCPU": return "common_cpu"
        case "stacktrace": return "common_stacktrace"
        default: return name
        }
    }
}

public enum KeyKind: Equatable, Sendable {
    case plain, hex, symbol, symbolOffset, execname, syscall, stacktrace, fieldStacktrace, log2
    case buckets(UInt64)
}

public struct VariableDefinition: Hashable, Sendable {
    public var name: String
    public var expression: String
}

/// A hist trigger as written to, or read back from, a `trigger` file or a hist header
/// (`event_hist_trigger_print()`); see hist-format.md §3 and §4.
public struct TriggerInfo: Hashable, Sendable {
    public enum State: String, Sendable { case active, paused }

    public var name: String?
    public var keys: [FieldSpec]
    public var values: [FieldSpec]
    public var variables: [VariableDefinition]
    public var sort: [FieldSpec]
    public var size: Int?
    public var clock: String?
    public var noHitcount: Bool
    /// `onmatch(...)...`, `onmax(...)...`, `onchange(...)...` exactly as written.
    public var actions: [String]
    /// `pause`, `cont`/`continue`, `clear` as written (only in commands, never read back).
    public var controls: [String]
    public var filter: String?
    /// The ` [active]`/` [paused]` suffix of a read-back; nil for a command.
    public var state: State?
    /// The text without its state suffix.
    public var text: String

    public init(
        name: String? = nil, keys: [FieldSpec], values: [FieldSpec] = [], variables: [VariableDefinition] = [],
        sort: [FieldSpec] = [], size: Int? = nil, clock: String? = nil, noHitcount: Bool = false,
        actions: [String] = [], controls: [String] = [], filter: String? = nil, state: State? = nil, text: String = ""
    ) {
        self.name = name
        self.keys = keys
        self.values = values
        self.variables = variables
        self.sort = sort
        self.size = size
        self.clock = clock
        self.noHitcount = noHitcount
        self.actions = actions
        self.controls = controls
        self.filter = filter
        self.state = state
        self.text = text
    }

    /// The value columns the table holds, with the implicit `hitcount` made explicit the
    /// way the kernel reads it back.
    public var effectiveValues: [FieldSpec] {
        if noHitcount || values.contains(where: { $0.name == "hitcount" }) { return values }
        return [FieldSpec(name: "hitcount")] + values
    }

    /// The values the kernel prints: variables and expressions never appear in the table.
    public var printedValues: [FieldSpec] {
        effectiveValues.filter { spec in
            if spec.name == "hitcount" { return true }
            // An ASCII name is checked byte by byte; the characters are the bytes there.
            if spec.name.utf8.allSatisfy({ $0 < 0x80 }) {
                return !spec.name.utf8.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "*")
                    || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "$") }
            }
            return !spec.name.contains(where: { "+-*/$".contains($0) })
        }
    }

    /// What the kernel compares when it looks for a duplicate or a trigger to remove
    /// (`hist_trigger_match()`): keys, values, variables, sort, filter, actions and name;
    /// never size, clock or pause state.
    public var identity: Identity {
        Identity(
            name: name,
            keys: keys.map { FieldSpec(name: $0.canonicalName, modifiers: $0.modifiers) },
            values: effectiveValues.map { FieldSpec(name: $0.canonicalName, modifiers: $0.modifiers) },
            variables: variables,
            sort: (sort.isEmpty ? [FieldSpec(name: "hitcount")] : sort).map { spec in
                // Read-backs print the sort field's display modifiers; only direction counts.
                FieldSpec(name: spec.canonicalName, modifiers: spec.has("descending") ? ["descending"] : [])
            },
            filter: filter,
            actions: actions
        )
    }

    public struct Identity: Hashable, Sendable {
        public var name: String?
        public var keys: [FieldSpec]
        public var values: [FieldSpec]
        public var variables: [VariableDefinition]
        public var sort: [FieldSpec]
        public var filter: String?
        public var actions: [String]
    }
}

extension TriggerInfo {
    /// Parses `hist:keys=...[:...][ if filter][ [active]|[paused]]`.
    ///
    /// `line` and `column` place errors inside a larger file.
    public static func parse(_ text: String, line: Int = 1, column: Int = 1) throws(HistParseError) -> TriggerInfo {
        func fail(_ reason: String) -> HistParseError {
            HistParseError(.invalidTriggerInfo(reason), line: line, column: column)
        }
        var body = Substring(text)
        while let last = body.last, last == "\n" || last == " " || last == "\t" { body.removeLast() }
        while let first = body.first, first == " " || first == "\t" { body.removeFirst() }

        var state: State?
        if body.hasSuffix(" [active]") {
            state = .active
            body.removeLast(9)
        } else if body.hasSuffix(" [paused]") {
            state = .paused
            body.removeLast(9)
        }
        // What separates the state suffix is no part of the trigger: left in, it would end the
        // last field or filter and make the text differ from the one written.
        while let last = body.last, last == "\n" || last == " " || last == "\t" { body.removeLast() }
        let fullText = String(body)

        guard body.hasPrefix("hist:") else { throw fail("does not start with 'hist:'") }
        if body.hasSuffix(" if") { throw fail("'if' without a filter") }
        body = body.dropFirst(5)

        var filter: String?
        if let ifRange = topLevelRange(of: " if ", in: body) {
            let f = body[ifRange.upperBound...].trimmingBlanks()
            if f.isEmpty { throw fail("'if' without a filter") }
            filter = String(f)
            body = body[..<ifRange.lowerBound]
        }

        var info = TriggerInfo(keys: [], filter: filter, state: state, text: fullText)
        var sawKeys = false
        for param in splitTopLevel(body, on: ":") where !param.isEmpty {
            if param.hasPrefix("onmatch(") || param.hasPrefix("onmax(") || param.hasPrefix("onchange(") {
                info.actions.append(String(param))
            } else if let eq = param.firstIndex(of: "=") {
                let word = param[..<eq]
                let rhs = param[param.index(after: eq)...]
                switch word {
                case "key", "keys":
                    if rhs.isEmpty { throw fail("empty keys") }
                    info.keys = splitTopLevel(rhs, on: ",").map { FieldSpec(parsing: String($0)) }
                    sawKeys = true
                case "val", "vals", "values":
                    if rhs.isEmpty { throw fail("empty vals") }
                    info.values = splitTopLevel(rhs, on: ",").map { FieldSpec(parsing: String($0)) }
                case "sort":
                    if rhs.isEmpty { throw fail("empty sort") }
                    info.sort = splitTopLevel(rhs, on: ",").map { FieldSpec(parsing: String($0)) }
                case "size":
                    guard let n = Int(rhs), n > 0 else { throw fail("size '\(rhs)' is not a positive number") }
                    info.size = n
                case "name":
                    if rhs.isEmpty { throw fail("empty name") }
                    info.name = String(rhs)
                case "clock":
                    if rhs.isEmpty { throw fail("empty clock") }
                    info.clock = String(rhs)
                default:
                    for assignment in splitTopLevel(param, on: ",") {
                        guard let aeq = assignment.firstIndex(of: "=") else {
                            throw fail("'\(assignment)' is not a variable assignment")
                        }
                        let vname = assignment[..<aeq]
                        let expr = assignment[assignment.index(after: aeq)...]
                        if vname.isEmpty || expr.isEmpty { throw fail("empty assignment '\(assignment)'") }
                        info.variables.append(VariableDefinition(name: String(vname), expression: String(expr)))
                    }
                }
            } else {
                switch param {
                case "pause", "cont", "continue", "clear": info.controls.append(String(param))
                case "nohitcount", "NOHC": info.noHitcount = true
                default: throw fail("unknown parameter '\(param)'")
                }
            }
        }
        if !sawKeys { throw fail("no keys") }
        return info
    }

    /// The `save(a,b,c)` field names of this trigger's actions, which name the columns of
    /// the per-entry `max:`/`changed:` lines.
    public var savedFieldNames: [String] {
        var names: [String] = []
        for action in actions {
            guard let r = topLevelRange(of: ".save(", in: Substring(action)) else { continue }
            let inner = action[r.upperBound...].prefix { $0 != ")" }
            names += inner.split(separator: ",").map { String($0.trimmingBlanks()) }
        }
        return names
    }
}

/// The position of `needle` outside parentheses and double quotes.
func topLevelRange(of needle: String, in text: Substring) -> Range<Substring.Index>? {
    let n = Array(needle.utf8)
    let bytes = Array(text.utf8)
    var depth = 0
    var inQuotes = false
    var i = 0
    while i < bytes.count {
        let b = bytes[i]
        if b == UInt8(ascii: "\"") { inQuotes.toggle() }
        if !inQuotes {
            if b == UInt8(ascii: "(") { depth += 1 }
            if b == UInt8(ascii: ")") { depth = max(0, depth - 1) }
            if depth == 0 && i + n.count <= bytes.count && bytes[i..<(i + n.count)].elementsEqual(n) {
                let start = text.utf8.index(text.startIndex, offsetBy: i)
                let end = text.utf8.index(start, offsetBy: n.count)
                return start..<end
            }
        }
        i += 1
    }
    return nil
}

/// Splits on `separator` outside parentheses, so `onmatch(a.b).f($x,y)` stays whole.
func splitTopLevel(_ text: Substring, on separator: Character) -> [Substring] {
    // ASCII text (what the kernel prints) is split on bytes: there every byte is a
    // character, so the parts are the ones the character walk below finds.
    if let separatorByte = separator.asciiValue, text.utf8.allSatisfy({ $0 < 0x80 }) {
        var parts: [Substring] = []
        let utf8 = text.utf8
        var depth = 0
        var start = text.startIndex
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let c = utf8[i]
            if c == UInt8(ascii: "(") {
                depth += 1
            } else if c == UInt8(ascii: ")") {
                depth = max(0, depth - 1)
            } else if c == separatorByte && depth == 0 {
                parts.append(text[start..<i])
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        parts.append(text[start..<text.endIndex])
        return parts
    }
    var parts: [Substring] = []
    var depth = 0
    var start = text.startIndex
    var i = text.startIndex
    while i < text.endIndex {
        let c = text[i]
        if c == "(" { depth += 1 } else if c == ")" { depth = max(0, depth - 1) } else if c == separator && depth == 0 {
            parts.append(text[start..<i])
            start = text.index(after: i)
        }
        i = text.index(after: i)
    }
    parts.append(text[start..<text.endIndex])
    return parts
}

extension Substring {
    /// Without the spaces and tabs at either end, nor a line's trailing newline: the blanks
    /// the kernel's control-file parsers skip around a token.
    public func trimmingBlanks() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s.removeLast() }
        return s
    }
}

extension String {
    public func trimmingBlanks() -> Substring { Substring(self).trimmingBlanks() }
}
