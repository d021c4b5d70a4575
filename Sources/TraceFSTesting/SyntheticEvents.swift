#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One field of a synthetic event, as `parse_synth_field()` stores it.
struct SyntheticField: Hashable, Sendable {
    /// The type with any array suffix moved onto it: `char[16]`, `char[]`, `unsigned int`.
    var type: String
    var name: String

    var baseType: String {
        guard let bracket = type.firstIndex(of: "[") else { return type }
        return String(type[..<bracket])
    }

    var isArray: Bool { type.contains("[") }

    static let scalarTypes: [String: (size: Int, signed: Bool, format: String)] = [
        "s64": (8, true, "%lld"), "u64": (8, false, "%llu"),
        "s32": (4, true, "%d"), "u32": (4, false, "%u"),
        "s16": (2, true, "%d"), "u16": (2, false, "%u"),
        "s8": (1, true, "%d"), "u8": (1, false, "%u"),
        "char": (1, true, "%d"), "unsigned char": (1, false, "%u"),
        "short": (2, true, "%d"), "unsigned short": (2, false, "%u"),
        "int": (4, true, "%d"), "unsigned int": (4, false, "%u"),
        "long": (8, true, "%ld"), "unsigned long": (8, false, "%lu"),
        "bool": (1, false, "%d"), "pid_t": (4, true, "%d"), "gfp_t": (4, false, "%x"),
    ]

    /// `synth_field_size()` accepts the scalar types, `char[N]`/`char[]` strings and
    /// `long[]`/`unsigned long[]` stacks.
    var isValidType: Bool {
        guard isArray else { return Self.scalarTypes[type] != nil }
        let base = baseType
        let inside = type[type.index(after: type.firstIndex(of: "[")!)...]
        guard inside.hasSuffix("]") else { return false }
        let count = inside.dropLast()
        if base == "char" { return count.isEmpty || (Int(count).map { $0 > 0 } ?? false) }
        if base == "long" || base == "unsigned long" { return count.isEmpty }
        return false
    }
}

struct SyntheticEvent: Hashable, Sendable {
    var name: String
    var fields: [SyntheticField]
    var id: Int

    /// `synth_events_show()`: `name<TAB>type field; type field`.
    var readBack: String {
        name + "\t" + fields.map { "\($0.type) \($0.name)" }.joined(separator: "; ") + "\n"
    }

    /// The `format` file of `events/synthetic/<name>`: every field in its own u64 slot,
    /// static strings rounded up to 8 bytes (6.1 prints `char comm[]` for `char[16] comm`).
    var format: String {
        var lines = KernelText.formatHead(name: name, id: id)
        var offset = 8
        var formats: [String] = []
        var arguments: [String] = []
        for field in fields {
            let base = field.baseType
            if field.isArray && base == "char" {
                let count = Int(field.type.drop { $0 != "[" }.dropFirst().dropLast()) ?? 0
                if count > 0 {
                    lines.append("\tfield:char \(field.name)[];\toffset:\(offset);\tsize:\(count);\tsigned:1;")
                    offset += (count + 7) / 8 * 8
                    arguments.append("REC->\(field.name)")
                } else {
                    lines.append("\tfield:__data_loc char[] \(field.name);\toffset:\(offset);\tsize:8;\tsigned:1;")
                    offset += 8
                    arguments.append("__get_str(\(field.name))")
                }
                formats.append("\(field.name)=%s")
            } else if field.isArray {
                lines.append("\tfield:__data_loc \(field.type) \(field.name);\toffset:\(offset);\tsize:8;\tsigned:0;")
                offset += 8
                formats.append("\(field.name)=%s")
                arguments.append("__get_stacktrace(\(field.name))")
            } else {
                let info = SyntheticField.scalarTypes[field.type] ?? (8, false, "%llu")
                lines.append("\tfield:\(field.type) \(field.name);\toffset:\(offset);\tsize:\(info.size);\tsigned:\(info.signed ? 1 : 0);")
                offset += 8
                formats.append("\(field.name)=\(info.format)")
                arguments.append("REC->\(field.name)")
            }
        }
        lines.append("")
        let printFormat = "print fmt: \"" + formats.joined(separator: ", ") + "\""
            + arguments.map { ", " + $0 }.joined()
        lines.append(printFormat)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// One line written to `synthetic_events`, after comments and blanks are gone.
enum SyntheticCommand {
    case remove(String)
    case create(SyntheticEvent)
}

/// `create_or_delete_synth_event()` / `__create_synth_event()` / `parse_synth_field()`.
struct SyntheticParser {
    /// `synthetic_events` errors name the raw command, and carets point into it.
    let command: String
    var logs: [(message: String, position: Int)] = []

    init(command: String) { self.command = command }

    mutating func log(_ message: String, at token: String?) {
        logs.append((message, token.map { ErrorLogEntry.position(of: $0, in: command) } ?? 0))
    }

    static func isGoodName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    mutating func parse(existing: (String) -> Bool, nextID: Int) throws(KernelFailure) -> SyntheticCommand {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = words.first else { throw KernelFailure(EINVAL) }
        if first.hasPrefix("!") {
            var name = first.dropFirst()
            if name.hasPrefix("synthetic/") { name = name.dropFirst("synthetic/".count) }
            return .remove(String(name))
        }
        let name = String(first)
        let fieldText = command.drop(while: { $0 != " " && $0 != "\t" }).kernelTrimmed
        if fieldText.isEmpty {
            log("Command must be of the form: <name> field[;field] ...", at: nil)
            throw KernelFailure(EINVAL)
        }
        guard Self.isGoodName(first) else {
            log("Illegal name", at: name)
            throw KernelFailure(EINVAL)
        }
        if existing(name) {
            log("Event already exists", at: name)
            throw KernelFailure(EEXIST)
        }
        var fields: [SyntheticField] = []
        for part in fieldText.split(separator: ";", omittingEmptySubsequences: false) {
            let argv = part.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if argv.isEmpty { continue }
            if fields.count == 64 {
                log("Too many fields", at: nil)
                throw KernelFailure(EINVAL)
            }
            var typeToken = argv[0]
            var type = argv[0]
            var fieldName: String?
            var consumed = 2
            if argv[0] == "unsigned" {
                guard argv.count >= 3 else {
                    log("Incomplete type", at: argv[0])
                    throw KernelFailure(EINVAL)
                }
                typeToken = argv[1]
                type = "unsigned " + argv[1]
                fieldName = argv[2]
                consumed = 3
            } else if argv.count >= 2 {
                fieldName = argv[1]
            }
            guard var fieldName else {
                log("Invalid field", at: typeToken)
                throw KernelFailure(EINVAL)
            }
            if let bracket = fieldName.firstIndex(of: "[") {
                type += String(fieldName[bracket...])
                fieldName = String(fieldName[..<bracket])
            }
            let field = SyntheticField(type: type, name: fieldName)
            guard field.isValidType else {
                log("Invalid type", at: typeToken)
                throw KernelFailure(EINVAL)
            }
            guard Self.isGoodName(Substring(fieldName)) else {
                log("Illegal name", at: fieldName)
                throw KernelFailure(EINVAL)
            }
            if consumed < argv.count {
                log("Command must be of the form: <name> field[;field] ...", at: nil)
                throw KernelFailure(EINVAL)
            }
            fields.append(field)
        }
        if fields.isEmpty {
            log("Command must be of the form: <name> field[;field] ...", at: nil)
            throw KernelFailure(EINVAL)
        }
        return .create(SyntheticEvent(name: name, fields: fields, id: nextID))
    }
}

extension Substring {
    var kernelTrimmed: String { String(self).kernelStripped }
}
