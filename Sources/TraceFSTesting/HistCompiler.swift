#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HistFormat
import TraceFS


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

    var assignments: [(name: String, expression: String)] = []
    var parsedActions: [HistAction] = []
    var usesTimestamp = false

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

    func fail(_ errno: Int32 = EINVAL) -> KernelFailure { KernelFailure(errno) }

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
    mutating func parseVariableDefinitions(_ texts: [String]) throws(KernelFailure) {
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
    mutating func createValue(_ text: String, role: Role, variableName: String?) throws(KernelFailure) -> HistField {
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
    mutating func createKey(_ text: String) throws(KernelFailure) -> HistField {
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
    mutating func createSortKeys(_ text: String?, hist: CompiledHist) throws(KernelFailure) -> [SortKey] {
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
}
