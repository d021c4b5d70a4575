#!/usr/bin/env python3
"""Writes a fake tracefs tree with N kmalloc-like hist tables for the benchmarks.

    gen_tracefs.py OUT --tables T --entries E [--values]

Each table is `events/bench/kmalloc_NN/{hist,trigger,format}` holding one hist block in the
kernel's exact format (hist-format.md section 2, modelled on corpus/14-kmalloc-execname.hist):

    { common_pid: task-000123     [      1123] } hitcount:          7

keyed by `common_pid.execname`, so discovery maps each entry to one series labelled by its comm
(distinct per entry), sorted by hitcount like the trigger says. With --values the entries also
carry `bytes_req` and `bytes_alloc` (three series per entry instead of one).
The top level gets the 6.1 README (the exporter probes features from it), empty error_log and
synthetic_events, trace_clock and an empty instances/ directory, like the fixture trees.
"""
import argparse
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(ROOT, "..", "..", ".."))
CORPUS = os.path.join(REPO, "Tests", "Fixtures", "corpus")
FORMAT = os.path.join(REPO, "Tests", "Fixtures", "tracefs", "14-kmalloc-execname", "events", "kmem", "kmalloc", "format")


def hist_text(trigger: str, entries: int, table: int, values: bool) -> str:
    rows = []
    hits = 0
    for i in range(entries):
        # Deterministic, varied counts; the kernel prints entries sorted by the sort key
        # (hitcount, ascending by default), ties in any order.
        count = 1 + (i * 7919 + table * 104729) % 5000
        hits += count
        comm = "t%02d-%06d" % (table % 100, i)  # at most 15 bytes, as TASK_COMM_LEN allows
        pid = 1000 + table * entries + i
        key = "{ common_pid: %-16s[%10d] }" % (comm, pid)
        line = "%s hitcount: %10d" % (key, count)
        if values:
            req = count * (16 + i % 200)
            line += "  bytes_req: %10d  bytes_alloc: %10d" % (req, req + count * (i % 8) * 8)
        rows.append((count, line))
    rows.sort(key=lambda r: r[0])
    out = [
        "# event histogram\n",
        "#\n",
        "# trigger info: %s [active]\n" % trigger,
        "#\n",
        "\n",
    ]
    out += [line + "\n" for _, line in rows]
    out.append("\nTotals:\n    Hits: %d\n    Entries: %d\n    Dropped: 0\n" % (hits, entries))
    return "".join(out)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--tables", type=int, required=True)
    p.add_argument("--entries", type=int, required=True)
    p.add_argument("--values", action="store_true", help="also bytes_req and bytes_alloc columns")
    a = p.parse_args()
    if not (1 <= a.entries <= 65536 and 1 <= a.tables <= 1000):
        print("gen_tracefs: --entries must be 1..65536 and --tables 1..1000", file=sys.stderr)
        return 2
    size = 2048
    while size < a.entries:
        size *= 2
    vals = "hitcount,bytes_req,bytes_alloc" if a.values else "hitcount"
    trigger = "hist:keys=common_pid.execname:vals=%s:sort=hitcount:size=%d" % (vals, size)

    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    os.makedirs(os.path.join(a.out, "instances"))
    shutil.copyfile(os.path.join(CORPUS, "95-README.txt"), os.path.join(a.out, "README"))
    for name, text in (("error_log", ""), ("synthetic_events", ""),
                       ("trace_clock", "[local] global counter uptime perf mono mono_raw boot tai x86-tsc\n")):
        with open(os.path.join(a.out, name), "w") as f:
            f.write(text)
    with open(FORMAT) as f:
        fmt = f.read()
    for t in range(a.tables):
        event = "kmalloc_%02d" % t
        d = os.path.join(a.out, "events", "bench", event)
        os.makedirs(d)
        with open(os.path.join(d, "format"), "w") as f:
            f.write(fmt.replace("name: kmalloc\n", "name: %s\n" % event, 1))
        with open(os.path.join(d, "trigger"), "w") as f:
            f.write(trigger + " [active]\n")
        with open(os.path.join(d, "hist"), "w") as f:
            f.write(hist_text(trigger, a.entries, t, a.values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
