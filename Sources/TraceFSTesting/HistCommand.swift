#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HistFormat
import TraceFS

/// `enum hist_field_flags`: what the kernel compares when it matches two triggers.
struct FieldFlags: OptionSet, Hashable, Sendable {
    let rawValue: UInt32
    static let key = FieldFlags(rawValue: 1 << 1)
    static let string = FieldFlags(rawValue: 1 << 2)
    static let hex = FieldFlags(rawValue: 1 << 3)
    static let sym = FieldFlags(rawValue: 1 << 4)
    static let symOffset = FieldFlags(rawValue: 1 << 5)
    static let execname = FieldFlags(rawValue: 1 << 6)
    static let syscall = FieldFlags(rawValue: 1 << 7)
    static let stacktrace = FieldFlags(rawValue: 1 << 8)
    static let log2 = FieldFlags(rawValue: 1 << 9)
    static let timestamp = FieldFlags(rawValue: 1 << 10)
    static let usecs = FieldFlags(rawValue: 1 << 11)
    static let variable = FieldFlags(rawValue: 1 << 12)
    static let expression = FieldFlags(rawValue: 1 << 13)
    static let variableReference = FieldFlags(rawValue: 1 << 14)
    static let cpu = FieldFlags(rawValue: 1 << 15)
    static let alias = FieldFlags(rawValue: 1 << 16)
    static let buckets = FieldFlags(rawValue: 1 << 17)
    static let constant = FieldFlags(rawValue: 1 << 18)
    static let percent = FieldFlags(rawValue: 1 << 19)
    static let graph = FieldFlags(rawValue: 1 << 20)

    static let timestampUnits: FieldFlags = [.timestamp, .usecs]

    /// `get_hist_field_flags()`: only the first modifier in this order is ever printed.
    var printedModifier: String? {
        if contains(.hex) { return "hex" }
        if contains(.sym) { return "sym" }
        if contains(.symOffset) { return "sym-offset" }
        if contains(.execname) { return "execname" }
        if contains(.syscall) { return "syscall" }
        if contains(.log2) { return "log2" }
        if contains(.buckets) { return "buckets" }
        if contains(.usecs) { return "usecs" }
        if contains(.percent) { return "percent" }
        if contains(.graph) { return "graph" }
        return nil
    }
}

/// One `struct hist_field`: a key, a value, a variable or an operand.
struct HistField: Hashable, Sendable {
    var flags: FieldFlags
    /// `hist_field_name()`: what `sort=` is compared against.
    var name: String
    /// The event field behind it (`compatible_field()`), or the generic `cpu`/`CPU` field.
    var fieldIdentity: String = ""
    var buckets: UInt64 = 0
    var constant: UInt64 = 0
    var keySize: Int = 8
    /// Variables of other hist triggers this field reads, by trigger id.
    var references: Set<Int> = []

    var isString: Bool { flags.contains(.string) }

    /// `hist_field_print()`, without the `var=` prefix.
    var printed: String {
        var text: String
        if flags.contains(.cpu) {
            text = "common_cpu"
        } else if flags.contains(.constant) {
            text = String(constant)
        } else if !name.isEmpty {
            text = (flags.contains(.variableReference) || flags.contains(.alias) ? "$" : "") + name
        } else if flags.contains(.timestamp) {
            text = "common_timestamp"
        } else if flags.contains(.stacktrace) {
            text = "stacktrace"
        } else {
            text = ""
        }
        if !flags.contains(.variableReference) && !flags.contains(.expression), let modifier = flags.printedModifier {
            text += "." + modifier
        }
        if buckets > 0 { text += "=\(buckets)" }
        return text
    }

    /// `expr_field_str()`: how an operand appears inside an expression's name.
    var operandText: String {
        var text = flags.contains(.variableReference) ? "$" : ""
        if flags.contains(.constant) { text += String(constant) }
        text += name
        if !flags.contains(.variableReference), let modifier = flags.printedModifier { text += "." + modifier }
        return text
    }

    /// What `hist_trigger_match()` compares per field: flags and the event field, but not
    /// the bucket size; plus (a deliberate tightening) the expression or reference text, so
    /// that two different expressions never collapse into one trigger in tests.
    var identity: String {
        let extra = flags.contains(.expression) || flags.contains(.variableReference) || flags.contains(.alias)
            || flags.contains(.constant) ? name + "#" + String(constant) : ""
        return "\(flags.rawValue)|\(fieldIdentity)|\(extra)"
    }
}

struct HistVariable: Hashable, Sendable {
    var name: String
    var field: HistField
}

struct SortKey: Hashable, Sendable {
    /// 0 is hitcount, then the values, then the keys (`create_sort_keys()`).
    var index: Int
    var descending: Bool
}

