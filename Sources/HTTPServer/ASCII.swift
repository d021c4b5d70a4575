/// ASCII-only lower-casing: header names and codings are ASCII tokens, and this avoids Unicode case
/// mapping on the request path.
func asciiLowercased(_ string: String) -> String {
    if !string.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return string }
    return String(decoding: string.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 | 0x20 : $0 }, as: UTF8.self)
}

/// ASCII case-insensitive equality, for header names.
func asciiCaseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
    var ia = a.utf8.makeIterator()
    var ib = b.utf8.makeIterator()
    while true {
        switch (ia.next(), ib.next()) {
        case (nil, nil):
            return true
        case let (x?, y?):
            let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
            let ly = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
            if lx != ly { return false }
        default:
            return false
        }
    }
}

/// Strips spaces and horizontal tabs (HTTP's optional whitespace) from both ends.
func trimmingOWS(_ s: Substring) -> Substring {
    var s = s
    while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" { s.removeLast() }
    return s
}

/// Decodes a NUL-terminated C string held in an array.
func stringFromCBuffer(_ buffer: [CChar]) -> String {
    let end = buffer.firstIndex(of: 0) ?? buffer.endIndex
    return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
