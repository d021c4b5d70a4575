/// Strings made from bytes, remembered in a small direct-mapped table so a text seen
/// again (a key name, a symbol, a comm, a stack frame) is shared rather than allocated
/// and validated again. A hit is confirmed byte for byte; a miss makes the string as
/// `String(decoding:as:)` always did, so the strings are the same either way.
struct StringCache {
    private var slots: [String?] = []
    private var mask = 0
    /// A table sized to the input: one slot per ~64 bytes of hist text, 256 to 16384.
    private let slotCount: Int

    init(inputSize: Int = 0) {
        var n = 256
        while n < 16384 && n * 64 < inputSize { n *= 2 }
        slotCount = n
    }

    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if bytes.isEmpty { return "" }
        if slots.isEmpty {
            slots = Array(repeating: nil, count: slotCount)
            mask = slotCount - 1
        }
        let slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
        if let cached = slots[slot], Self.equal(cached, bytes) { return cached }
        let made = String(decoding: bytes, as: UTF8.self)
        slots[slot] = made
        return made
    }

    private static func equal(_ string: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        string.utf8.withContiguousStorageIfAvailable { stored in
            guard stored.count == bytes.count, let a = stored.baseAddress, let b = bytes.baseAddress else {
                return stored.count == bytes.count
            }
            let count = bytes.count
            var i = 0
            while i + 8 <= count {
                if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) {
                    return false
                }
                i += 8
            }
            while i < count {
                if a[i] != b[i] { return false }
                i += 1
            }
            return true
        } ?? false
    }

    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let base = UnsafeRawPointer(bytes.baseAddress!)
        let count = bytes.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
        var i = 0
        while i + 8 <= count {
            h = (h ^ base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < count {
            tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 32)
    }
}
