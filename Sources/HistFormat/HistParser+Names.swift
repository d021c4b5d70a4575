/// Key and value names as the last entry printed them. The kernel prints every entry of a table
/// with the same names in the same places, so each name after the first entry's is checked by
/// comparing bytes in place, without making a `String` of it, looking that up in the string
/// cache, or checking it against the trigger info again.
struct NameMemo {
    struct Name {
        let bytes: [UInt8]
        let string: String
        let style: EntryLayout.ValueStyle
    }

    /// Per key position.
    var keys: [Name?] = []
    /// Per value position in the entry line (the hitcount first where there is one).
    var values: [Name?] = []

    init(keyCount: Int = 0) {
        keys = Array(repeating: nil, count: keyCount)
    }

    mutating func rememberValue(_ name: Name, at position: Int) {
        // Bounded by the kernel's value count (TRACING_MAP_VALS_MAX), whatever the input says.
        guard position < 64 else { return }
        while values.count <= position { values.append(nil) }
        values[position] = name
    }
}

extension Parser {
    /// The remembered name if the bytes at `start` are that name followed by one of `ends`.
    @inline(__always)
    func memoized(_ name: NameMemo.Name?, at start: Int, endedBy ends: (UInt8, UInt8)) -> NameMemo.Name? {
        guard let name else { return nil }
        let end = start + name.bytes.count
        guard end < cursor.bytes.count, cursor.bytes[end] == ends.0 || cursor.bytes[end] == ends.1 else { return nil }
        let same = name.bytes.withUnsafeBufferPointer { expected in
            var i = 0
            while i < expected.count {
                if cursor.bytes[start + i] != expected[i] { return false }
                i += 1
            }
            return true
        }
        return same ? name : nil
    }

    func memo(of range: Range<Int>, _ string: String, style: EntryLayout.ValueStyle = .decimal) -> NameMemo.Name {
        NameMemo.Name(bytes: Array(cursor.bytes[range]), string: string, style: style)
    }
}