/// An `onmatch()`, `onmax()` or `onchange()` handler with its action.
struct HistAction: Hashable, Sendable {
    enum Handler: Hashable, Sendable {
        case onmatch(system: String, event: String)
        case onmax(String)
        case onchange(String)
    }

    enum Kind: Hashable, Sendable { case save, snapshot, trace }

    var handler: Handler
    var kind: Kind
    var actionName: String
    var usesTraceKeyword: Bool
    var syntheticName: String?
    var params: [String]

    /// The synthetic event the action generates.
    var generatedEvent: String? {
        guard kind == .trace else { return nil }
        return usesTraceKeyword ? syntheticName : actionName
    }

    /// `print_onmatch_spec()` / `print_track_data_spec()`.
    var printed: String {
        var spec = ""
        switch kind {
        case .save: spec = params.joined(separator: ",")
        case .snapshot: spec = ""
        case .trace:
            if usesTraceKeyword { spec = syntheticName ?? "" }
            for (i, p) in params.enumerated() { spec += (i > 0 || usesTraceKeyword ? "," : "") + p }
        }
        switch handler {
        case .onmatch(let system, let event): return ":onmatch(\(system).\(event)).\(actionName)(\(spec))"
        case .onmax(let v): return ":onmax(\(v)).\(actionName)(\(spec))"
        case .onchange(let v): return ":onchange(\(v)).\(actionName)(\(spec))"
        }
    }

    /// `actions_match()`.
    var identity: String {
        let handlerText: String
        switch handler {
        case .onmatch(let s, let e): handlerText = "match:\(s).\(e)"
        case .onmax(let v): handlerText = "max:\(v)"
        case .onchange(let v): handlerText = "change:\(v)"
        }
        return "\(handlerText)|\(kind)|\(params.joined(separator: "\u{0}"))|\(generatedEvent ?? actionName)"
    }
}

/// A parsed and checked hist command (`struct hist_trigger_data` plus its attrs).
struct CompiledHist: Hashable, Sendable {
    var nameToken: String?
    var keys: [HistField] = []
    var values: [HistField] = []
    var variables: [HistVariable] = []
    var sortKeys: [SortKey] = [SortKey(index: 0, descending: false)]
    var sizeBits = 11
    var clock = "global"
    var usesTimestamp = false
    var actions: [HistAction] = []
    var pause = false
    var cont = false
    var clear = false

    /// Variables of other triggers read by keys, values and variables.
    var fieldReferences: Set<Int> {
        (keys + values + variables.map(\.field)).reduce(into: Set<Int>()) { $0.formUnion($1.references) }
    }

    func variable(named name: String) -> HistField? { variables.first { $0.name == name }?.field }

    /// The fields in `hist_data->fields[]` order, as `hist_trigger_match()` walks them.
    var layout: [String] {
        ["hitcount"] + values.map(\.identity) + variables.map { "\($0.name)=\($0.field.identity)" }
            + keys.map { "key:" + $0.identity }
    }

    var actionIdentity: [String] { actions.map(\.identity) }

    /// The sort candidates `create_sort_keys()` numbers: hitcount, values, then keys.
    var sortFields: [HistField] { [HistField(flags: [], name: "hitcount")] + values + keys }

    /// `event_hist_trigger_print()` without the filter and state.
    var readBackBody: String {
        var text = "hist:"
        if let nameToken { text += nameToken + ":" }
        text += "keys=" + keys.map { $0.flags.contains(.stacktrace) ? "stacktrace" : $0.printed }.joined(separator: ",")
        text += ":vals=hitcount" + values.map { "," + $0.printed }.joined()
        if !variables.isEmpty {
            text += ":" + variables.map { "\($0.name)=\($0.field.printed)" }.joined(separator: ",")
        }
        let fields = sortFields
        text += ":sort=" + sortKeys.map { key in
            (key.index == 0 ? "hitcount" : fields[key.index].printed) + (key.descending ? ".descending" : "")
        }.joined(separator: ",")
        text += ":size=\(1 << sizeBits)"
        if usesTimestamp { text += ":clock=\(clock)" }
        text += actions.map(\.printed).joined()
        return text
    }
}

/// Turns the text after `hist:` into a `CompiledHist` the way `event_hist_trigger_parse()`
/// and `create_hist_data()` do, logging what `hist_err()` would log.
struct HistCompiler {
    enum Role { case key, value, variable, operand }

    let state: KernelState
    let instance: TraceInstance
    let event: EventName
    let fields: [EventFormat.Field]
    /// `last_cmd`: `hist:` plus the parameters as written, which carets point into.
    let command: String
    let remove: Bool
    var logs: [(message: String, position: Int)] = []

    private var assignments: [(name: String, expression: String)] = []
    private var parsedActions: [HistAction] = []
    private var usesTimestamp = false

