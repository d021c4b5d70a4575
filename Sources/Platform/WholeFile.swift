#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A whole file as read, with the type, owner and mode of the descriptor it came from, so a
/// check on them is about the bytes read, not about whatever is at the path a moment later.
public struct FileContents: Sendable {
    public var bytes: [UInt8]
    public var mode: UInt32
    public var owner: UInt32
    public var isRegular: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
}

/// Why a whole-file read failed: a system call's errno, or a file past the reader's limit.
public enum FileReadError: Error, Equatable, Sendable {
    case system(errno: Int32)
    /// The file holds more than `limit` bytes; one byte more than the limit was read, never more.
    case tooLarge(limit: Int)

    /// "1 MiB", "256 MiB", "64 KiB": sizes as limits are set.
    public static func describe(bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}

/// The one whole-file reader: EINTR-safe, bounded, reading until EOF whatever `stat` says
/// (tracefs and procfs report size 0 for generated files).
public enum WholeFile {
    /// The file's bytes, at most `limit`.
    public static func read(_ path: String, sizeHint: Int = 4096, limit: Int) throws(FileReadError) -> [UInt8] {
        let fd = try openForReading(path)
        defer { _ = close(fd) }
        return try readToEnd(fd, sizeHint: sizeHint, limit: limit)
    }

    /// The file's bytes with the type, owner and mode of the descriptor they were read from.
    public static func readWithOwnership(_ path: String, limit: Int) throws(FileReadError) -> FileContents {
        let fd = try openForReading(path)
        defer { _ = close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .system(errno: errno) }
        let contents = FileContents(bytes: [], mode: UInt32(st.st_mode), owner: UInt32(st.st_uid))
        // A directory or a device is not read: its type is the answer.
        guard contents.isRegular else { return contents }
        return FileContents(bytes: try readToEnd(fd, sizeHint: Int(st.st_size) + 1, limit: limit), mode: contents.mode, owner: contents.owner)
    }
}

private func openForReading(_ path: String) throws(FileReadError) -> Int32 {
    while true {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { return fd }
        if errno == EINTR { continue }
        throw .system(errno: errno)
    }
}

/// Reads go straight into the array's spare capacity: no zero-filled scratch buffer.
private func readToEnd(_ fd: Int32, sizeHint: Int, limit: Int) throws(FileReadError) -> [UInt8] {
    var bytes: [UInt8] = []
    var capacity = min(max(sizeHint, 512), limit + 1)
    while true {
        let start = bytes.count
        var readError: Int32 = 0
        var done = false
        let grown = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            if start > 0 { _ = UnsafeMutableBufferPointer(rebasing: buffer[0..<start]).initialize(from: bytes) }
            initialized = start
            while initialized < capacity {
                let n = read(fd, buffer.baseAddress! + initialized, capacity - initialized)
                if n < 0 {
                    if errno == EINTR { continue }
                    readError = errno
                    return
                }
                if n == 0 {
                    done = true
                    return
                }
                initialized += n
            }
        }
        if readError != 0 { throw .system(errno: readError) }
        bytes = grown
        if done { return bytes }
        if bytes.count > limit { throw .tooLarge(limit: limit) }
        capacity = min(capacity * 2, limit + 1)
    }
}
