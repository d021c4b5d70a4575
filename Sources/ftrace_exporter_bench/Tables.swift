/// Hist files in the kernel's exact rendering (hist-format.md §2), generated from a fixed
/// seed: the same bytes on every run.
enum Shape: String, CaseIterable {
    /// `common_pid.execname,call_site.sym` with `bytes_req`, `bytes_alloc` (kmem/kmalloc).
    case a
    /// `cpu,lat.log2` with `hitcount`, `lat`: the wakeup-latency table of the built-in set.
    case b
    /// `stacktrace` keys of 6 to 16 frames (sched/sched_switch).
    case c

    var title: String {
        switch self {
        case .a: return "(a) kmem/kmalloc keys=common_pid.execname,call_site.sym vals=bytes_req,bytes_alloc"
        case .b: return "(b) synthetic wakeup_lat keys=cpu,lat.log2 vals=hitcount,lat"
        case .c: return "(c) sched/sched_switch keys=stacktrace (6-16 frames)"
        }
    }

    var event: (system: String, event: String) {
        switch self {
        case .a: return ("kmem", "kmalloc")
        case .b: return ("synthetic", "ftrace_exporter_wakeup_lat")
        case .c: return ("sched", "sched_switch")
        }
    }
}

struct GeneratedTable {
    var shape: Shape
    var entries: Int
    var bytes: [UInt8]
}

enum TableGenerator {
    static func make(_ shape: Shape, entries: Int) -> GeneratedTable {
        let bytes: [UInt8]
        switch shape {
        case .a: bytes = kmalloc(entries)
        case .b: bytes = latency(entries)
        case .c: bytes = stacks(entries)
        }
        return GeneratedTable(shape: shape, entries: entries, bytes: bytes)
    }

    /// `hist_trigger_show()`: header, entries, `Totals`.
    private static func block(info: String, entries: Int, hits: UInt64, body: (inout [UInt8]) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        out.put("# event histogram\n#\n# trigger info: ")
        out.put(info)
        out.put(" [active]\n#\n\n")
        body(&out)
        out.put("\nTotals:\n    Hits: ")
        out.putDecimal(hits)
        out.put("\n    Entries: ")
        out.putDecimal(UInt64(entries))
        out.put("\n    Dropped: 0\n")
        return out
    }

    /// A skewed hitcount: most entries are rare, a few are hot, as in real tables.
    private static func hitcount(_ rng: inout SplitMix64) -> UInt64 {
        let magnitude = UInt64(rng.below(20))
        return 1 + rng.next() % (UInt64(1) << magnitude)
    }

    // MARK: (a) kmalloc by task and call site

    /// `"%s: %-16s[%10llu]"` then `"%s: [%llx] %-45ps"`; 16 call sites per task.
    static func kmalloc(_ n: Int) -> [UInt8] {
        var rng = SplitMix64(seed: 0xA11C)
        struct Site { var address: UInt64; var symbol: String }
        var sites: [Site] = []
        for _ in 0..<1024 {
            let name = rng.pick(kmallocCallers)
            if rng.below(8) == 0 {
                sites.append(Site(address: 0xffff_ffff_c000_0000 + rng.next() % 0x0200_0000, symbol: name + " [" + rng.pick(modules) + "]"))
            } else {
                sites.append(Site(address: 0xffff_ffff_8100_0000 + rng.next() % 0x0100_0000, symbol: name))
            }
        }
        struct Entry { var comm: String; var pid: UInt64; var site: Int; var hits: UInt64; var req: UInt64; var alloc: UInt64 }
        var entries: [Entry] = []
        entries.reserveCapacity(n)
        var group = 0
        while entries.count < n {
            let pid = UInt64(1 + group * 3 + rng.below(3))
            let comm = rng.pick(comms)
            let start = rng.below(sites.count)
            for j in 0..<16 where entries.count < n {
                let hits = hitcount(&rng)
                let slab = rng.pick(slabSizes)
                let requested = UInt64(1 + rng.below(slab))
                entries.append(Entry(comm: comm, pid: pid, site: (start + j * 61) % sites.count, hits: hits,
                                     req: hits * requested, alloc: hits * UInt64(slab)))
            }
            group += 1
        }
        entries.sort { $0.hits < $1.hits }  // sort=hitcount (ascending, the default)
        let hits = entries.reduce(0) { $0 + $1.hits }
        let info = "hist:keys=common_pid.execname,call_site.sym:vals=hitcount,bytes_req,bytes_alloc:sort=hitcount:size=\(n)"
        return block(info: info, entries: n, hits: hits) { out in
            out.reserveCapacity(n * 170)
            for e in entries {
                out.put("{ common_pid: ")
                out.putLeft(e.comm, width: 16)
                out.put("[")
                out.putDecimal(e.pid, width: 10)
                out.put("], call_site: [")
                out.putHex(sites[e.site].address)
                out.put("] ")
                out.putLeft(sites[e.site].symbol, width: 45)
                out.put(" } hitcount: ")
                out.putDecimal(e.hits, width: 10)
                out.put("  bytes_req: ")
                out.putDecimal(e.req, width: 10)
                out.put("  bytes_alloc: ")
                out.putDecimal(e.alloc, width: 10)
                out.put("\n")
            }
        }
    }

