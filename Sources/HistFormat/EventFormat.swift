/// The fields of an event, from its `format` file, as far as hist parsing needs them:
/// the kernel prints every number as u64, and only `signed:` says what it meant.
public struct EventFormat: Equatable, Sendable {
    public struct Field: Equatable, Sendable {
        public var name: String
        public var type: String
        public var size: Int
        public var isSigned: Bool
    }

    public var name: String
    public var fields: [Field]

    public init(name: String, fields: [Field]) {
        self.name = name
        self.fields = fields
    }

    public func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// Parses `name: ...` and the `field:<type> <name>; offset:N; size:N; signed:N;` lines;
    /// anything else in the file (ID, print fmt) is ignored.
    public static func parse(_ text: String) -> EventFormat {
        var name = ""
        var fields: [Field] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = rawLine.trimmingBlanks()
            if line.hasPrefix("name: ") {
                name = String(line.dropFirst(6))
                continue
            }
            guard line.hasPrefix("field:") else { continue }
            var declaration = ""
            var size = 0
            var signed = false
            for part in line.split(separator: ";") {
                let item = part.trimmingBlanks()
                if item.hasPrefix("field:") {
                    declaration = String(item.dropFirst(6))
                } else if item.hasPrefix("size:") {
                    size = Int(item.dropFirst(5)) ?? 0
                } else if item.hasPrefix("signed:") {
                    signed = item.dropFirst(7) == "1"
                }
            }
            guard let space = declaration.lastIndex(of: " ") else { continue }
            var fieldName = String(declaration[declaration.index(after: space)...])
            if let bracket = fieldName.firstIndex(of: "[") { fieldName = String(fieldName[..<bracket]) }
            let type = String(declaration[..<space])
            fields.append(Field(name: fieldName, type: type, size: size, isSigned: signed))
        }
        return EventFormat(name: name, fields: fields)
    }
}

extension HistFile {
    /// Reads the plain numeric keys and values of signed fields as the signed numbers
    /// they are (`ret: 18446744073709551614` is -2).
    public func applyingSignedness(of format: EventFormat) -> HistFile {
        var file = self
        for b in file.blocks.indices {
            let info = file.blocks[b].triggerInfo
            let signedKeys: [Int?] = info.keys.map { spec in
                guard spec.keyKind == .plain, let f = format.field(named: spec.name), f.isSigned else { return nil }
                return f.size
            }
            var signedValues: [String: Int] = [:]
            for spec in info.values where spec.modifiers.isEmpty {
                if let f = format.field(named: spec.name), f.isSigned { signedValues[spec.name] = f.size }
            }
            if signedKeys.allSatisfy({ $0 == nil }) && signedValues.isEmpty { continue }
            for (k, size) in signedKeys.enumerated() {
                guard let size else { continue }
                file.blocks[b].entries.updateKeys(at: k) { key in
                    if case .number(let raw) = key.value { key.value = .signed(signExtend(raw, bytes: size)) }
                }
            }
            if !signedValues.isEmpty {
                file.blocks[b].entries.updateValues { value in
                    // A sum of signed values wraps in 64 bits whatever the field's size.
                    if signedValues[value.name] != nil, case .number(let raw) = value.reading { value.reading = .signed(Int64(bitPattern: raw)) }
                }
            }
        }
        return file
    }
}

/// Sign-extends the low `bytes` bytes of a u64 the kernel printed.
func signExtend(_ raw: UInt64, bytes: Int) -> Int64 {
    guard bytes > 0 && bytes < 8 else { return Int64(bitPattern: raw) }
    let shift = UInt64(64 - bytes * 8)
    return Int64(bitPattern: raw << shift) >> Int64(shift)
}
