#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The only place this module calls into libc; each call retries EINTR and throws a
/// typed error naming the path.
enum SystemCalls {
    static func readWholeFile(_ path: String, sizeHint: Int = 16 << 10) throws(TraceFSError) -> [UInt8] {
        let fd = try openRetrying(path, O_RDONLY | O_CLOEXEC)
        defer { _ = close(fd) }
        // tracefs reports size 0 for generated files: read until EOF, never trust stat.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sizeHint)
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(errno, path)
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    static func openRetrying(_ path: String, _ flags: Int32, _ mode: mode_t = 0) throws(TraceFSError) -> Int32 {
        while true {
            let fd = open(path, flags, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw .system(errno, path)
        }
    }

    static func listDirectory(_ path: String) throws(TraceFSError) -> [String] {
        guard let dir = opendir(path) else { throw .system(errno, path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    enum FileKind { case directory, file, other }

    static func kind(_ path: String) -> FileKind? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        default: return .other
        }
    }
}
