/// What the scenarios know of each built-in trigger set: the family it exports, the synthetic
/// event whose table a latency set exports, load in the guest that makes it count, and churn
/// of new keys for its bookkeeping tables.
enum Presets {
    static func family(_ set: String) -> String? {
        switch set {
        case "wakeup_latency": "ftrace_wakeup_latency_seconds_count"
        case "wakeup_latency_rt": "ftrace_wakeup_latency_rt_seconds_count"
        case "wakeup_latency_by_cgroup": "ftrace_wakeup_latency_by_cgroup_seconds_count"
        case "syscall_latency": "ftrace_syscall_latency_seconds_count"
        case "block_io_latency": "ftrace_block_io_latency_seconds_count"
        case "irq_handler_duration": "ftrace_irq_handler_duration_seconds_count"
        case "kmalloc_by_call_site": "ftrace_kmalloc_calls_total"
        case "context_switches": "ftrace_context_switches_total"
        case "syscall_errors": "ftrace_syscall_errors_total"
        case "function_latency": "ftrace_function_latency_seconds_count"
        case "offcpu_stacks": "ftrace_offcpu_switches_total"
        case "offcpu_time_stacks": "ftrace_offcpu_intervals_total"
        default: nil
        }
    }

    /// Every family the set exports, where it is more than `family(_:)`'s one.
    static func families(_ set: String) -> [String] {
        switch set {
        case "offcpu_time_stacks": ["ftrace_offcpu_intervals_total", "ftrace_offcpu_seconds_total"]
        case "wakeup_latency_by_cgroup":
            ["_bucket", "_sum", "_count"].map { "ftrace_wakeup_latency_by_cgroup_seconds" + $0 }
                + ["ftrace_hist_unnamed_cgroup_entries", "ftrace_hist_carried_entries"]
        default: family(set).map { [$0] } ?? []
        }
    }

    static func syntheticEvent(_ set: String) -> String? {
        switch set {
        case "wakeup_latency": "ftrace_exporter_wakeup_lat"
        case "wakeup_latency_rt": "ftrace_exporter_wakeup_rt_lat"
        case "wakeup_latency_by_cgroup": "ftrace_exporter_cg_wakeup_lat"
        case "syscall_latency": "ftrace_exporter_syscall_lat"
        case "block_io_latency": "ftrace_exporter_block_lat"
        case "function_latency": "ftrace_exporter_func_lat"
        case "offcpu_time_stacks": "ftrace_exporter_offcpu_time"
        default: nil
        }
    }

    /// A guest shell command that makes the set count.
    static func load(_ set: String) -> String {
        switch set {
        // Moving a task between CPUs wakes the CPU stopper threads, which run SCHED_FIFO.
        case "wakeup_latency_rt": "for i in $(seq 100); do taskset -p 1 $$ >/dev/null; taskset -p 2 $$ >/dev/null; done"
        case "syscall_latency": "for i in $(seq 200); do cat /proc/version >/dev/null; done"
        case "block_io_latency":
            "for i in 1 2 3; do echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/nullb0 of=/dev/null bs=4096 count=500 2>/dev/null; done"
        case "irq_handler_duration": "for i in $(seq 50); do echo \"irq load $i\" > /dev/console; done"
        // openat of a file that does not exist: ENOENT (and the loop's status 1, hence true).
        case "syscall_errors": "for i in $(seq 100); do cat /nonexistent-ftrace-exporter 2>/dev/null; done; true"
        // dd's conv=fsync ends with fsync(2): vfs_fsync_range.
        case "function_latency": "for i in $(seq 30); do dd if=/dev/zero of=/tmp/fsync-load bs=4096 count=1 conv=fsync 2>/dev/null; done"
        // Each sleep blocks in state S.
        case "offcpu_stacks", "offcpu_time_stacks": "for i in $(seq 30); do sleep 0.01; done"
        default: "for i in $(seq 100); do echo x | cat >/dev/null; done"
        }
    }

    /// The latency sets, whose bookkeeping tables (keyed by pid, or device and sector) the kernel
    /// never empties: the exporter rotates them.
    static let churned = ["wakeup_latency", "wakeup_latency_rt", "syscall_latency", "block_io_latency"]

    /// A guest command that brings `keys` new keys to the set's bookkeeping tables.
    static func churn(_ set: String, keys: Int) -> String {
        switch set {
        // New threads are paced to what rotation keeps up with under emulation, where the kernel
        // takes 8-14 s to print a 16384-entry table (real hardware: milliseconds), and slower still
        // with syscall_latency, which makes every system call in the guest several times slower.
        case "wakeup_latency": "churn threads \(keys) --rate 400"
        case "wakeup_latency_rt": "churn threads \(keys) --fifo --rate 250"
        case "syscall_latency": "churn threads \(keys) --rate 150"
        default: "churn sectors \(keys) /dev/nullb0"
        }
    }
}