    init(state: KernelState, instance: TraceInstance, event: EventName, fields: [EventFormat.Field], command: String, remove: Bool) {
        self.state = state
        self.instance = instance
        self.event = event
        self.fields = fields
        self.command = command
        self.remove = remove
    }

    mutating func log(_ message: String, at token: String?) {
        logs.append((message, token.map { ErrorLogEntry.position(of: $0, in: command) } ?? 0))
    }

    private func fail(_ errno: Int32 = EINVAL) -> KernelFailure { KernelFailure(errno) }

    // MARK: parameters and filter

    /// The `if` search of `event_hist_trigger_parse()`: `if` needs whitespace on both sides,
    /// and one right at the end (or at the very start) is EINVAL.
    static func splitFilter(_ text: String) throws(KernelFailure) -> (parameters: String, filter: String?) {
        let bytes = Array(text.utf8)
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        var from = 0
        while true {
            var found: Int?
            var i = from
            while i + 1 < bytes.count {
                if bytes[i] == UInt8(ascii: "i") && bytes[i + 1] == UInt8(ascii: "f") {
                    found = i
                    break
                }
                i += 1
            }
            guard let p = found else { return (text, nil) }
            if p == 0 { throw KernelFailure(EINVAL) }
            if !isBlank(bytes[p - 1]) {
                from = p + 1
                continue
            }
            if p >= bytes.count - 3 { throw KernelFailure(EINVAL) }
            if !isBlank(bytes[p + 2]) {
                from = p + 1
                continue
            }
            let parameters = String(decoding: bytes[0..<(p - 1)], as: UTF8.self).kernelStripped
            // set_trigger_filter() drops the word "if" and exactly one blank after it.
            let filter = String(decoding: bytes[(p + 3)...], as: UTF8.self)
            return (parameters, filter)
        }
    }

    struct Attributes {
        var keys: String?
        var values: String?
        var sort: String?
        var nameToken: String?
        var clock = "global"
        var sizeBits = 11
        var pause = false
        var cont = false
        var clear = false
        var assignments: [String] = []
        var actions: [String] = []
    }

    /// `parse_hist_trigger_attrs()`.
    mutating func parseAttributes(_ parameters: String) throws(KernelFailure) -> Attributes {
        var attrs = Attributes()
        for token in parameters.split(separator: ":", omittingEmptySubsequences: false).map(String.init) {
            if let eq = token.firstIndex(of: "=") {
                if token[token.index(after: eq)...].isEmpty {
                    log("Empty assignment", at: token)
                    throw fail()
                }
                if let rest = token.dropPrefix("key=") ?? token.dropPrefix("keys=") {
                    attrs.keys = rest
                } else if let rest = token.dropPrefix("val=") ?? token.dropPrefix("vals=") ?? token.dropPrefix("values=") {
                    attrs.values = rest
                } else if let rest = token.dropPrefix("sort=") {
                    attrs.sort = rest
                } else if token.hasPrefix("name=") {
                    attrs.nameToken = token
                } else if let rest = token.dropPrefix("clock=") {
                    attrs.clock = rest.kernelStripped
                } else if let rest = token.dropPrefix("size=") {
                    guard let size = parseKernelUnsigned(rest), size > 0 else { throw fail() }
                    var bits = 0
                    while (UInt64(1) << UInt64(bits)) < size && bits < 63 { bits += 1 }
                    guard (7...17).contains(bits) else { throw fail() }
                    attrs.sizeBits = bits
                } else {
                    if attrs.assignments.count == 16 {
                        log("Too many variables defined", at: token)
                        throw fail()
                    }
                    attrs.assignments.append(token)
                }
            } else if token == "pause" {
                attrs.pause = true
            } else if token == "cont" || token == "continue" {
                attrs.cont = true
            } else if token == "clear" {
                attrs.clear = true
            } else if attrs.actions.count < 8,
                      token.hasPrefix("onmatch(") || token.hasPrefix("onmax(") || token.hasPrefix("onchange(") {
                attrs.actions.append(token)
            } else {
                throw fail()
            }
        }
        guard attrs.keys != nil else { throw fail() }
        return attrs
    }

    // MARK: create_hist_data()

