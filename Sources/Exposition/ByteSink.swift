/// Where the encoder writes bytes: a growable `[UInt8]` (the public API, tests), or the
/// `ByteWriter` the encoder uses internally, which appends without Array's per-call
/// uniqueness and capacity bookkeeping.
protocol ByteSink {
    var count: Int { get }
    mutating func append(_ byte: UInt8)
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>)
    /// Whether a `.` or `e` occurs at or after `start` (OpenMetrics float rendering).
    func containsPointOrExponent(from start: Int) -> Bool
}

extension ByteSink {
    @inline(__always)
    mutating func write(_ text: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func writeBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    /// A string's bytes, copied in one go where the string is contiguous (native strings).
    @inline(__always)
    mutating func writeUTF8(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ append(contentsOf: $0) }) == nil {
            for byte in text.utf8 { append(byte) }
        }
    }
}

extension Array: ByteSink where Element == UInt8 {
    func containsPointOrExponent(from start: Int) -> Bool {
        self[start...].contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") }
    }
}

/// A byte buffer with unchecked appends after one capacity check; the owner must call
/// `deallocate()`.
struct ByteWriter: ByteSink {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if _slowPath(count + extra > capacity) { grow(to: count + extra) }
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        let n = bytes.count
        reserve(n)
        (base + count).update(from: source, count: n)
        count += n
    }

    func containsPointOrExponent(from start: Int) -> Bool {
        var i = start
        while i < count {
            if base[i] == UInt8(ascii: ".") || base[i] == UInt8(ascii: "e") { return true }
            i += 1
        }
        return false
    }

    mutating func reset() { count = 0 }

    /// Drops the bytes from `length` on.
    mutating func truncate(to length: Int) { count = min(count, length) }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    func deallocate() { base.deallocate() }
}

/// Whether two strings have the same UTF-8 bytes (not merely canonical equivalence).
@inline(__always)
func utf8Equal(_ a: String, _ b: String) -> Bool {
    let result: Bool?? = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in
            guard x.count == y.count else { return false }
            guard let p = x.baseAddress, let q = y.baseAddress, p != q else { return true }
            let count = x.count
            var i = 0
            while i + 8 <= count {
                if UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(q + i).loadUnaligned(as: UInt64.self) {
                    return false
                }
                i += 8
            }
            while i < count {
                if p[i] != q[i] { return false }
                i += 1
            }
            return true
        }
    }
    if let known = result ?? nil { return known }
    return a.utf8.elementsEqual(b.utf8)
}
