#!/usr/bin/env python3
"""Times process start to first answer, for scripts/bench/startup.

    startup.py --runs N --exporter BIN --tree DIR --workdir DIR

Three subjects, measured the same way and interleaved run by run so that the machine's noise
falls on all of them alike:
  exporter   exec of the exporter (default configuration, a fresh copy of the fixture tree each
             run) until GET /-/ready on 127.0.0.1 answers 200
  http.server  exec of `python3 -m http.server` until GET / answers 200: a trivial server
  true       exec of /bin/true until it has exited: the cost of fork+exec+wait alone
The clock starts just before fork/exec (subprocess.Popen); the port is polled with a fresh
connection every 1 ms (refused connections return at once). Each poll loop is bounded (10 s).
The CPU time (user + system, all threads) each server had used when it first answered 200 is
read from /proc/PID/stat at that moment: unlike the wall time it hardly depends on other load.
For the exporter the phases come from its own log timestamps (logfmt, ms resolution):
exec -> "starting" (loader, runtime, flags, configuration), -> "listening", -> "ready" (trigger
sets adopted or installed, first refresh done).
Prints one line per run and final lines "RESULT <subject> <median ms> <min> <max>",
"CPU <subject> <median ms>" and "PHASE <name> <median ms>".
"""
import argparse
import datetime
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

POLL_SECONDS = 0.001
LIMIT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(port: int, path: str):
    """The HTTP status of GET path, or None when nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data and len(data) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            parts = data.split(b" ", 2)
            return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
    except OSError:
        return None


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """CPU time of a process so far, in ms: the sum over its threads of the run time in
    /proc/PID/task/TID/schedstat (ns), or utime + stime (clock ticks) where that is missing."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        return total / 1e6
    except (OSError, ValueError, IndexError):
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * TICK_MS


def time_server(argv, port: int, path: str, cwd=None, log=None):
    """Returns (wall ms to the first 200, CPU ms used by then, wall-clock time of the exec)."""
    stderr = open(log, "w") if log else subprocess.DEVNULL
    wall = time.time()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=stderr, cwd=cwd)
    try:
        while True:
            if status(port, path) == 200:
                elapsed = (time.perf_counter() - start) * 1000
                return elapsed, cpu_ms(proc.pid), wall
            if proc.poll() is not None:
                raise RuntimeError("%s exited with %s before answering" % (argv[0], proc.returncode))
            if time.perf_counter() - start > LIMIT_SECONDS:
                raise RuntimeError("%s did not answer 200 on %s within %ss" % (argv[0], path, LIMIT_SECONDS))
            time.sleep(POLL_SECONDS)
    finally:
        stop(proc)
        if log:
            stderr.close()


def phases(log: str, exec_wall: float):
    """ms from exec to the exporter's "starting", "listening" and "ready" log lines."""
    found = {}
    with open(log) as f:
        for line in f:
            parts = dict(p.split("=", 1) for p in line.split() if "=" in p)
            msg = parts.get("msg", "").strip('"')
            if msg in ("starting", "listening", "ready") and msg not in found and "ts" in parts:
                ts = datetime.datetime.strptime(parts["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
                ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
                found[msg] = (ts - exec_wall) * 1000
    return found


def time_true() -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(["/bin/true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    proc.wait(timeout=LIMIT_SECONDS)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--exporter", required=True)
    p.add_argument("--tree", required=True, help="fixture tree, copied afresh for every run")
    p.add_argument("--workdir", required=True)
    a = p.parse_args()
    if not 1 <= a.runs <= 100:
        print("startup.py: --runs must be 1..100", file=sys.stderr)
        return 2

    served = os.path.join(a.workdir, "served")
    os.makedirs(served, exist_ok=True)
    results = {"exporter": [], "http.server": [], "true": []}
    cpu = {"exporter": [], "http.server": []}
    phase = {"starting": [], "listening": [], "ready": []}
    log = os.path.join(a.workdir, "exporter.log")
    # One unmeasured run of each first: page cache and dynamic loader caches warm, as on a
    # host where the exporter is restarted.
    for run in range(a.runs + 1):
        tree = os.path.join(a.workdir, "tracefs-%d" % run)
        shutil.copytree(a.tree, tree)
        port = free_port()
        ours, ours_cpu, exec_wall = time_server(
            [a.exporter, "--web.listen-address", "127.0.0.1:%d" % port, "--path.tracefs", tree],
            port, "/-/ready", log=log)
        marks = phases(log, exec_wall)
        shutil.rmtree(tree)
        port = free_port()
        trivial, trivial_cpu, _ = time_server(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)], port, "/", cwd=served)
        true = time_true()
        if run == 0:
            print("warm-up run: exporter %.1f ms, http.server %.1f ms, /bin/true %.2f ms" % (ours, trivial, true))
            continue
        results["exporter"].append(ours)
        results["http.server"].append(trivial)
        results["true"].append(true)
        cpu["exporter"].append(ours_cpu)
        cpu["http.server"].append(trivial_cpu)
        for name in phase:
            if name in marks:
                phase[name].append(marks[name])
        print("run %2d: exporter %6.1f ms (CPU %5.1f ms)   python3 -m http.server %6.1f ms (CPU %5.1f ms)   /bin/true %5.2f ms"
              % (run, ours, ours_cpu, trivial, trivial_cpu, true))
    for name, values in results.items():
        print("RESULT %s %.3f %.3f %.3f" % (name, statistics.median(values), min(values), max(values)))
    for name, values in cpu.items():
        print("CPU %s %.1f" % (name, statistics.median(values)))
    for name, values in phase.items():
        if values:
            print("PHASE %s %.1f" % (name, statistics.median(values)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