    // MARK: (b) latency per CPU, log2 buckets

    /// `"%s: %10llu"` then `"%s: ~ 2^%-2llu"`; every CPU has all 32 exponents, so 131072
    /// entries are CPUs 0..4095 times exponents 0..31.
    static func latency(_ n: Int) -> [UInt8] {
        var rng = SplitMix64(seed: 0xB10C)
        let cpus = max(1, n / 32)
        struct Entry { var cpu: UInt64; var exponent: UInt64; var hits: UInt64; var sum: UInt64 }
        var entries: [Entry] = []
        entries.reserveCapacity(n)
        for cpu in 0..<cpus {
            for exponent in 0..<32 where entries.count < n {
                let hits = hitcount(&rng)
                // A value in the bucket (2^(k-1), 2^k]; bucket 0 holds 0 and 1.
                let low: UInt64 = exponent == 0 ? 0 : (UInt64(1) << (exponent - 1)) + 1
                let high = UInt64(1) << exponent
                let typical = low + rng.next() % (high - low + 1)
                entries.append(Entry(cpu: UInt64(cpu), exponent: UInt64(exponent), hits: hits, sum: hits &* typical))
            }
        }
        entries.sort { $0.hits < $1.hits }
        let hits = entries.reduce(0) { $0 + $1.hits }
        let info = "hist:keys=common_cpu,lat.log2:vals=hitcount,lat:sort=hitcount:size=\(n)"
        return block(info: info, entries: entries.count, hits: hits) { out in
            out.reserveCapacity(n * 64)
            for e in entries {
                out.put("{ cpu: ")  // the name the user typed (`cpu`), not common_cpu (§2.3)
                out.putDecimal(e.cpu, width: 10)
                out.put(", lat: ~ 2^")
                out.putLeft(String(e.exponent), width: 2)
                out.put(" } hitcount: ")
                out.putDecimal(e.hits, width: 10)
                out.put("  lat: ")
                out.putDecimal(e.sum, width: 10)
                out.put("\n")
            }
        }
    }

    // MARK: (c) stack traces