    mutating func compile(_ attrs: Attributes) throws(KernelFailure) -> CompiledHist {
        var hist = CompiledHist(nameToken: attrs.nameToken)
        hist.sizeBits = attrs.sizeBits
        hist.clock = attrs.clock
        hist.pause = attrs.pause
        hist.cont = attrs.cont
        hist.clear = attrs.clear

        for text in attrs.actions { parsedActions.append(try parseAction(text)) }
        hist.actions = parsedActions

        try parseVariableDefinitions(attrs.assignments)

        // create_val_fields(): hitcount is implicit, at most two more, a bare "hitcount" is skipped.
        if let valuesText = attrs.values {
            var rest: [String] = valuesText.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var i = 0
            while i < 3 && hist.values.count < 2 && !rest.isEmpty {
                let text = rest.removeFirst()
                i += 1
                if text == "hitcount" { continue }
                hist.values.append(try createValue(text, role: .value, variableName: nil))
            }
            if !rest.isEmpty && rest.joined(separator: ",") != "hitcount" { throw fail() }
        }

        // create_var_fields()
        for (name, expression) in assignments {
            if !remove && (hist.variable(named: name) != nil || registeredVariable(named: name, on: event) != nil) {
                log("Variable already defined", at: name)
                throw fail()
            }
            var field = try createValue(expression, role: .variable, variableName: name)
            if field.flags.contains(.execname) { field.flags = [.string, .variable, .execname] }
            hist.variables.append(HistVariable(name: name, field: field))
        }

        // create_key_fields(): at most three keys, and their sizes must fit the compound key.
        var keyBytes = 0
        var remainingKeys: [String] = attrs.keys!.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        while hist.keys.count < 3 && !remainingKeys.isEmpty {
            let key = try createKey(remainingKeys.removeFirst())
            keyBytes += (key.keySize + 7) / 8 * 8
            if keyBytes > 256 + 16 * 8 { throw fail() }
            hist.keys.append(key)
        }
        if !remainingKeys.isEmpty { throw fail() }

        hist.sortKeys = try createSortKeys(attrs.sort, hist: hist)
        hist.usesTimestamp = usesTimestamp
        return hist
    }

    /// `parse_var_defs()`.
    private mutating func parseVariableDefinitions(_ texts: [String]) throws(KernelFailure) {
        for text in texts {
            for part in text.split(separator: ",", omittingEmptySubsequences: false).prefix(16).map(String.init) {
                guard let eq = part.firstIndex(of: "=") else {
                    log("Malformed assignment", at: part)
                    throw fail()
                }
                if assignments.count == 16 {
                    log("Too many variables defined", at: String(part[..<eq]))
                    throw fail()
                }
                assignments.append((String(part[..<eq]), String(part[part.index(after: eq)...])))
            }
        }
    }

    /// `__create_val_field()`: values and variables reject the display-only modifiers.
    private mutating func createValue(_ text: String, role: Role, variableName: String?) throws(KernelFailure) -> HistField {
        var depth = 0
        var field = try parseExpression(text, role: role, variableName: variableName, depth: &depth)
        let rejected: FieldFlags = role == .variable
            ? [.graph, .percent, .buckets, .log2]
            : [.buckets, .log2, .sym, .symOffset, .syscall, .stacktrace]
        if !field.flags.intersection(rejected).isEmpty {
            log("Invalid field modifier", at: text)
            throw fail()
        }
        if role == .variable { field.flags.insert(.variable) }
        return field
    }

    /// `create_key_field()`.
    private mutating func createKey(_ text: String) throws(KernelFailure) -> HistField {
        if text == "stacktrace" {
            return HistField(flags: [.key, .stacktrace], name: "", keySize: 16 * 8)
        }
        var depth = 0
        var field = try parseExpression(text, role: .key, variableName: nil, depth: &depth)
        if !field.references.isEmpty || field.flags.contains(.variableReference) || field.flags.contains(.alias) {
            log("Using variable references in keys not supported", at: text)
            throw fail()
        }
        field.flags.insert(.key)
        return field
    }

    /// `create_sort_keys()`: hitcount, or a value or key by `hist_field_name()`; the only
    /// modifiers accepted are `.descending` and `.ascending`.
    private mutating func createSortKeys(_ text: String?, hist: CompiledHist) throws(KernelFailure) -> [SortKey] {
        guard let text else { return [SortKey(index: 0, descending: false)] }
        var remaining: [String] = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var keys: [SortKey] = []
        let candidates = hist.sortFields
        for i in 0..<2 {
            guard !remaining.isEmpty else { break }
            let item = remaining.removeFirst()
            if item.isEmpty {
                log("Empty sort field", at: "sort=")
                throw fail()
            }
            if i == 1 && !remaining.isEmpty {
                log("Too many sort fields (Max = 2)", at: "sort=")
                throw fail()
            }
            let name: String
            let modifier: String?
            if let dot = item.firstIndex(of: ".") {
                name = String(item[..<dot])
                modifier = String(item[item.index(after: dot)...])
            } else {
                name = item
                modifier = nil
            }
            if name.isEmpty {
                log("Empty sort field", at: "sort=")
                throw fail()
            }
            let index: Int
            if name == "hitcount" {
                index = 0
            } else if let found = candidates.indices.dropFirst().first(where: { candidates[$0].name == name }) {
                index = found
            } else {
                log("Sort field must be a key or a val", at: name)
                throw fail()
            }
            var descending = false
            if let modifier {
                if modifier == "descending" {
                    descending = true
                } else if modifier != "ascending" {
                    log("Invalid sort modifier", at: modifier)
                    throw fail()
                }
            }
            keys.append(SortKey(index: index, descending: descending))
        }
        return keys
    }

