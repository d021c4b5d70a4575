import HistFormat

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
