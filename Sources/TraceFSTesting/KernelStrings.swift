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
