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
        trigger_sets:
          - name: wakeup_latency
            description: >-
              Scheduler wakeup latency: time from sched_waking of a task to the sched_switch
              that puts it on a CPU, per CPU. This is wakeup latency, not run-queue latency
              (runqlat also counts tasks that were preempted while runnable).
            install_on_start: true
            synthetic_events:
              - "ftrace_exporter_wakeup_lat u64 lat"
            triggers:
              - event: sched/sched_waking
                command: "hist:keys=pid:fte_wakeup_ts=common_timestamp.usecs"
              - event: sched/sched_switch
                command: "hist:keys=next_pid:fte_wakeup_lat=common_timestamp.usecs-$fte_wakeup_ts:onmatch(sched.sched_waking).ftrace_exporter_wakeup_lat($fte_wakeup_lat)"
              - event: synthetic/ftrace_exporter_wakeup_lat
                command: "hist:keys=cpu,lat.log2:vals=hitcount,lat"
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
        """

    public static func load() throws(ConfigError) -> ExporterConfig {
        try ConfigLoader.load(yaml: yaml, file: fileName)
    }
}