    /// `"stacktrace:\n"`, then per frame 9 spaces and `%pS`, then `"} hitcount:"` at the
    /// start of the next line (a multi-line key drops the space before `}`).
    static func stacks(_ n: Int) -> [UInt8] {
        var rng = SplitMix64(seed: 0x57AC)
        var frames: [String] = []
        for _ in 0..<4096 {
            let size = 0x40 + rng.below(0x2000)
            var text = rng.pick(kernelFunctions) + "+0x" + String(rng.below(size), radix: 16) + "/0x" + String(size, radix: 16)
            if rng.below(10) == 0 { text += " [" + rng.pick(modules) + "]" }
            frames.append(text)
        }
        let leaves = ["__schedule+0x4f8/0xa00", "__schedule+0x8fc/0x1070", "preempt_schedule_common+0x2d/0x70"]
        struct Entry { var frames: [Int32]; var leaf: Int; var hits: UInt64 }
        var entries: [Entry] = []
        entries.reserveCapacity(n)
        for _ in 0..<n {
            let depth = 6 + rng.below(11)
            var stack: [Int32] = []
            for _ in 1..<depth { stack.append(Int32(rng.below(frames.count))) }
            entries.append(Entry(frames: stack, leaf: rng.below(leaves.count), hits: hitcount(&rng)))
        }
        entries.sort { $0.hits < $1.hits }
        let hits = entries.reduce(0) { $0 + $1.hits }
        let info = "hist:keys=stacktrace:vals=hitcount:sort=hitcount:size=\(n)"
        return block(info: info, entries: n, hits: hits) { out in
            out.reserveCapacity(n * 500)
            for e in entries {
                out.put("{ stacktrace:\n         ")
                out.put(leaves[e.leaf])
                out.put("\n")
                for f in e.frames {
                    out.put("         ")
                    out.put(frames[Int(f)])
                    out.put("\n")
                }
                out.put("} hitcount: ")
                out.putDecimal(e.hits, width: 10)
                out.put("\n")
            }
        }
    }

    // MARK: Vocabulary

    static let comms = [
        "init", "systemd", "systemd-journal", "systemd-udevd", "kworker/0:1", "kworker/1:2", "kworker/u4:3",
        "ksoftirqd/0", "ksoftirqd/1", "rcu_preempt", "kswapd0", "jbd2/vda1-8", "sshd", "bash", "sh", "cc1",
        "ld", "make", "python3", "postgres", "nginx", "containerd", "dockerd", "irqbalance", "chronyd",
        "java", "node", "swift-frontend", "git", "grep", "cat", "sed", "rsyslogd", "cron", "dbus-daemon",
        "NetworkManager", "snapd", "modprobe", "find", "tar", "gzip", "<idle>",
    ]

    static let modules = ["ext4", "xfs", "nf_conntrack", "nf_tables", "kvm", "virtio_net", "btrfs", "overlay", "bridge"]

