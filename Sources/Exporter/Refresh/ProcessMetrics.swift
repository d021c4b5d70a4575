import Exposition
import Platform

/// The standard `process_*` families, read from /proc like client_golang's process collector.
enum ProcessMetrics {
    static func families() -> [MetricFamily] {
        var families: [MetricFamily] = []
        let status = ProcessStatus.current()
        if let seconds = status.cpuSeconds {
            families.append(gauge("process_cpu_seconds", "Total user and system CPU time spent in seconds.", .counter(seconds)))
        }
        if let bytes = status.virtualMemoryBytes {
            families.append(gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", .gauge(bytes)))
        }
        if let bytes = status.residentMemoryBytes {
            families.append(gauge("process_resident_memory_bytes", "Resident memory size in bytes.", .gauge(bytes)))
        }
        if let start = status.startTimeSeconds {
            families.append(gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", .gauge(start)))
        }
        if let fds = status.openDescriptors {
            families.append(gauge("process_open_fds", "Number of open file descriptors.", .gauge(Double(fds))))
        }
        if let limit = status.maximumDescriptors {
            families.append(gauge("process_max_fds", "Maximum number of open file descriptors.", .gauge(limit)))
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
}
