/// What a block's trigger info says about the shape of its entries.
struct EntryLayout: Sendable {
    enum ValueStyle: Sendable { case decimal, hex, graph }

    /// The kernel prints at most 16 frames (`HIST_STACKTRACE_DEPTH`), 31 since 7.0.
    static let maximumStackFrames = 31
    /// A frame is `%pS`: a symbol of at most 512 bytes (`KSYM_NAME_LEN`), `+0xoff/0xsize`
    /// and a module name of at most 56, behind 9 spaces of indent.
    static let maximumFrameBytes = 1024

    let keyKinds: [KeyKind]
    /// Per key, the names it may print under; nil where the trigger info cannot say.
    let keyNames: [[String]?]
    /// The value names an entry may print; nil where the trigger info cannot say.
    let valueNames: [String]?
    let savedNames: Set<String>
    private let styles: [String: ValueStyle]
    /// The printed value columns besides the hitcount: the room an entry's values need.
    let valueCapacity: Int

    init(_ info: TriggerInfo) {
        keyKinds = info.keys.map(\.keyKind)
        keyNames = info.keys.map(EntryLayout.printedNames)
        let printed = info.printedValues
        var valueNames: [String]? = []
        for spec in printed {
            guard let names = EntryLayout.printedNames(spec) else {
                valueNames = nil
                break
            }
            valueNames! += names
        }
        self.valueNames = valueNames
        valueCapacity = printed.count - (printed.first?.name == "hitcount" ? 1 : 0)
        savedNames = Set(info.savedFieldNames)
        var styles: [String: ValueStyle] = [:]
        for value in info.values {
            if value.has("graph") { styles[value.name] = .graph } else if value.has("hex") { styles[value.name] = .hex }
        }
        self.styles = styles
    }

    func valueStyle(_ name: String) -> ValueStyle { styles.isEmpty ? .decimal : styles[name] ?? .decimal }

    /// The names the kernel may print a field under (`hist_field_name()`), the trigger
    /// info's first. An alias prints as typed while the read-back says `common_cpu` (and
    /// 6.16+ garbles it, `common_cpucpu`); `stacktrace` became `common_stacktrace` in 6.5.
    /// An expression prints in the kernel's own spelling of it, which the read-back need
    /// not match: nil, any name.
    static func printedNames(_ spec: FieldSpec) -> [String]? {
        guard let first = spec.name.utf8.first, !(first >= 0x30 && first <= 0x39),
              spec.name.utf8.allSatisfy(isIdentifierByte)
        else { return nil }
        switch spec.canonicalName {
        case "common_cpu": return [spec.name, "cpu", "CPU", "common_cpu"]
        case "common_stacktrace": return [spec.name, "stacktrace", "common_stacktrace"]
        default: break
        }
        if spec.name == "comm" || spec.name == "COMM" || spec.name.hasPrefix("common_comm") {
            return [spec.name, "comm", "COMM", "common_comm"]
        }
        return [spec.name]
    }
}