    static let slabSizes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]

    static let kmallocCallers = [
        "seq_read_iter", "single_open", "alloc_pipe_info", "load_elf_phdrs", "alloc_bprm", "proc_pid_readlink",
        "tomoyo_find_next_domain", "tomoyo_realpath_from_path", "tomoyo_init_request_info", "kernfs_fop_open",
        "__alloc_skb", "kmalloc_reserve", "sk_prot_alloc", "inet_create", "sock_alloc_inode", "alloc_fdtable",
        "dup_fd", "copy_process", "mm_alloc", "vm_area_alloc", "vm_area_dup", "anon_vma_fork", "security_file_alloc",
        "apparmor_file_alloc_security", "load_elf_binary", "bprm_execve", "do_sys_openat2", "getname_flags",
        "path_openat", "alloc_empty_file", "__d_alloc", "ext4_htree_store_dirent", "ext4_ext_find_extent",
        "ext4_mb_new_blocks", "xfs_iext_insert", "bio_alloc_bioset", "blk_mq_alloc_request", "sg_alloc_table",
        "kvmalloc_node", "__kmalloc_node_track_caller", "kstrdup", "kstrdup_const", "kmemdup", "memdup_user",
        "strndup_user", "netlink_sendmsg", "rtnl_newlink", "nf_ct_ext_add", "nft_trans_alloc_gfp",
        "bpf_prog_alloc_no_stats", "perf_event_alloc", "tty_buffer_alloc", "input_alloc_absinfo",
        "acpi_ut_allocate_object_desc_dbg", "drm_atomic_state_alloc", "virtqueue_add_split", "cgroup_mkdir",
        "css_create", "kernfs_new_node", "simple_xattr_alloc", "fsnotify_alloc_group", "inotify_handle_inode_event",
        "epoll_create1", "ep_insert", "eventfd_ctx_fileget", "timerfd_create", "signalfd4", "io_uring_setup",
        "io_ring_ctx_alloc", "audit_log_start", "key_alloc", "crypto_create_tfm_node", "__register_sysctl_table",
    ]

    static let kernelFunctions = [
        "schedule", "schedule_timeout", "schedule_hrtimeout_range_clock", "do_nanosleep", "hrtimer_nanosleep",
        "__x64_sys_nanosleep", "do_syscall_64", "entry_SYSCALL_64_after_hwframe", "schedule_idle", "do_idle",
        "cpu_startup_entry", "start_secondary", "secondary_startup_64_no_verify", "rest_init", "start_kernel",
        "arch_call_rest_init", "rcu_gp_fqs_loop", "rcu_gp_kthread", "kthread", "ret_from_fork", "worker_thread",
        "smpboot_thread_fn", "do_wait", "kernel_wait4", "__do_sys_wait4", "pipe_read", "pipe_write", "vfs_read",
        "vfs_write", "ksys_read", "ksys_write", "do_task_dead", "do_exit", "do_group_exit", "__x64_sys_exit_group",
        "exit_to_user_mode_prepare", "irqentry_exit_to_user_mode", "asm_sysvec_apic_timer_interrupt",
        "futex_wait_queue", "futex_wait", "do_futex", "__x64_sys_futex", "ep_poll", "do_epoll_wait",
        "__x64_sys_epoll_wait", "do_sys_poll", "__x64_sys_poll", "do_select", "core_sys_select",
        "__x64_sys_pselect6", "unix_stream_read_generic", "unix_stream_recvmsg", "sock_recvmsg", "____sys_recvmsg",
        "___sys_recvmsg", "__sys_recvmsg", "tcp_recvmsg_locked", "tcp_recvmsg", "inet_recvmsg", "sk_wait_data",
        "wait_woken", "io_schedule", "folio_wait_bit_common", "filemap_get_pages", "filemap_read",
        "ext4_file_read_iter", "blk_mq_get_tag", "__blk_mq_alloc_requests", "blk_mq_submit_bio",
        "submit_bio_noacct_nocheck", "jbd2_journal_commit_transaction", "kjournald2", "rwsem_down_read_slowpath",
        "down_read", "rwsem_down_write_slowpath", "down_write", "mutex_lock", "__mutex_lock", "__mutex_lock_slowpath",
        "percpu_rwsem_wait", "__percpu_down_read", "synchronize_rcu_expedited", "wait_for_completion",
        "__flush_work", "flush_work", "msleep", "usleep_range_state", "virtnet_poll", "__napi_poll",
        "net_rx_action", "__do_softirq", "run_ksoftirqd", "irq_exit_rcu", "sysvec_apic_timer_interrupt",
        "preempt_schedule_irq", "preempt_schedule_thunk", "cond_resched", "__cond_resched", "shrink_node",
        "balance_pgdat", "kswapd", "try_to_free_pages", "__alloc_pages_slowpath", "__alloc_pages",
        "alloc_pages_vma", "do_anonymous_page", "__handle_mm_fault", "handle_mm_fault", "do_user_addr_fault",
        "exc_page_fault", "asm_exc_page_fault", "copy_user_generic_string", "_copy_to_user", "cp_new_stat",
        "__do_sys_newfstatat", "do_sys_openat2", "__x64_sys_openat", "path_openat", "do_filp_open",
        "lookup_fast", "walk_component", "link_path_walk", "ext4_lookup", "xfs_ilock", "xfs_file_buffered_write",
        "btrfs_tree_read_lock", "btrfs_search_slot", "nf_conntrack_in", "nf_hook_slow", "ip_rcv", "kvm_vcpu_block",
        "kvm_vcpu_halt", "vcpu_run", "kvm_arch_vcpu_ioctl_run", "kvm_vcpu_ioctl", "__x64_sys_ioctl",
    ]
}
