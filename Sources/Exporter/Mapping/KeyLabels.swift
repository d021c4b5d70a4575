import HistFormat

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

    static func pid(_ key: KeyValue) -> String? {
        if case .execname(_, let pid) = key { return String(pid) }
        return nil
    }

    /// Root first, `;`-separated, offsets dropped: the folded format flame-graph tools read.
    static func foldedStack(_ frames: [String]) -> String {
        var out = ""
        for frame in frames.reversed() {
            if !out.isEmpty { out += ";" }
            out += functionName(frame)
        }
        return out
    }

    /// `func+0x1f/0x80 [mod]` -> `func [mod]`.
    static func functionName(_ frame: String) -> String {
        guard let plus = frame.firstIndex(of: "+") else { return frame }
        let name = frame[..<plus]
        if let bracket = frame.firstIndex(of: "["), bracket > plus { return name + " " + frame[bracket...] }
        return String(name)
    }

    /// The numeric value of a key that holds one, for bucketing and exact sums.
    static func number(_ key: KeyValue) -> Double? {
        switch key {
        case .number(let v), .hex(let v): return Double(v)
        case .signed(let v): return Double(v)
        default: return nil
        }
    }
}
