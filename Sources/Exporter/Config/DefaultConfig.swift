/// The configuration compiled into the binary, used when no `--config.file` is given.
/// It goes through the same loader as a file, so it is validated the same way.
public enum DefaultConfig {
    public static let fileName = "<embedded default config>"

    public static let yaml = """
        # ftrace_exporter's built-in configuration.
        tracefs:
          path: ""                  # auto-detect
          instance: ftrace_exporter # our private tracefs instance
        refresh_interval: 5s
        discovery:
          enabled: true
          series_limit: 10000
          pid_labels: false
          rescan_interval: 30s      # how often every event is checked for new hist tables
        lifecycle:
          on_start: adopt           # keep our triggers found after a crash; "clean" removes them first
          remove_on_exit: true      # SIGTERM/SIGINT remove what the exporter installed
          repair: false             # true: put back owned triggers removed or edited from outside
        trigger_sets:
          - name: wakeup_latency
            description: >-
              Scheduler wakeup latency: time from sched_waking of a task to the sched_switch that puts
              it on a CPU, per CPU. This is wakeup latency, not run-queue latency (runqlat also counts
              tasks that were preempted while runnable). Kernel: CONFIG_HIST_TRIGGERS and
              CONFIG_SYNTH_EVENTS, 4.17 or later; sched tracepoints. Overhead: two hist updates per
              wakeup and one per context switch; a wakeup-and-switch loop ran 1.26x (6.1) / 1.32x
              (6.12) as long under qemu (an upper bound), system calls 1.00x.
            install_on_start: true
            synthetic_events:
              - "ftrace_exporter_wakeup_lat u64 lat"
            triggers:
              - event: sched/sched_waking
                command: "hist:keys=pid:fte_wakeup_ts=common_timestamp.usecs:size=16384"
              - event: sched/sched_switch
                command: "hist:keys=next_pid:fte_wakeup_lat=common_timestamp.usecs-$fte_wakeup_ts:onmatch(sched.sched_waking).ftrace_exporter_wakeup_lat($fte_wakeup_lat):size=16384"
              - event: synthetic/ftrace_exporter_wakeup_lat
                command: "hist:keys=cpu,lat.log2:vals=hitcount,lat:size=8192"
                metric:
                  name: ftrace_wakeup_latency_seconds
                  help: Scheduler wakeup latency (sched_waking to sched_switch of the woken task), per CPU, from an in-kernel log2 histogram.
                  type: histogram
                  bucket_key: lat
                  scale: 0.000001
                  sum_value: lat
                  labels:
                    - key: cpu
                      name: cpu
                  series_limit: 8192

          - name: wakeup_latency_rt
            description: >-
              Wakeup latency of real-time tasks only (priority below 100: SCHED_FIFO/SCHED_RR), per
              CPU. Same mechanism as wakeup_latency, with filters on both events. Kernel: as
              wakeup_latency (CONFIG_HIST_TRIGGERS, CONFIG_SYNTH_EVENTS, 4.17 or later). Overhead: the
              filters run on every wakeup and switch, only RT wakeups are recorded; a
              wakeup-and-switch loop ran 1.11x (6.1) / 1.15x (6.12) as long under qemu (an upper
              bound), system calls 1.00x / 1.05x.
            install_on_start: false
            synthetic_events:
              - "ftrace_exporter_wakeup_rt_lat u64 lat"
            triggers:
              - event: sched/sched_waking
                command: "hist:keys=pid:fte_wakeup_rt_ts=common_timestamp.usecs:size=8192 if prio < 100"
              - event: sched/sched_switch
                command: "hist:keys=next_pid:fte_wakeup_rt_lat=common_timestamp.usecs-$fte_wakeup_rt_ts:onmatch(sched.sched_waking).ftrace_exporter_wakeup_rt_lat($fte_wakeup_rt_lat):size=8192 if next_prio < 100"
              - event: synthetic/ftrace_exporter_wakeup_rt_lat
                command: "hist:keys=cpu,lat.log2:vals=hitcount,lat:size=8192"
                metric:
                  name: ftrace_wakeup_latency_rt_seconds
                  help: Wakeup latency of real-time tasks (priority below 100), per CPU, from an in-kernel log2 histogram.
                  type: histogram
                  bucket_key: lat
                  scale: 0.000001
                  sum_value: lat
                  labels:
                    - key: cpu
                      name: cpu

          - name: wakeup_latency_by_cgroup
            description: >-
              Scheduler wakeup latency per cgroup v2: the time from sched_waking of a task to the
              sched_switch that puts it on a CPU, keyed by the cgroup of the task switched in, named
              by its path under cgroup_mount with the Kubernetes pod UID and container id the path
              gives. A tracepoint probe on sched_switch reads the cgroup id through BTF
              (next->cgroups->dfl_cgrp->kn->id). Kernel: CONFIG_HIST_TRIGGERS, CONFIG_SYNTH_EVENTS,
              CONFIG_FPROBE_EVENTS and CONFIG_PROBE_EVENTS_BTF_ARGS with BTF, 6.6 or later. Overhead:
              wakeup_latency's, the probe reading four pointers per context switch; a
              wakeup-and-switch loop ran 1.38x as long under qemu on 6.12 (wakeup_latency 1.43x in
              the same run; an upper bound), system calls 0.98x.
            install_on_start: false
            probe_events:
              - "t:ftrace_exporter_cg_switch sched_switch next_pid=next->pid:s32 cgroup=next->cgroups->dfl_cgrp->kn->id:u64"
            synthetic_events:
              - "ftrace_exporter_cg_wakeup_lat u64 lat; u64 cgroup"
            triggers:
              - event: sched/sched_waking
                command: "hist:keys=pid:fte_cg_ts=common_timestamp.usecs:size=16384"
              - event: tracepoints/ftrace_exporter_cg_switch
                command: "hist:keys=next_pid:fte_cg_lat=common_timestamp.usecs-$fte_cg_ts:onmatch(sched.sched_waking).ftrace_exporter_cg_wakeup_lat($fte_cg_lat,cgroup):size=16384"
              - event: synthetic/ftrace_exporter_cg_wakeup_lat
                command: "hist:keys=cgroup,lat.log2:vals=hitcount,lat:size=8192"
                metric:
                  name: ftrace_wakeup_latency_by_cgroup_seconds
                  help: Scheduler wakeup latency (sched_waking to sched_switch of the woken task) per cgroup v2, from an in-kernel log2 histogram.
                  type: histogram
                  bucket_key: lat
                  scale: 0.000001
                  sum_value: lat
                  labels:
                    - key: cgroup
                      name: cgroup
                      decode: cgroup
                  series_limit: 2000

          - name: syscall_latency
            description: >-
              System call latency (raw_syscalls sys_enter to sys_exit of the same thread) by syscall
              name, in nanoseconds. Kernel: CONFIG_HIST_TRIGGERS and CONFIG_SYNTH_EVENTS, 4.17 or
              later; the raw_syscalls tracepoints (CONFIG_HAVE_SYSCALL_TRACEPOINTS, set by the
              architecture). Overhead: three hist updates on every system call of the host; a trivial
              system call ran 7.57x (6.1) / 6.67x (6.12) as long under qemu (an upper bound), a
              wakeup-and-switch loop 1.64x / 1.66x. Install it to investigate, never leave it on.
            install_on_start: false
            max_duration: 1h          # every install is removed after at most an hour
            breaker:                  # removed when a table counts more than this for 30 s
              max_events_per_second: 500000
            synthetic_events:
              - "ftrace_exporter_syscall_lat u64 lat; long id"
            triggers:
              - event: raw_syscalls/sys_enter
                command: "hist:keys=common_pid:fte_sys_ts=common_timestamp:size=8192"
              - event: raw_syscalls/sys_exit
                command: "hist:keys=common_pid:fte_sys_lat=common_timestamp-$fte_sys_ts:onmatch(raw_syscalls.sys_enter).ftrace_exporter_syscall_lat($fte_sys_lat,id):size=8192"
              - event: synthetic/ftrace_exporter_syscall_lat
                command: "hist:keys=id.syscall,lat.log2:vals=hitcount,lat:size=32768"
                metric:
                  name: ftrace_syscall_latency_seconds
                  help: System call latency by syscall, from an in-kernel log2 histogram of nanoseconds.
                  type: histogram
                  bucket_key: lat
                  scale: 0.000000001
                  sum_value: lat
                  buckets: [0.000001024, 0.000004096, 0.000016384, 0.000065536, 0.000262144, 0.001048576, 0.004194304, 0.016777216, 0.067108864, 0.268435456, 1.073741824]
                  labels:
                    - key: id
                      name: syscall

          - name: block_io_latency
            description: >-
              Block I/O latency from block_rq_issue to block_rq_complete of the same request (matched
              on device and sector modulo 65536, a key that repeats: two requests in flight on one
              device whose sectors are 32 MiB apart are paired wrongly, see the README), per device
              as MAJOR:MINOR. Kernel: CONFIG_HIST_TRIGGERS and
              CONFIG_SYNTH_EVENTS, 4.17 or later; the block tracepoints (CONFIG_BLOCK). Overhead:
              three hist updates per request, negligible next to the I/O; workloads without I/O ran
              0.99x to 1.13x as long under qemu (an upper bound).
            install_on_start: false
            synthetic_events:
              - "ftrace_exporter_block_lat u64 lat; unsigned int dev"
            triggers:
              - event: block/block_rq_issue
                command: "hist:keys=dev,sector-sector/65536*65536:fte_blk_ts=common_timestamp.usecs:size=65536"
              - event: block/block_rq_complete
                command: "hist:keys=dev,sector-sector/65536*65536:fte_blk_lat=common_timestamp.usecs-$fte_blk_ts:onmatch(block.block_rq_issue).ftrace_exporter_block_lat($fte_blk_lat,dev):size=65536"
              - event: synthetic/ftrace_exporter_block_lat
                command: "hist:keys=dev,lat.log2:vals=hitcount,lat:size=4096"
                metric:
                  name: ftrace_block_io_latency_seconds
                  help: Block I/O latency (issue to completion) per device, from an in-kernel log2 histogram.
                  type: histogram
                  bucket_key: lat
                  scale: 0.000001
                  sum_value: lat
                  labels:
                    - key: dev
                      name: device
                      decode: device

          - name: irq_handler_duration
            description: >-
              Time spent in hard interrupt handlers (irq_handler_entry to irq_handler_exit), per IRQ
              number, in nanoseconds. Kernel: CONFIG_HIST_TRIGGERS and CONFIG_SYNTH_EVENTS, 4.17 or
              later; irq tracepoints. Overhead: three hist updates per interrupt; the benchmark
              workloads ran 1.02x to 1.13x as long under qemu (an upper bound).
            install_on_start: false
            synthetic_events:
              - "ftrace_exporter_irq_dur u64 dur; int irq"
            triggers:
              - event: irq/irq_handler_entry
                command: "hist:keys=irq:fte_irq_ts=common_timestamp:size=4096"
              - event: irq/irq_handler_exit
                command: "hist:keys=irq:fte_irq_dur=common_timestamp-$fte_irq_ts:onmatch(irq.irq_handler_entry).ftrace_exporter_irq_dur($fte_irq_dur,irq):size=4096"
              - event: synthetic/ftrace_exporter_irq_dur
                command: "hist:keys=irq,dur.log2:vals=hitcount,dur:size=8192"
                metric:
                  name: ftrace_irq_handler_duration_seconds
                  help: Hard IRQ handler duration per IRQ number, from an in-kernel log2 histogram of nanoseconds.
                  type: histogram
                  bucket_key: dur
                  scale: 0.000000001
                  sum_value: dur
                  buckets: [0.000000256, 0.000001024, 0.000004096, 0.000016384, 0.000065536, 0.000262144, 0.001048576, 0.004194304, 0.016777216]
                  labels:
                    - key: irq
                      name: irq

          - name: kmalloc_by_call_site
            description: >-
              kmalloc calls, requested and allocated bytes by calling function. Kernel:
              CONFIG_HIST_TRIGGERS; the kmem/kmalloc tracepoint. Overhead: a hist update on every
              kmalloc, one of the hottest events in the kernel (the benchmark workloads, which
              allocate little, ran 1.01x to 1.02x as long under qemu): install it to investigate, not
              permanently.
            install_on_start: false
            max_duration: 1h
            breaker:
              max_events_per_second: 500000
            triggers:
              - event: kmem/kmalloc
                command: "hist:keys=call_site.sym:vals=bytes_req,bytes_alloc:size=8192"
                metric:
                  name: ftrace_kmalloc
                  help: kmalloc calls by calling function.
                  type: counter
                  labels:
                    - key: call_site
                      name: function
                  values:
                    - column: hitcount
                      suffix: calls
                    - column: bytes_req
                      suffix: requested_bytes
                      help: Bytes requested from kmalloc, by calling function.
                    - column: bytes_alloc
                      suffix: allocated_bytes
                      help: Bytes kmalloc allocated (requested plus slab rounding), by calling function.

          - name: context_switches
            description: >-
              Context switches per CPU and state of the task switched out (R+ preempted, S sleeping, D
              uninterruptible, ...). Kernel: CONFIG_HIST_TRIGGERS; the sched_switch tracepoint.
              Overhead: one hist update per context switch; a wakeup-and-switch loop ran 1.20x (6.1) /
              1.21x (6.12) as long under qemu (an upper bound), system calls 0.97x to 1.02x.
            install_on_start: false
            triggers:
              - event: sched/sched_switch
                command: "hist:keys=cpu,prev_state:vals=hitcount:size=4096"
                metric:
                  name: ftrace_context_switches
                  help: Context switches by CPU and by the state the previous task left in.
                  type: counter
                  labels:
                    - key: cpu
                      name: cpu
                    - key: prev_state
                      name: prev_state
                      decode: task_state

          - name: syscall_errors
            description: >-
              Failed system calls by system call and error (ENOENT, EAGAIN, ...): the return value
              of raw_syscalls:sys_exit where it is negative. Kernel: CONFIG_HIST_TRIGGERS; the
              raw_syscalls tracepoints. Overhead: a filter on every system call's exit and one hist
              update per failed call, and every system call takes the kernel's slower tracing path
              while it is installed: a trivial system call ran 1.36x (6.1) / 1.38x (6.12) as long
              under qemu (an upper bound), a wakeup-and-switch loop 1.17x / 1.06x.
            install_on_start: false
            triggers:
              - event: raw_syscalls/sys_exit
                command: "hist:keys=id.syscall,ret:vals=hitcount:size=4096 if ret < 0"
                metric:
                  name: ftrace_syscall_errors
                  help: Failed system calls, by system call and error number.
                  type: counter
                  labels:
                    - key: id
                      name: syscall
                    - key: ret
                      name: errno
                      decode: errno

          - name: function_latency
            description: >-
              Latency of kernel functions, entry to return, per function: vfs_fsync_range (fsync and
              fdatasync) through a kprobe and a kretprobe paired per thread, in nanoseconds. Copy the
              set to measure another function (see the README). Kernel: CONFIG_HIST_TRIGGERS,
              CONFIG_SYNTH_EVENTS and CONFIG_KPROBE_EVENTS, 5.0 or later. Overhead: two probe hits and
              three hist updates per call of the function, nothing elsewhere; an fsync loop on tmpfs
              (where fsync itself does almost nothing) ran 2.64x (6.1) / 2.06x (6.12) as long under
              qemu (an upper bound), the other workloads 1.00x.
            install_on_start: false
            probe_events:
              - "p:ftrace_exporter_func_entry vfs_fsync_range"
              - "r:ftrace_exporter_func_return vfs_fsync_range"
            synthetic_events:
              - "ftrace_exporter_func_lat u64 lat; unsigned long func"
            triggers:
              - event: kprobes/ftrace_exporter_func_entry
                command: "hist:keys=common_pid:fte_func_ts=common_timestamp:size=8192"
              - event: kprobes/ftrace_exporter_func_return
                command: "hist:keys=common_pid:fte_func_lat=common_timestamp-$fte_func_ts:onmatch(kprobes.ftrace_exporter_func_entry).ftrace_exporter_func_lat($fte_func_lat,__probe_func):size=8192"
              - event: synthetic/ftrace_exporter_func_lat
                command: "hist:keys=func.sym,lat.log2:vals=hitcount,lat:size=4096"
                metric:
                  name: ftrace_function_latency_seconds
                  help: Kernel function latency (entry to return) per function, from an in-kernel log2 histogram of nanoseconds.
                  type: histogram
                  bucket_key: lat
                  scale: 0.000000001
                  sum_value: lat
                  buckets: [0.000000256, 0.000001024, 0.000004096, 0.000016384, 0.000065536, 0.000262144, 0.001048576, 0.004194304, 0.016777216, 0.067108864, 0.268435456, 1.073741824]
                  labels:
                    - key: func
                      name: function

          - name: offcpu_stacks
            description: >-
              Where tasks block: context switches of tasks that go to sleep (state S) or wait
              uninterruptibly (D), keyed by the kernel stack they block in. The stacks are served as
              flame graphs by /api/v1/tables/{id}/stacks; the metric counts them by state. Kernel:
              CONFIG_HIST_TRIGGERS and CONFIG_STACKTRACE; the sched_switch tracepoint. Overhead: a
              filter on every context switch and a stack walk and hist update per blocking one; a
              wakeup-and-switch loop ran 1.33x (6.1) / 1.28x (6.12) as long under qemu (an upper
              bound), system calls 1.06x / 0.97x.
            install_on_start: false
            triggers:
              - event: sched/sched_switch
                command: "hist:keys=stacktrace,prev_state:vals=hitcount:sort=hitcount.descending:size=8192 if prev_state & 3"
                metric:
                  name: ftrace_offcpu_switches
                  help: Context switches of tasks that block (sleeping S or uninterruptible D), by state; their stacks are at /api/v1/tables.
                  type: counter
                  labels:
                    - key: prev_state
                      name: prev_state
                      decode: task_state

          - name: offcpu_time_stacks
            description: >-
              Where tasks spend their time blocked: for every task that goes to sleep (S) or waits
              uninterruptibly (D), the time until it runs again, summed per kernel stack it blocked
              in, carried by a synthetic event. The stacks, weighted by time, are served as flame
              graphs by /api/v1/tables/{id}/stacks?value=delta; the metrics sum them. Kernel:
              CONFIG_HIST_TRIGGERS, CONFIG_SYNTH_EVENTS and CONFIG_STACKTRACE, 6.5 or later (stacks in
              synthetic events). Overhead: a filter and a stack walk per blocking switch and three
              hist updates per switch back; a wakeup-and-switch loop ran 1.64x (6.12) as long under
              qemu (an upper bound), system calls 0.99x.
            install_on_start: false
            synthetic_events:
              - "ftrace_exporter_offcpu_time u64 delta; unsigned long[] stack"
            triggers:
              - event: sched/sched_switch
                command: "hist:keys=prev_pid:fte_off_ts=common_timestamp.usecs,fte_off_st=common_stacktrace:size=8192 if prev_state & 3"
              - event: sched/sched_switch
                command: "hist:keys=next_pid:fte_off_delta=common_timestamp.usecs-$fte_off_ts,fte_off_s=$fte_off_st:onmatch(sched.sched_switch).ftrace_exporter_offcpu_time($fte_off_delta,$fte_off_s):size=8192"
              - event: synthetic/ftrace_exporter_offcpu_time
                command: "hist:keys=stack.stacktrace:vals=hitcount,delta:sort=delta.descending:size=4096"
                metric:
                  name: ftrace_offcpu
                  help: Blocking off-CPU intervals (sleeping S or uninterruptible D until the task runs again), summed over the stacks they blocked in.
                  type: counter
                  values:
                    - column: hitcount
                      suffix: intervals
                    - column: delta
                      suffix: seconds
                      scale: 0.000001
                      help: Time tasks spent blocked (S or D) until they ran again, summed over the stacks they blocked in.
        """

    public static func load() throws(ConfigError) -> ExporterConfig {
        try ConfigLoader.load(yaml: yaml, file: fileName)
    }
}
