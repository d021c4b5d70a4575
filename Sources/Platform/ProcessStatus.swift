#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// This process's resources as the kernel reports them (/proc/self, getrlimit), the figures of
/// client_golang's process collector; nil where the kernel would not say.
public struct ProcessStatus: Sendable {
    public var cpuSeconds: Double?
    public var virtualMemoryBytes: Double?
    public var residentMemoryBytes: Double?
    public var startTimeSeconds: Double?
    public var openDescriptors: Int?
    public var maximumDescriptors: Double?

    public static func current() -> ProcessStatus {
        var status = ProcessStatus()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = readProcFile("/proc/self/stat"), let close = stat.lastIndex(of: ")") {
            // Fields after the command name, which may itself contain spaces and parentheses.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            func field(_ n: Int) -> Double? { n - 3 < fields.count ? Double(fields[n - 3]) : nil }
            if let utime = field(14), let stime = field(15) { status.cpuSeconds = (utime + stime) / ticks }
            status.virtualMemoryBytes = field(23)
            status.residentMemoryBytes = field(24).map { $0 * pageSize }
            if let start = field(22), let boot = bootTime() { status.startTimeSeconds = boot + start / ticks }
        }
        status.openDescriptors = openFileDescriptors()
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { status.maximumDescriptors = Double(limit.rlim_cur) }
        return status
    }

    static func bootTime() -> Double? {
        guard let stat = readProcFile("/proc/stat") else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6))
        }
        return nil
    }

    static func openFileDescriptors() -> Int? {
        guard let dir = opendir("/proc/self/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let first = withUnsafePointer(to: entry.pointee.d_name) { $0.withMemoryRebound(to: UInt8.self, capacity: 1) { $0.pointee } }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count - 1)  // the descriptor opendir itself holds
    }

    /// /proc/self/stat and /proc/stat are a few KiB.
    static func readProcFile(_ path: String) -> String? {
        (try? WholeFile.read(path, limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) }
    }
}
