#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TraceFS

/// The floor any consumer of a hist file pays: read the file (open, read until EOF) and
/// find its lines (a memchr scan for `\n` producing line ranges), with no parsing at all.
struct LineSplitBaseline {
    let fs: TraceFS
    let name: String
    /// Reused between runs, as a tuned reader would.
    private var lines: [Range<Int>] = []

    init(fs: TraceFS, name: String) {
        self.fs = fs
        self.name = name
    }

    mutating func run() -> Int {
        let bytes: [UInt8]
        do { bytes = try fs.read(name) } catch { fail("cannot read \(fs.path(name)): \(error)") }
        return split(bytes)
    }

    mutating func split(_ bytes: [UInt8]) -> Int {
        lines.removeAll(keepingCapacity: true)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < buffer.count {
                let found = memchr(base + start, 0x0A, buffer.count - start)
                let end = found.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? buffer.count
                lines.append(start..<end)
                start = end + 1
            }
        }
        return lines.count
    }
}

/// A private temporary directory (mkdtemp), removed with its files at the end.
final class TemporaryDirectory {
    let path: String
    private var files: [String] = []

    init() {
        var template = Array("/tmp/ftrace_exporter_bench.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            fail("mkdtemp failed (errno \(errno))")
        }
        path = String(cString: made)
    }

    /// Writes `bytes` to `name` in the directory, once.
    func store(_ name: String, _ bytes: [UInt8]) {
        let full = path + "/" + name
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { fail("cannot create \(full) (errno \(errno))") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                fail("cannot write \(full) (errno \(errno))")
            }
            offset += n
        }
        close(fd)
        if !files.contains(name) { files.append(name) }
    }

    func remove(_ name: String) {
        unlink(path + "/" + name)
        files.removeAll { $0 == name }
    }

    deinit {
        for name in files { unlink(path + "/" + name) }
        rmdir(path)
    }
}
