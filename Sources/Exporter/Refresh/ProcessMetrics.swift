import Exposition
import Platform

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The standard `process_*` families, read from /proc like client_golang's process collector.
enum ProcessMetrics {
    static func families() -> [MetricFamily] {
        var families: [MetricFamily] = []
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = readProcFile("/proc/self/stat"), let close = stat.lastIndex(of: ")") {
            // Fields after the command name, which may itself contain spaces and parentheses.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            func field(_ n: Int) -> Double? { n - 3 < fields.count ? Double(fields[n - 3]) : nil }
            if let utime = field(14), let stime = field(15) {
                families.append(gauge("process_cpu_seconds", "Total user and system CPU time spent in seconds.", .counter((utime + stime) / ticks)))
            }
            if let vsize = field(23) {
                families.append(gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", .gauge(vsize)))
            }
            if let rss = field(24) {
                families.append(gauge("process_resident_memory_bytes", "Resident memory size in bytes.", .gauge(rss * pageSize)))
            }
            if let start = field(22), let boot = bootTime() {
                families.append(gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", .gauge(boot + start / ticks)))
            }
        }
        if let fds = openFileDescriptors() {
            families.append(gauge("process_open_fds", "Number of open file descriptors.", .gauge(Double(fds))))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            families.append(gauge("process_max_fds", "Maximum number of open file descriptors.", .gauge(Double(limit.rlim_cur))))
        }
        // Resident memory also counts what the allocator keeps after a large table is freed;
        // the bytes in use are what a leak would grow.
        if let heap = Heap.statistics() {
            families.append(gauge(
                "ftrace_exporter_heap_in_use_bytes", "Bytes of allocations in use (glibc mallinfo2: uordblks + hblkhd).",
                .gauge(Double(heap.inUse))))
            families.append(gauge(
                "ftrace_exporter_heap_held_bytes", "Bytes the allocator holds from the kernel, in use or free for reuse (glibc mallinfo2: arena + hblkhd).",
                .gauge(Double(heap.held))))
        }
        return families
    }

    static func gauge(_ name: String, _ help: String, _ value: MetricValue) -> MetricFamily {
        if case .counter = value { return MetricFamily(name: name, help: help, type: .counter, metrics: [Metric(labels: [], value: value)]) }
        return MetricFamily(name: name, help: help, type: .gauge, metrics: [Metric(labels: [], value: value)])
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