    // MARK: expressions

    /// `contains_operator()`: the rightmost `+`/`-` is the root, else the rightmost `*`/`/`.
    private static func rootOperator(_ text: String) -> (op: Character, index: String.Index)? {
        let minus = text.lastIndex(of: "-")
        if let minus, minus == text.startIndex { return ("u", minus) }
        let plus = text.lastIndex(of: "+")
        if minus != nil || plus != nil {
            if let plus, minus == nil || plus > minus! { return ("+", plus) }
            return ("-", minus!)
        }
        let div = text.lastIndex(of: "/")
        let mult = text.lastIndex(of: "*")
        if let mult, div == nil || mult > div! { return ("*", mult) }
        if let div { return ("/", div) }
        return nil
    }

    /// `parse_expr()`.
    private mutating func parseExpression(_ text: String, role: Role, variableName: String?, depth: inout Int) throws(KernelFailure) -> HistField {
        if depth > 3 {
            log("Too many subexpressions (3 max)", at: text)
            throw fail()
        }
        guard let (op, index) = Self.rootOperator(text) else {
            return try parseAtom(text, role: role, variableName: variableName)
        }
        depth += 1
        if depth > 3 {
            log("Too many subexpressions (3 max)", at: text)
            throw fail()
        }
        if op == "u" {
            // Only "-(expr)" is supported; the kernel skips one character after the '-'.
            var inner = String(text.dropFirst())
            guard inner.contains("(") else { throw fail() }
            inner = String(inner.dropFirst())
            guard let close = inner.lastIndex(of: ")") else { throw fail() }
            if inner.index(after: close) != inner.endIndex {
                log("Unary minus not supported in sub-expressions", at: inner)
                throw fail()
            }
            inner = String(inner[..<close])
            let operand = try parseExpression(inner, role: .operand, variableName: nil, depth: &depth)
            if operand.isString {
                log("String type can not be an operand in expression", at: inner)
                throw fail()
            }
            var result = HistField(flags: FieldFlags.expression.union(operand.flags.intersection(.timestampUnits)), name: "")
            result.name = "-(" + operand.operandText + ")"
            result.references = operand.references
            return finish(result, role: role)
        }
        let lhs = String(text[..<index])
        let rhs = String(text[text.index(after: index)...])
        if lhs.isEmpty || rhs.isEmpty { throw fail() }
        let left = try parseExpression(lhs, role: .operand, variableName: nil, depth: &depth)
        if left.isString {
            log("String type can not be an operand in expression", at: lhs)
            throw fail()
        }
        let right = try parseExpression(rhs, role: .operand, variableName: nil, depth: &depth)
        if right.isString {
            log("String type can not be an operand in expression", at: rhs)
            throw fail()
        }
        if op == "/" && right.flags.contains(.constant) && right.constant == 0 {
            log("Division by zero", at: rhs)
            throw fail(EDOM)
        }
        var result: HistField
        if left.flags.contains(.constant) && right.flags.contains(.constant) {
            // Two constants fold into one, printed as its value.
            let value: UInt64
            switch op {
            case "+": value = left.constant &+ right.constant
            case "-": value = left.constant &- right.constant
            case "*": value = left.constant &* right.constant
            default: value = left.constant / right.constant
            }
            result = HistField(flags: .constant, name: "", constant: value)
        } else {
            result = HistField(flags: FieldFlags.expression.union(left.flags.intersection(.timestampUnits)), name: "")
            result.name = left.operandText + String(op) + right.operandText
            result.references = left.references.union(right.references)
        }
        return finish(result, role: role)
    }

    private func finish(_ field: HistField, role: Role) -> HistField {
        var field = field
        if role == .key { field.flags.insert(.key) }
        return field
    }

