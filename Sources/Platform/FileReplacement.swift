#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes that a crash or power loss leaves whole: the old file or the new one, never a mix.
public enum FileReplacement {
    /// Replaces `path` with `bytes`: a temporary file beside it, written, synced and renamed
    /// over it, then the directory synced so the rename itself lasts. Creates the directory
    /// when it is missing (mode 0700; missing parents 0755). Throws the errno of the step that
    /// failed.
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t = 0o600) throws(FileReadError) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        try makeDirectory(directory.isEmpty ? "/" : directory)
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .system(errno: errno) }
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            throw .system(errno: failure)
        }
        let directoryFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Parents are made as `mkdir -p` would (0755); the directory itself is private.
    private static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(FileReadError) {
        var st = stat()
        if stat(path, &st) == 0 { return }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectory(String(path[..<slash]), mode: 0o755)
        }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw .system(errno: errno) }
    }
}
