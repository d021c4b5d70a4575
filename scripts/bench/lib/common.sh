# shellcheck shell=bash
# Shared helpers for scripts/bench/{http,memory,startup}. Source it; it sets -euo pipefail.
#
# Every benchmark prints a human-readable section and machine lines
#   BENCH\t<figure>\t<ours>\t<baseline>\t<ratio>\t<goal>\t<verdict>
# which `make bench` collects. Only 127.0.0.1 is ever contacted; every process started here is
# remembered by pid and ended by that pid when the script exits.
set -euo pipefail

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_LIB/../../.." && pwd)
EXPORTER=${FTRACE_EXPORTER:-$REPO/.build/release/ftrace_exporter}
FIXTURE_TREE=$REPO/Tests/Fixtures/tracefs/default-config

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ftrace-bench.XXXXXX")
BENCH_PIDS=()

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${BENCH_PIDS[@]}"; do
        # Bounded wait: the exporter stops within its 5 s shutdown grace.
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }
die() { log "$(basename "$0"): $*"; exit 1; }

# Installs Debian packages that are missing (the benchmarks need nginx and wrk).
need_packages() { # pkg...
    local missing=() p
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]} from Debian's packages"
    if [ "$(id -u)" -ne 0 ]; then die "need root to install ${missing[*]}"; fi
    # On a host with an init system the nginx package starts the system nginx; the benchmarks
    # neither use nor stop it (theirs runs from its own configuration on a free loopback port).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$BENCH_TMP/apt.log" 2>&1 || {
        DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$BENCH_TMP/apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$BENCH_TMP/apt.log" 2>&1
    } || { cat "$BENCH_TMP/apt.log" >&2; die "cannot install ${missing[*]}"; }
}

# The release binary; built when missing (FTRACE_EXPORTER overrides). It is copied into the
# scratch directory so that a rebuild during the benchmark cannot swap it mid-run.
need_exporter() {
    if [ ! -x "$EXPORTER" ]; then
        log "building the exporter (swift build -c release --product ftrace_exporter)"
        (cd "$REPO" && swift build -c release --product ftrace_exporter >&2)
    fi
    [ -x "$EXPORTER" ] || die "no exporter binary at $EXPORTER"
    local linkage="static Swift runtime"
    case $(ldd "$EXPORTER" 2>/dev/null) in *libswiftCore*) linkage="dynamic Swift runtime" ;; esac
    echo "exporter: $EXPORTER ($(sha256sum "$EXPORTER" | cut -c1-12), built $(date -r "$EXPORTER" '+%Y-%m-%d %H:%M'), $linkage, $("$EXPORTER" --version 2>&1 | head -1))"
    cp "$EXPORTER" "$BENCH_TMP/ftrace_exporter"
    EXPORTER=$BENCH_TMP/ftrace_exporter
}

# A free TCP port on 127.0.0.1 (the kernel's choice; a tiny window remains until it is bound).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits (at most $2 seconds, default 30) until http://127.0.0.1:$1$3 answers 200.
wait_http_200() { # port [seconds] [path]
    local port=$1 limit=${2:-30} path=${3:-/-/ready}
    for _ in $(seq 1 $((limit * 20))); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port$path" 2>/dev/null)" = 200 ]; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# Starts the exporter in the background: start_exporter <port> <tracefs dir> [extra flags...].
# Sets EXPORTER_PID; the process is ended at exit. Logs go to $BENCH_TMP/exporter-<port>.log.
start_exporter() {
    local port=$1 tree=$2
    shift 2
    "$EXPORTER" --web.listen-address "127.0.0.1:$port" --path.tracefs "$tree" --log.level warn "$@" \
        >"$BENCH_TMP/exporter-$port.log" 2>&1 &
    EXPORTER_PID=$!
    BENCH_PIDS+=("$EXPORTER_PID")
    if ! wait_http_200 "$port" 60; then
        cat "$BENCH_TMP/exporter-$port.log" >&2
        die "the exporter on port $port did not become ready"
    fi
}

# Ends one process we started, by pid (SIGTERM, then SIGKILL after 10 s).
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Resident set size of a process in KiB (VmRSS of /proc/PID/status).
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# A copy of the default-config fixture tree that the exporter may write into (it installs the
# built-in wakeup_latency set there; in a copy that is harmless).
fixture_copy() { # dest
    cp -r "$FIXTURE_TREE" "$1"
    chmod -R u+w "$1"
}

# Writes a discovery-only configuration: no trigger sets, every table discovered.
discovery_config() { # file refresh_interval
    cat >"$1" <<EOF
refresh_interval: $2
discovery:
  enabled: true
  series_limit: 1000000
  rescan_interval: 1h
trigger_sets: []
EOF
}

# The machine line. verdict is computed by the caller.
bench_line() { # figure ours baseline ratio goal verdict
    printf 'BENCH\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@"
}

# Float helpers through awk (no bc dependency).
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
# meets <value> <op> <limit> -> "met" or "missed"
meets() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
    ok = (op == "<") ? v < l : (op == "<=") ? v <= l : (op == ">") ? v > l : (op == ">=") ? v >= l : 0
    print ok ? "met" : "missed" }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Other busy processes skew a 2-core benchmark: measure how busy the machine is for 1 s before
# starting and say so in the output (nothing is stopped).
busy_percent() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.0f", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }'
}
warn_if_busy() {
    local busy
    busy=$(busy_percent)
    echo "machine: $(nproc) cores, $busy% busy in the second before the benchmark, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ "$busy" -gt 20 ]; then
        echo "note: other work is running on this machine; the figures are skewed (ratios measured side by side less so)"
    fi
}

SCRIPT_START=$(date +%s.%N)
elapsed() { calc "$(date +%s.%N) - $SCRIPT_START" 1; }