    /// `parse_atom()`: a constant, a variable reference (possibly `sys.event.$var`), or a field.
    private mutating func parseAtom(_ text: String, role: Role, variableName: String?) throws(KernelFailure) -> HistField {
        if let first = text.first, first.isASCII, first.isNumber {
            guard let value = parseKernelUnsigned(text) else {
                log("Expecting numeric literal", at: text)
                throw fail()
            }
            return HistField(flags: .constant, name: "", constant: value)
        }
        var refSystem: String?
        var refEvent: String?
        var refVariable = text
        var rest = text
        if let firstDot = text.firstIndex(of: "."), text[text.index(after: firstDot)...].contains(".") {
            let afterFirst = text[text.index(after: firstDot)...]
            let secondDot = afterFirst.firstIndex(of: ".")!
            refSystem = String(text[..<firstDot])
            refEvent = String(afterFirst[..<secondDot])
            refVariable = String(afterFirst[afterFirst.index(after: secondDot)...])
            rest = refVariable
        }
        if let local = localFieldVariable(system: refSystem, event: refEvent, reference: refVariable) {
            rest = local
        } else if refVariable.count >= 2 && refVariable.hasPrefix("$") {
            let variable = String(refVariable.dropFirst())
            if let target = findEventVariable(system: refSystem, event: refEvent, name: variable) {
                var name = variable
                if let refSystem, let refEvent { name = "\(refSystem).\(refEvent).\(variable)" }
                var field = HistField(
                    flags: FieldFlags.variableReference.union(target.field.flags.intersection(.timestampUnits)),
                    name: name)
                field.references = [target.triggerID]
                if variableName != nil {
                    field.flags = FieldFlags.alias.union(target.field.flags.intersection(.timestampUnits))
                }
                return field
            }
            log("Couldn't find variable", at: variable)
        }
        return try parseField(rest, role: role)
    }

    /// `local_field_var_ref()`: `$x` where this very command defines `x` as a plain field.
    private func localFieldVariable(system: String?, event: String?, reference: String) -> String? {
        if let system, let event, system != self.event.system || event != self.event.event { return nil }
        guard reference.count >= 2, reference.hasPrefix("$") else { return nil }
        let name = reference.dropFirst()
        for (n, expression) in assignments where n == name {
            if Self.rootOperator(expression) != nil || expression.hasPrefix("$") { continue }
            return expression
        }
        return nil
    }

    struct VariableTarget {
        var triggerID: Int
        var field: HistField
    }

    /// `find_event_var()`: the `onmatch()` events first, then any hist with variables in
    /// this instance (ambiguous when two events define the name).
    mutating func findEventVariable(system: String?, event: String?, name: String) -> VariableTarget? {
        if system == nil || event == nil {
            var found: VariableTarget?
            for action in parsedActions {
                guard case .onmatch(let s, let e) = action.handler else { continue }
                guard let file = findVariableFile(system: s, event: e, name: name) else { continue }
                if let target = registeredVariable(named: name, on: file) {
                    if found != nil {
                        log("Variable name not unique, need to use fully qualified name (subsys.event.var) for variable", at: name)
                        return nil
                    }
                    found = target
                }
            }
            if let found { return found }
        }
        guard let file = findVariableFile(system: system, event: event, name: name) else { return nil }
        return registeredVariable(named: name, on: file)
    }

    /// `find_var_file()`.
    private mutating func findVariableFile(system: String?, event: String?, name: String) -> EventName? {
        if let system, let event {
            let e = EventName(system: system, event: event)
            return state.eventExists(e, in: instance) ? e : nil
        }
        var found: EventName?
        for trigger in state.histTriggersWithVariables(in: instance) {
            if trigger.event == found { continue }
            if state.layout(of: trigger).variable(named: name) != nil {
                if found != nil {
                    log("Variable name not unique, need to use fully qualified name (subsys.event.var) for variable", at: name)
                    return nil
                }
                found = trigger.event
            }
        }
        return found
    }

    /// `find_file_var()`: the first registered hist on the event defining the variable.
    func registeredVariable(named name: String, on event: EventName) -> VariableTarget? {
        for trigger in state.histTriggers(on: event, in: instance) {
            if let field = state.layout(of: trigger).variable(named: name) {
                return VariableTarget(triggerID: trigger.id, field: field)
            }
        }
        return nil
    }

