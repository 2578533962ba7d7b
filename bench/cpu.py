"""bench/cpu.py: a CPU-bound workload holding N live objects (default 1e6 dicts {'k': i}).

Builds the objects, then runs a fixed amount of pure-Python arithmetic and prints
"work_s <seconds>" for that phase alone (the build is not measured), and "stopped_s <seconds>":
the part of it the process neither ran nor waited for a CPU (/proc/self/schedstat: wall time
minus CPU time minus run-queue wait), i.e. the time it stood stopped (a profiler's pauses), which
a loaded machine does not blur as it blurs the wall time. Used by bench/overhead.
"""
import sys
import time


def work(iterations):
    acc = 0
    for i in range(iterations):
        acc = (acc + i * i) % 1000003
    return acc


def schedstat():
    """(seconds on a CPU, seconds waiting for one) of this thread, or None without schedstat."""
    try:
        with open("/proc/self/schedstat") as f:
            ran, waited = f.read().split()[:2]
        return int(ran) / 1e9, int(waited) / 1e9
    except (OSError, ValueError):
        return None


def main():
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1000000
    iterations = int(float(sys.argv[2])) if len(sys.argv) > 2 else 4e7
    live = [{'k': i} for i in range(n)]
    s0, t0 = schedstat(), time.perf_counter()
    work(iterations)
    t1, s1 = time.perf_counter(), schedstat()
    stopped = (t1 - t0) - (s1[0] - s0[0]) - (s1[1] - s0[1]) if s0 and s1 else float("nan")
    print("work_s %.3f stopped_s %.4f live %d" % (t1 - t0, stopped, len(live)), flush=True)


main()
