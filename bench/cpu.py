"""bench/cpu.py: a CPU-bound workload holding N live objects (default 1e6 dicts {'k': i}).

Builds the objects, then runs a fixed amount of pure-Python arithmetic and prints
"work_s <seconds>" for that phase alone (the build is not measured). Used by bench/overhead.
"""
import sys
import time


def work(iterations):
    acc = 0
    for i in range(iterations):
        acc = (acc + i * i) % 1000003
    return acc


def main():
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1000000
    iterations = int(float(sys.argv[2])) if len(sys.argv) > 2 else 4e7
    live = [{'k': i} for i in range(n)]
    t0 = time.perf_counter()
    work(iterations)
    t1 = time.perf_counter()
    print("work_s %.3f live %d" % (t1 - t0, len(live)), flush=True)


main()
