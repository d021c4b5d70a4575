#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The offset of the first `byte` in `bytes`, found with the C library's vectorised `memchr`;
/// nil when it is not there.
public func firstOffset(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    guard let base = bytes.baseAddress, let found = memchr(base, Int32(byte), bytes.count) else { return nil }
    return UnsafeRawPointer(found) - UnsafeRawPointer(base)
}

/// The offset of the first occurrence of `needle` in `bytes` (0 for an empty needle), found
/// with `memchr` for each candidate first byte and `memcmp` for the rest; nil when it is not
/// there. Searching a kernel file's bytes this way costs microseconds where `String.contains`,
/// which compares by Unicode equivalence, costs milliseconds.
public func firstOffset(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    guard let first = needle.first else { return 0 }
    guard let base = bytes.baseAddress, needle.count <= bytes.count else { return nil }
    let last = bytes.count - needle.count
    var start = 0
    return needle.withUnsafeBufferPointer { needleBytes -> Int? in
        while start <= last, let found = memchr(base + start, Int32(first), last - start + 1) {
            let offset = UnsafeRawPointer(found) - UnsafeRawPointer(base)
            if memcmp(base + offset, needleBytes.baseAddress!, needle.count) == 0 { return offset }
            start = offset + 1
        }
        return nil
    }
}
