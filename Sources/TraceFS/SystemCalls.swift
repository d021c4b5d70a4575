import Platform

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
    /// Reads until EOF, at most `limit` bytes: a file past it throws `tooLarge` after reading
    /// one byte more than the limit, never more.
    static func readWholeFile(_ path: String, sizeHint: Int = 4096, limit: Int) throws(TraceFSError) -> [UInt8] {
        do {
            return try WholeFile.read(path, sizeHint: sizeHint, limit: limit)
        } catch {
            switch error {
            case .system(let errno): throw .system(errno, path)
            case .tooLarge(let limit): throw TraceFSError(.tooLarge(limit: limit), path: path)
            }
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

    /// The errno `stat` gives for a path, 0 when it succeeds.
    static func accessError(_ path: String) -> Int32 {
        var st = stat()
        return stat(path, &st) == 0 ? 0 : errno
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

extension SystemCalls {
    /// One `write()` of the whole text to a file opened O_WRONLY|O_APPEND: the kernel
    /// treats each write as one command, so the text is never split.
    static func appendOnce(_ path: String, _ text: String) throws(TraceFSError) {
        let fd = try openRetrying(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        defer { _ = close(fd) }
        var bytes = Array(text.utf8)
        while true {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
            if n >= 0 {
                if n != bytes.count { throw .system(EIO, path) }
                return
            }
            if errno == EINTR { continue }
            throw .system(errno, path)
        }
    }

    static func truncate(_ path: String) throws(TraceFSError) {
        let fd = try openRetrying(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        _ = close(fd)
    }

    static func makeDirectory(_ path: String) throws(TraceFSError) {
        if mkdir(path, 0o755) != 0 { throw .system(errno, path) }
    }

    static func removeDirectory(_ path: String) throws(TraceFSError) {
        if rmdir(path) != 0 { throw .system(errno, path) }
    }
}