    /// `parse_field()`: one modifier after the first dot, then the field itself.
    private mutating func parseField(_ text: String, role: Role) throws(KernelFailure) -> HistField {
        var fieldName = text
        var modifier: String?
        if let dot = text.firstIndex(of: ".") {
            fieldName = String(text[..<dot])
            modifier = String(text[text.index(after: dot)...])
        }
        var flags: FieldFlags = []
        var buckets: UInt64 = 0
        if let modifier {
            switch modifier {
            case "hex": flags.insert(.hex)
            case "sym": flags.insert(.sym)
            case "symXoffset": flags.insert(.symOffset)
            case "execname" where fieldName == "common_pid": flags.insert(.execname)
            case "syscall": flags.insert(.syscall)
            case "log2": flags.insert(.log2)
            case "usecs": flags.insert(.usecs)
            default:
                if modifier.hasPrefix("bucket") {
                    var rest = modifier.dropFirst(6)
                    if rest.first == "s" { rest = rest.dropFirst() }
                    if rest.first == "=", let n = parseKernelUnsigned(String(rest.dropFirst())), n > 0 {
                        flags.insert(.buckets)
                        buckets = n
                        break
                    }
                } else if modifier.hasPrefix("percent"), role != .key, role != .variable {
                    flags.insert(.percent)
                    break
                } else if modifier.hasPrefix("graph"), role != .key, role != .variable {
                    flags.insert(.graph)
                    break
                }
                log("Invalid field modifier", at: modifier)
                throw fail()
            }
        }
        var field = HistField(flags: flags, name: fieldName, buckets: buckets)
        if fieldName == "common_timestamp" {
            field.flags.insert(.timestamp)
            field.name = "common_timestamp"
            usesTimestamp = true
        } else if fieldName == "common_cpu" {
            field.flags.insert(.cpu)
            field.name = "common_cpu"
            field.keySize = 4
        } else if let real = fields.first(where: { $0.name == fieldName }), real.size > 0 {
            field.fieldIdentity = "\(real.name):\(real.type):\(real.size):\(real.isSigned)"
            if Self.isStringField(real) {
                field.flags.insert(.string)
                field.keySize = real.type.hasPrefix("__data_loc") ? 256 : real.size
            } else {
                field.keySize = real.size
            }
        } else if fieldName == "cpu" || fieldName == "CPU" {
            // The generic cpu/CPU fields (size 0) are the old spelling of common_cpu, but a
            // different ftrace field, so such a trigger never matches one written common_cpu.
            field.flags.insert(.cpu)
            field.fieldIdentity = "generic:\(fieldName)"
            field.keySize = 4
        } else {
            log("Couldn't find field", at: fieldName)
            throw fail()
        }
        return field
    }

    static func isStringField(_ field: EventFormat.Field) -> Bool {
        if field.type.contains("char[") { return true }
        return (field.type == "char" || field.type == "unsigned char") && field.size > 1
    }

    // MARK: actions

    /// `onmatch_parse()` / `track_data_parse()` and `action_parse()`.
    private mutating func parseAction(_ text: String) throws(KernelFailure) -> HistAction {
        var rest: Substring
        var handler: HistAction.Handler
        if let body = text.dropPrefix("onmatch(") {
            guard let close = body.firstIndex(of: ")") else {
                log("No closing paren found", at: body)
                throw fail()
            }
            let matchEvent = body[..<close]
            guard let dot = matchEvent.firstIndex(of: ".") else {
                log("Missing subsystem", at: String(matchEvent))
                throw fail()
            }
            let system = String(matchEvent[..<dot])
            let eventName = String(matchEvent[matchEvent.index(after: dot)...])
            guard state.eventExists(EventName(system: system, event: eventName), in: instance) else {
                log("Invalid subsystem or event name", at: eventName)
                throw fail()
            }
            handler = .onmatch(system: system, event: eventName)
            rest = Substring(body)[body.index(after: close)...]
        } else {
            let isMax = text.hasPrefix("onmax(")
            let body = text.dropPrefix(isMax ? "onmax(" : "onchange(") ?? ""
            guard let close = body.firstIndex(of: ")") else { throw fail() }
            let variable = String(body[..<close])
            handler = isMax ? .onmax(variable) : .onchange(variable)
            rest = Substring(body)[body.index(after: close)...]
        }

        guard let dot = rest.firstIndex(of: ".") else {
            log("No action found", at: nil)
            throw fail()
        }
        rest = rest[rest.index(after: dot)...]
        guard let paren = rest.firstIndex(of: "(") else {
            log("No action found", at: nil)
            throw fail()
        }
        let actionName = String(rest[..<paren])
        rest = rest[rest.index(after: paren)...]
        let params: Substring
        let hasClose: Bool
        if let close = rest.firstIndex(of: ")") {
            params = rest[..<close]
            hasClose = true
        } else {
            params = rest
            hasClose = false
        }
        var action = HistAction(handler: handler, kind: .trace, actionName: actionName, usesTraceKeyword: false, params: [])
        let isOnmatch: Bool
        if case .onmatch = handler { isOnmatch = true } else { isOnmatch = false }
        if actionName.hasPrefix("save") {
            try parseActionParameters(String(params), into: &action)
            if isOnmatch {
                log("Handler doesn't support action", at: actionName)
                throw fail()
            }
            action.kind = .save
        } else if actionName.hasPrefix("snapshot") {
            if !hasClose {
                log("No closing paren found", at: String(params))
                throw fail()
            }
            if isOnmatch {
                log("Handler doesn't support action", at: actionName)
                throw fail()
            }
            action.kind = .snapshot
        } else {
            action.usesTraceKeyword = actionName.hasPrefix("trace")
            try parseActionParameters(String(params), into: &action)
            action.kind = .trace
        }
        return action
    }

