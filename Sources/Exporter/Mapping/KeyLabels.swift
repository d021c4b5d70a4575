import HistFormat
import StackFormats

/// Label values for hist keys, one decoder per rendering: what a person would want
/// to read in a dashboard, not the kernel's padded columns.
enum KeyLabels {
    /// The label value of a key; `.execname` gives the comm (the pid is separate).
    static func value(_ key: KeyValue) -> String {
        switch key {
        case .number(let v): return String(v)
        case .signed(let v): return String(v)
        case .hex(let v): return "0x" + String(v, radix: 16)
        case .symbol(_, let name): return name
        case .symbolOffset(_, let text): return text
        case .execname(let comm, _): return comm
        case .syscall(let name, _): return name
        case .stack(let frames): return foldedStack(frames)
        case .log2(let exponent): return "2^\(exponent)"
        case .bucket(let lower, let upper): return "\(lower)-\(upper)"
        case .string(let s): return s
        }
    }

    /// The label value through a configured decoder.
    static func value(_ key: KeyValue, decoder: LabelDecoder?) -> String {
        guard let decoder, let number = unsignedNumber(key) else { return value(key) }
        switch decoder {
        case .device: return "\(number >> 20):\(number & 0xFFFFF)"
        case .taskState: return taskState(number)
        case .errno: return errnoName(Int64(bitPattern: number))
        // Named through the cgroup tree by `CgroupNames`; the id where there is none.
        case .cgroup: return String(number)
        }
    }

    /// `-2` as `ENOENT`. The kernel prints a signed field as its u64 bit pattern, and the
    /// decoder takes both.
    static func errnoName(_ value: Int64) -> String {
        guard value < 0, value >= -4095 else { return String(value) }
        let number = Int(-value)
        if number < errnoNames.count, !errnoNames[number].isEmpty { return errnoNames[number] }
        return kernelInternalErrnoNames[number] ?? String(value)
    }

    static func unsignedNumber(_ key: KeyValue) -> UInt64? {
        switch key {
        case .number(let v), .hex(let v): return v
        case .signed(let v): return UInt64(bitPattern: v)
        default: return nil
        }
    }

    /// The kernel's own rendering in sched_switch's print fmt: state bits as letters
    /// joined by `|`, `R` for none, `+` when the task was preempted (TASK_REPORT_MAX).
    static func taskState(_ raw: UInt64) -> String {
        let letters: [(UInt64, String)] = [(0x1, "S"), (0x2, "D"), (0x4, "T"), (0x8, "t"), (0x10, "X"), (0x20, "Z"), (0x40, "P"), (0x80, "I")]
        let state = raw & 0xFF
        var text = state == 0 ? "R" : letters.filter { state & $0.0 != 0 }.map(\.1).joined(separator: "|")
        if raw & 0x100 != 0 { text += "+" }
        return text
    }

    static func pid(_ key: KeyValue) -> String? {
        if case .execname(_, let pid) = key { return String(pid) }
        return nil
    }

    /// Root first, `;`-separated, offsets dropped: the folded format flame-graph tools read.
    static func foldedStack(_ frames: [String]) -> String { StackFrame.folded(frames) }

    /// The numeric value of a key that holds one, for bucketing and exact sums.
    static func number(_ key: KeyValue) -> Double? {
        switch key {
        case .number(let v), .hex(let v): return Double(v)
        case .signed(let v): return Double(v)
        default: return nil
        }
    }
}
