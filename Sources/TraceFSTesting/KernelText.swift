// The text of the kernel's own files, as Debian 6.1.0-56 (6.1.192) prints them.

enum KernelText {
    /// What a README line needs to be printed.
    enum ReadmeFeature { case errorLog, syntheticEvents, histTriggers }

    /// The README, cut where a kernel without one of the features prints less.
    static let readme: [(feature: ReadmeFeature?, text: String)] = [
        (nil, ##"""
tracing mini-HOWTO:

# echo 0 > tracing_on : quick way to disable tracing
# echo 1 > tracing_on : quick way to re-enable tracing

 Important files:
  trace			- The static contents of the buffer
			  To clear the buffer write into this file: echo > trace
  trace_pipe		- A consuming read to see the contents of the buffer
  current_tracer	- function and latency tracers
  available_tracers	- list of configured tracers for current_tracer

"""##),
        (.errorLog, ##"""
  error_log	- error log for failed commands (that support it)

"""##),
        (nil, ##"""
  buffer_size_kb	- view and modify size of per cpu buffer
  buffer_total_size_kb  - view total size of all cpu buffers

  trace_clock		- change the clock used to order events
       local:   Per cpu clock but may not be synced across CPUs
      global:   Synced across CPUs but slows tracing down.
     counter:   Not a clock, but just an increment
      uptime:   Jiffy counter from time of boot
        perf:   Same clock that perf events use
     x86-tsc:   TSC cycle counter

  timestamp_mode	- view the mode used to timestamp events
       delta:   Delta difference against a buffer-wide timestamp
    absolute:   Absolute (standalone) timestamp

  trace_marker		- Writes into this file writes into the kernel buffer

  trace_marker_raw		- Writes into this file writes binary data into the kernel buffer
  tracing_cpumask	- Limit which CPUs to trace
  instances		- Make sub-buffers with: mkdir instances/foo
			  Remove sub-buffer with rmdir
  trace_options		- Set format or modify how tracing happens
			  Disable an option by prefixing 'no' to the
			  option name
  saved_cmdlines_size	- echo command number in here to store comm-pid list

  available_filter_functions - list of functions that can be filtered on
  set_ftrace_filter	- echo function name in here to only trace these
			  functions
	     accepts: func_full_name or glob-matching-pattern
	     modules: Can select a group via module
	      Format: :mod:<module-name>
	     example: echo :mod:ext3 > set_ftrace_filter
	    triggers: a command to perform when function is hit
	      Format: <function>:<trigger>[:count]
	     trigger: traceon, traceoff
		      enable_event:<system>:<event>
		      disable_event:<system>:<event>
		      stacktrace
		      snapshot
		      dump
		      cpudump
	     example: echo do_fault:traceoff > set_ftrace_filter
	              echo do_trap:traceoff:3 > set_ftrace_filter
	     The first one will disable tracing every time do_fault is hit
	     The second will disable tracing at most 3 times when do_trap is hit
	       The first time do trap is hit and it disables tracing, the
	       counter will decrement to 2. If tracing is already disabled,
	       the counter will not decrement. It only decrements when the
	       trigger did work
	     To remove trigger without count:
	       echo '!<function>:<trigger> > set_ftrace_filter
	     To remove trigger with a count:
	       echo '!<function>:<trigger>:0 > set_ftrace_filter
  set_ftrace_notrace	- echo function name in here to never trace.
	    accepts: func_full_name, *func_end, func_begin*, *func_middle*
	    modules: Can select a group via module command :mod:
	    Does not accept triggers
  set_ftrace_pid	- Write pid(s) to only function trace those pids
		    (function)
  set_ftrace_notrace_pid	- Write pid(s) to not function trace those pids
		    (function)
  set_graph_function	- Trace the nested calls of a function (function_graph)
  set_graph_notrace	- Do not trace the nested calls of a function (function_graph)
  max_graph_depth	- Trace a limited depth of nested calls (0 is unlimited)

  snapshot		- Like 'trace' but shows the content of the static
			  snapshot buffer. Read the contents for more
			  information
  stack_trace		- Shows the max stack trace when active
  stack_max_size	- Shows current max stack size that was traced
			  Write into this file to reset the max size (trigger a
			  new trace)
  stack_trace_filter	- Like set_ftrace_filter but limits what stack_trace
			  traces
  dynamic_events		- Create/append/remove/show the generic dynamic events
			  Write into this file to define/undefine new trace events.
  kprobe_events		- Create/append/remove/show the kernel dynamic events
			  Write into this file to define/undefine new trace events.
  uprobe_events		- Create/append/remove/show the userspace dynamic events
			  Write into this file to define/undefine new trace events.
	  accepts: event-definitions (one definition per line)
	   Format: p[:[<group>/][<event>]] <place> [<args>]
	           r[maxactive][:[<group>/][<event>]] <place> [<args>]

"""##),
        (.syntheticEvents, ##"""
	           s:[synthetic/]<event> <field> [<field>]

"""##),
        (nil, ##"""
	           e[:[<group>/][<event>]] <attached-group>.<attached-event> [<args>] [if <filter>]
	           -:[<group>/][<event>]
	    place: [<module>:]<symbol>[+<offset>]|<memaddr>
place (kretprobe): [<module>:]<symbol>[+<offset>]%return|<memaddr>
   place (uprobe): <path>:<offset>[%return][(ref_ctr_offset)]
	     args: <name>=fetcharg[:type]
	 fetcharg: (%<register>|$<efield>), @<address>, @<symbol>[+|-<offset>],
	           $stack<index>, $stack, $retval, $comm, $arg<N>,
	           +|-[u]<offset>(<fetcharg>), \imm-value, \"imm-string"
	     type: s8/16/32/64, u8/16/32/64, x8/16/32/64, string, symbol,
	           b<bit-width>@<bit-offset>/<container-size>, ustring,
	           symstr, <type>\[<array-size>\]

"""##),
        (.syntheticEvents, ##"""
	    field: <stype> <name>;
	    stype: u8/u16/u32/u64, s8/s16/s32/s64, pid_t,
	           [unsigned] char/int/long

"""##),
        (nil, ##"""
	    efield: For event probes ('e' types), the field is on of the fields
	            of the <attached-group>/<attached-event>.
  events/		- Directory containing all trace event subsystems:
      enable		- Write 0/1 to enable/disable tracing of all events
  events/<system>/	- Directory containing all trace events for <system>:
      enable		- Write 0/1 to enable/disable tracing of all <system>
			  events
      filter		- If set, only events passing filter are traced
  events/<system>/<event>/	- Directory containing control files for
			  <event>:
      enable		- Write 0/1 to enable/disable tracing of <event>
      filter		- If set, only events passing filter are traced
      trigger		- If set, a command to perform when event is hit
	    Format: <trigger>[:count][if <filter>]
	   trigger: traceon, traceoff
	            enable_event:<system>:<event>
	            disable_event:<system>:<event>

"""##),
        (.histTriggers, ##"""
	            enable_hist:<system>:<event>
	            disable_hist:<system>:<event>

"""##),
        (nil, ##"""
		    stacktrace
		    snapshot

"""##),
        (.histTriggers, ##"""
		    hist (see below)

"""##),
        (nil, ##"""
	   example: echo traceoff > events/block/block_unplug/trigger
	            echo traceoff:3 > events/block/block_unplug/trigger
	            echo 'enable_event:kmem:kmalloc:3 if nr_rq > 1' > \
	                  events/block/block_unplug/trigger
	   The first disables tracing every time block_unplug is hit.
	   The second disables tracing the first 3 times block_unplug is hit.
	   The third enables the kmalloc event the first 3 times block_unplug
	     is hit and has value of greater than 1 for the 'nr_rq' event field.
	   Like function triggers, the counter is only decremented if it
	    enabled or disabled tracing.
	   To remove a trigger without a count:
	     echo '!<trigger> > <system>/<event>/trigger
	   To remove a trigger with a count:
	     echo '!<trigger>:0 > <system>/<event>/trigger
	   Filters can be ignored when removing a trigger.

"""##),
        (.histTriggers, ##"""
      hist trigger	- If set, event hits are aggregated into a hash table
	    Format: hist:keys=<field1[,field2,...]>
	            [:<var1>=<field|var_ref|numeric_literal>[,<var2>=...]]
	            [:values=<field1[,field2,...]>]
	            [:sort=<field1[,field2,...]>]
	            [:size=#entries]
	            [:pause][:continue][:clear]
	            [:name=histname1]
	            [:<handler>.<action>]
	            [if <filter>]

	    Note, special fields can be used as well:
	            common_timestamp - to record current timestamp
	            common_cpu - to record the CPU the event happened on

	    A hist trigger variable can be:
	        - a reference to a field e.g. x=current_timestamp,
	        - a reference to another variable e.g. y=$x,
	        - a numeric literal: e.g. ms_per_sec=1000,
	        - an arithmetic expression: e.g. time_secs=current_timestamp/1000

	    hist trigger arithmetic expressions support addition(+), subtraction(-),
	    multiplication(*) and division(/) operators. An operand can be either a
	    variable reference, field or numeric literal.

	    When a matching event is hit, an entry is added to a hash
	    table using the key(s) and value(s) named, and the value of a
	    sum called 'hitcount' is incremented.  Keys and values
	    correspond to fields in the event's format description.  Keys
	    can be any field, or the special string 'stacktrace'.
	    Compound keys consisting of up to two fields can be specified
	    by the 'keys' keyword.  Values must correspond to numeric
	    fields.  Sort keys consisting of up to two fields can be
	    specified using the 'sort' keyword.  The sort direction can
	    be modified by appending '.descending' or '.ascending' to a
	    sort field.  The 'size' parameter can be used to specify more
	    or fewer than the default 2048 entries for the hashtable size.
	    If a hist trigger is given a name using the 'name' parameter,
	    its histogram data will be shared with other triggers of the
	    same name, and trigger hits will update this common data.

	    Reading the 'hist' file for the event will dump the hash
	    table in its entirety to stdout.  If there are multiple hist
	    triggers attached to an event, there will be a table for each
	    trigger in the output.  The table displayed for a named
	    trigger will be the same as any other instance having the
	    same name.  The default format used to display a given field
	    can be modified by appending any of the following modifiers
	    to the field name, as applicable:

	            .hex        display a number as a hex value
	            .sym        display an address as a symbol
	            .sym-offset display an address as a symbol and offset
	            .execname   display a common_pid as a program name
	            .syscall    display a syscall id as a syscall name
	            .log2       display log2 value rather than raw number
	            .buckets=size  display values in groups of size rather than raw number
	            .usecs      display a common_timestamp in microseconds
	            .percent    display a number of percentage value
	            .graph      display a bar-graph of a value

	    The 'pause' parameter can be used to pause an existing hist
	    trigger or to start a hist trigger but not log any events
	    until told to do so.  'continue' can be used to start or
	    restart a paused hist trigger.

	    The 'clear' parameter will clear the contents of a running
	    hist trigger and leave its current paused/active state
	    unchanged.

	    The enable_hist and disable_hist triggers can be used to
	    have one event conditionally start and stop another event's
	    already-attached hist trigger.  The syntax is analogous to
	    the enable_event and disable_event triggers.

	    Hist trigger handlers and actions are executed whenever a
	    a histogram entry is added or updated.  They take the form:

	        <handler>.<action>

	    The available handlers are:

	        onmatch(matching.event)  - invoke on addition or update
	        onmax(var)               - invoke if var exceeds current max
	        onchange(var)            - invoke action if var changes

	    The available actions are:

	        trace(<synthetic_event>,param list)  - generate synthetic event
	        save(field,...)                      - save current event fields
	        snapshot()                           - snapshot the trace buffer


"""##),
        (.syntheticEvents, ##"""
  events/synthetic_events	- Create/append/remove/show synthetic events
	  Write into this file to define/undefine new synthetic events.
	     example: echo 'myevent u64 lat; char name[]' >> synthetic_events

"""##),
    ]

    /// Real 6.1 `format` files, by `system/event`.
    static let formats: [String: String] = [
        "sched/sched_waking": ##"""
name: sched_waking
ID: 317
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char comm[16];	offset:8;	size:16;	signed:1;
	field:pid_t pid;	offset:24;	size:4;	signed:1;
	field:int prio;	offset:28;	size:4;	signed:1;
	field:int target_cpu;	offset:32;	size:4;	signed:1;

print fmt: "comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu

"""##,
        "sched/sched_switch": ##"""
name: sched_switch
ID: 314
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char prev_comm[16];	offset:8;	size:16;	signed:1;
	field:pid_t prev_pid;	offset:24;	size:4;	signed:1;
	field:int prev_prio;	offset:28;	size:4;	signed:1;
	field:long prev_state;	offset:32;	size:8;	signed:1;
	field:char next_comm[16];	offset:40;	size:16;	signed:1;
	field:pid_t next_pid;	offset:56;	size:4;	signed:1;
	field:int next_prio;	offset:60;	size:4;	signed:1;

print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), "|", { 0x00000001, "S" }, { 0x00000002, "D" }, { 0x00000004, "T" }, { 0x00000008, "t" }, { 0x00000010, "X" }, { 0x00000020, "Z" }, { 0x00000040, "P" }, { 0x00000080, "I" }) : "R", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio

"""##,
        "sched/sched_wakeup": ##"""
name: sched_wakeup
ID: 316
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char comm[16];	offset:8;	size:16;	signed:1;
	field:pid_t pid;	offset:24;	size:4;	signed:1;
	field:int prio;	offset:28;	size:4;	signed:1;
	field:int target_cpu;	offset:32;	size:4;	signed:1;

print fmt: "comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu

"""##,
        "sched/sched_process_exec": ##"""
name: sched_process_exec
ID: 307
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] filename;	offset:8;	size:4;	signed:1;
	field:pid_t pid;	offset:12;	size:4;	signed:1;
	field:pid_t old_pid;	offset:16;	size:4;	signed:1;

print fmt: "filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid

"""##,
        "raw_syscalls/sys_enter": ##"""
name: sys_enter
ID: 346
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:long id;	offset:8;	size:8;	signed:1;
	field:unsigned long args[6];	offset:16;	size:48;	signed:0;

print fmt: "NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)", REC->id, REC->args[0], REC->args[1], REC->args[2], REC->args[3], REC->args[4], REC->args[5]

"""##,
        "raw_syscalls/sys_exit": ##"""
name: sys_exit
ID: 345
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:long id;	offset:8;	size:8;	signed:1;
	field:long ret;	offset:16;	size:8;	signed:1;

print fmt: "NR %ld = %ld", REC->id, REC->ret

"""##,
        "kmem/kmalloc": ##"""
name: kmalloc
ID: 547
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long call_site;	offset:8;	size:8;	signed:0;
	field:const void * ptr;	offset:16;	size:8;	signed:0;
	field:size_t bytes_req;	offset:24;	size:8;	signed:0;
	field:size_t bytes_alloc;	offset:32;	size:8;	signed:0;
	field:unsigned long gfp_flags;	offset:40;	size:8;	signed:0;
	field:int node;	offset:48;	size:4;	signed:1;

print fmt: "call_site=%pS ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d accounted=%s", (void *)REC->call_site, REC->ptr, REC->bytes_req, REC->bytes_alloc, (REC->gfp_flags) ? __print_flags(REC->gfp_flags, "|", {( unsigned long)(((((((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( gfp_t)0x100000u)) | (( gfp_t)0x02u)) | (( gfp_t)0x08u) | (( gfp_t)0) | (( gfp_t)0)) | (( gfp_t)0x40000u) | (( gfp_t)0x80000u) | (( gfp_t)0x2000u)) & ~(( gfp_t)(0x400u|0x800u))) | (( gfp_t)0x400u)), "GFP_TRANSHUGE"}, {( unsigned long)((((((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( gfp_t)0x100000u)) | (( gfp_t)0x02u)) | (( gfp_t)0x08u) | (( gfp_t)0) | (( gfp_t)0)) | (( gfp_t)0x40000u) | (( gfp_t)0x80000u) | (( gfp_t)0x2000u)) & ~(( gfp_t)(0x400u|0x800u))), "GFP_TRANSHUGE_LIGHT"}, {( unsigned long)((((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( gfp_t)0x100000u)) | (( gfp_t)0x02u)) | (( gfp_t)0x08u) | (( gfp_t)0) | (( gfp_t)0)), "GFP_HIGHUSER_MOVABLE"}, {( unsigned long)(((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( gfp_t)0x100000u)) | (( gfp_t)0x02u)), "GFP_HIGHUSER"}, {( unsigned long)((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( gfp_t)0x100000u)), "GFP_USER"}, {( unsigned long)(((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u)) | (( gfp_t)0x400000u)), "GFP_KERNEL_ACCOUNT"}, {( unsigned long)((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u)), "GFP_KERNEL"}, {( unsigned long)((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u)), "GFP_NOFS"}, {( unsigned long)((( gfp_t)0x20u)|(( gfp_t)0x200u)|(( gfp_t)0x800u)), "GFP_ATOMIC"}, {( unsigned long)((( gfp_t)(0x400u|0x800u))), "GFP_NOIO"}, {( unsigned long)((( gfp_t)0x800u)), "GFP_NOWAIT"}, {( unsigned long)(( gfp_t)0x01u), "GFP_DMA"}, {( unsigned long)(( gfp_t)0x02u), "__GFP_HIGHMEM"}, {( unsigned long)(( gfp_t)0x04u), "GFP_DMA32"}, {( unsigned long)(( gfp_t)0x20u), "__GFP_HIGH"}, {( unsigned long)(( gfp_t)0x200u), "__GFP_ATOMIC"}, {( unsigned long)(( gfp_t)0x40u), "__GFP_IO"}, {( unsigned long)(( gfp_t)0x80u), "__GFP_FS"}, {( unsigned long)(( gfp_t)0x2000u), "__GFP_NOWARN"}, {( unsigned long)(( gfp_t)0x4000u), "__GFP_RETRY_MAYFAIL"}, {( unsigned long)(( gfp_t)0x8000u), "__GFP_NOFAIL"}, {( unsigned long)(( gfp_t)0x10000u), "__GFP_NORETRY"}, {( unsigned long)(( gfp_t)0x40000u), "__GFP_COMP"}, {( unsigned long)(( gfp_t)0x100u), "__GFP_ZERO"}, {( unsigned long)(( gfp_t)0x80000u), "__GFP_NOMEMALLOC"}, {( unsigned long)(( gfp_t)0x20000u), "__GFP_MEMALLOC"}, {( unsigned long)(( gfp_t)0x100000u), "__GFP_HARDWALL"}, {( unsigned long)(( gfp_t)0x200000u), "__GFP_THISNODE"}, {( unsigned long)(( gfp_t)0x10u), "__GFP_RECLAIMABLE"}, {( unsigned long)(( gfp_t)0x08u), "__GFP_MOVABLE"}, {( unsigned long)(( gfp_t)0x400000u), "__GFP_ACCOUNT"}, {( unsigned long)(( gfp_t)0x1000u), "__GFP_WRITE"}, {( unsigned long)(( gfp_t)(0x400u|0x800u)), "__GFP_RECLAIM"}, {( unsigned long)(( gfp_t)0x400u), "__GFP_DIRECT_RECLAIM"}, {( unsigned long)(( gfp_t)0x800u), "__GFP_KSWAPD_RECLAIM"}, {( unsigned long)(( gfp_t)0x800000u), "__GFP_ZEROTAGS"} ) : "none", REC->node, (1 && (REC->gfp_flags & ( unsigned long)(( gfp_t)0x400000u))) ? "true" : "false"

"""##,
        "workqueue/workqueue_queue_work": ##"""
name: workqueue_queue_work
ID: 259
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:void * work;	offset:8;	size:8;	signed:0;
	field:void * function;	offset:16;	size:8;	signed:0;
	field:__data_loc char[] workqueue;	offset:24;	size:4;	signed:1;
	field:int req_cpu;	offset:28;	size:4;	signed:1;
	field:int cpu;	offset:32;	size:4;	signed:1;

print fmt: "work struct=%p function=%ps workqueue=%s req_cpu=%d cpu=%d", REC->work, REC->function, __get_str(workqueue), REC->req_cpu, REC->cpu

"""##,
    ]
}
