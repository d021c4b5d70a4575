#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HistFormat
import TraceFS

extension HistCompiler {
    // MARK: expressions

    /// `contains_operator()`: the rightmost `+`/`-` is the root, else the rightmost `*`/`/`.
    static func rootOperator(_ text: String) -> (op: Character, index: String.Index)? {
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
    mutating func parseExpression(_ text: String, role: Role, variableName: String?, depth: inout Int) throws(KernelFailure) -> HistField {
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

    func finish(_ field: HistField, role: Role) -> HistField {
        var field = field
        if role == .key { field.flags.insert(.key) }
        return field
    }

    /// `parse_atom()`: a constant, a variable reference (possibly `sys.event.$var`), or a field.
    mutating func parseAtom(_ text: String, role: Role, variableName: String?) throws(KernelFailure) -> HistField {
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
    func localFieldVariable(system: String?, event: String?, reference: String) -> String? {
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
    mutating func findVariableFile(system: String?, event: String?, name: String) -> EventName? {
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
    mutating func parseField(_ text: String, role: Role) throws(KernelFailure) -> HistField {
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
}
