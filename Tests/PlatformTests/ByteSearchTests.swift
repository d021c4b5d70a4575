import Platform
import Testing

@Suite struct ByteSearchTests {
    @Test("a byte string is found at its first occurrence, or not at all", arguments: [
        ("hist trigger", "  - hist trigger", 4),
        ("abc", "abc", 0),
        ("abc", "ababc", 2),
        ("abc", "xxab", nil),
        ("abc", "ab", nil),
        ("aa", "aaa", 0),
        ("", "anything", 0),
        ("x", "", nil),
        ("[:nohitcount]", "keys=...[:nohitcount] [:nohitcount]", 8),
    ] as [(String, String, Int?)])
    func firstOffsetOfBytes(needle: String, haystack: String, expected: Int?) {
        let bytes = Array(haystack.utf8)
        let found = bytes.withUnsafeBufferPointer { firstOffset(of: Array(needle.utf8), in: $0) }
        #expect(found == expected)
    }

    @Test("a needle at the very end of a large buffer, after many near misses")
    func atTheEnd() {
        let bytes = Array(String(repeating: "hist trigge", count: 3000).utf8) + Array("hist trigger".utf8)
        let found = bytes.withUnsafeBufferPointer { firstOffset(of: Array("hist trigger".utf8), in: $0) }
        #expect(found == 33000)
    }
}
