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