    /// `parse_action_params()`: each parameter is stripped and must be at least 2 characters.
    private mutating func parseActionParameters(_ text: String, into action: inout HistAction) throws(KernelFailure) {
        var first = true
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            if action.params.count >= 64 {
                log("Too many action params", at: nil)
                throw fail()
            }
            let param = String(raw).kernelStripped
            if param.utf8.count < 2 {
                log("Invalid action param", at: param)
                throw fail()
            }
            if first && action.usesTraceKeyword {
                action.syntheticName = param
                first = false
                continue
            }
            first = false
            action.params.append(param)
        }
    }

    struct ActionResult {
        var references: Set<Int> = []
        var syntheticEvents: [String] = []
    }

    /// `create_actions()`: runs only when a new trigger is registered, after the duplicate
    /// check; this is where synthetic events and parameters are looked up.
    mutating func createActions(_ hist: CompiledHist) throws(KernelFailure) -> ActionResult {
        var result = ActionResult()
        var sawSave = false
        for action in hist.actions {
            switch action.handler {
            case .onmatch:
                try createTraceAction(action, hist: hist, result: &result)
            case .onmax(let variable), .onchange(let variable):
                guard variable.hasPrefix("$") else {
                    log("For onmax(x) or onchange(x), x must be a variable", at: variable)
                    throw fail()
                }
                guard hist.variable(named: String(variable.dropFirst())) != nil else {
                    log("Couldn't find onmax or onchange variable", at: String(variable.dropFirst()))
                    throw fail()
                }
                switch action.kind {
                case .trace:
                    try createTraceAction(action, hist: hist, result: &result)
                case .snapshot:
                    break
                case .save:
                    if sawSave {
                        log("Can't have more than one save() action per hist", at: nil)
                        throw fail(EEXIST)
                    }
                    sawSave = true
                    for param in action.params where !fields.contains(where: { $0.name == param }) {
                        log("Couldn't create field variable", at: param)
                        throw fail()
                    }
                }
            }
        }
        return result
    }

    /// `trace_action_create()`.
    private mutating func createTraceAction(_ action: HistAction, hist: CompiledHist, result: inout ActionResult) throws(KernelFailure) {
        let name = action.generatedEvent ?? ""
        guard let synthetic = state.synthetic(named: name) else {
            log("Couldn't find synthetic event", at: name)
            throw fail()
        }
        var matchSystem: String?
        var matchEvent: String?
        if case .onmatch(let s, let e) = action.handler {
            matchSystem = s
            matchEvent = e
        }
        for (position, param) in action.params.enumerated() {
            var system: String?
            var eventName: String?
            var item = param
            let parts = param.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 { throw fail() }
            if parts.count == 3 {
                system = parts[0]
                eventName = parts[1]
                item = parts[2]
            }
            let ownEvent = system == nil || (system == event.system && eventName == event.event)
            if item.hasPrefix("$") {
                let variable = String(item.dropFirst())
                if ownEvent, hist.variable(named: variable) != nil {
                    // A variable of the trigger being created.
                } else if let target = findEventVariable(
                    system: system ?? matchSystem, event: eventName ?? matchEvent, name: variable) {
                    result.references.insert(target.triggerID)
                } else {
                    log("Couldn't find param", at: variable)
                    throw fail()
                }
            } else if ownEvent && fields.contains(where: { $0.name == item }) {
                // A field of this event, turned into a field variable.
            } else if let s = system ?? matchSystem, let e = eventName ?? matchEvent {
                let other = EventName(system: s, event: e)
                guard state.histTriggers(on: other, in: instance).first != nil else {
                    log("Matching event histogram not found", at: item)
                    throw fail()
                }
                guard state.fields(of: other)?.contains(where: { $0.name == item }) == true else {
                    log("Couldn't find field", at: item)
                    throw fail()
                }
            } else {
                throw fail()
            }
            if position >= synthetic.fields.count {
                log("Param type doesn't match synthetic event field type", at: param)
                throw fail()
            }
        }
        if action.params.count != synthetic.fields.count {
            log("Param count doesn't match synthetic event field count", at: synthetic.name)
            throw fail()
        }
        result.syntheticEvents.append(synthetic.name)
    }
}

/// `kstrtoull(s, 0, ...)`: decimal, `0x` hex or leading-`0` octal, and nothing else.
func parseKernelUnsigned(_ text: String) -> UInt64? {
    var s = Substring(text)
    if s.hasSuffix("\n") { s = s.dropLast() }
    guard !s.isEmpty else { return nil }
    if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
    if s.count > 1 && s.hasPrefix("0") { return UInt64(s.dropFirst(), radix: 8) }
    return UInt64(s, radix: 10)
}

extension String {
    /// `strim()`: leading and trailing `isspace()` characters removed.
    var kernelStripped: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        var s = Substring(self)
        while let f = s.first, isSpace(f) { s.removeFirst() }
        while let l = s.last, isSpace(l) { s.removeLast() }
        return String(s)
    }

    func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
