"""Integration workload for censuses of a busy target: a million stable objects, stable objects of
known sizes, and four threads that allocate and free objects of the same kinds all the time.

Prints, while the threads wait to start (so the numbers are the target's own, taken quietly, with
the threads' own objects in them):
  truth <kind>\t<count>\t<size>     the closure (truthlib) per kind, then "end"
  bound <kind>\t<stable count>\t<stable size>\t<most count>\t<most size>
    stable: the closure's objects of that kind now (they all stay alive);
    most:   stable plus the most the churn threads can hold at once
then "ready <pid>", and churns until killed. Kinds churned: str, bytes, list (every stable one of
them over 512 bytes or with an item array outside pymalloc, so --pause copy reads them live). The
million are floats in pymalloc's arenas: they are counted into the truth from their own
sys.getsizeof (the closure would take seconds over them).

On SIGUSR1 it prints its own census of the moment:
  now <objects> <bytes> <str count> <str size> <bytes count> <bytes size> <list count> <list size>
the closure's totals plus what the threads hold now (the per-kind figures are the held ones).
"""
import os
import random
import signal
import sys
import threading
import time

from truthlib import closure, say

THREADS, HELD = 4, 600
MAX_STR, MAX_BYTES, MAX_LIST = 3000, 3000, 400
STABLE = 1000000
KINDS = ("str", "bytes", "list")
INDEX = {str: 0, bytes: 1, list: 2}

keep = {
    "str": [("s%07d" % i) * 125 for i in range(20000)],          # 1000 characters
    "bytes": [b"b" * (700 + i % 50) for i in range(20000)],
    "list": [[i] * 600 for i in range(2000)],
    "float": None,
}
# per thread: count and size held of each kind, updated by the thread that owns the row
tallies = [[0] * (2 * len(KINDS)) for _ in range(THREADS)]
stable = [0, 0]


def churn(seed, tally, go):
    r = random.Random(seed)
    held = []
    go.wait()  # the closure is taken with the threads and their state in place
    while True:
        k = r.randrange(3)
        if k == 0:
            o = "c" * r.randint(1, MAX_STR)
        elif k == 1:
            o = b"y" * r.randint(1, MAX_BYTES)
        else:
            o = [0] * r.randint(0, MAX_LIST)
        # only the objects are held (no tuple or size int per object: they would be kinds too)
        held.append(o)
        tally[2 * k] += 1
        tally[2 * k + 1] += sys.getsizeof(o)
        if len(held) > HELD:
            for o in held[: HELD // 2]:
                k = INDEX[type(o)]
                tally[2 * k] -= 1
                tally[2 * k + 1] -= sys.getsizeof(o)
            del held[: HELD // 2]


def now():
    held = [sum(t[i] for t in tallies) for i in range(2 * len(KINDS))]
    say("now %d %d %s" % (stable[0] + sum(held[0::2]), stable[1] + sum(held[1::2]),
                          " ".join(str(v) for v in held)))


def main():
    # blocked before any thread starts, so every thread inherits the mask and only sigwait takes it
    # (a Python handler would wait for the main thread to leave its sleep)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    go = threading.Event()
    for i in range(THREADS):
        threading.Thread(target=churn, args=(i, tallies[i], go), daemon=True).start()
    time.sleep(0.2)
    c = closure()
    floats = [i + 0.5 for i in range(STABLE)]
    c.setdefault("float", [0, 0, 0, 0])
    c["float"][0] += STABLE
    c["float"][1] += STABLE * sys.getsizeof(0.5)
    c["list"][0] += 1
    c["list"][1] += sys.getsizeof(floats)
    keep["float"] = floats
    for k, (n, s, _, _) in sorted(c.items()):
        say("truth %s\t%d\t%d" % (k, n, s))
        stable[0] += n
        stable[1] += s
    say("end")
    most = {"str": sys.getsizeof("c" * MAX_STR), "bytes": sys.getsizeof(b"y" * MAX_BYTES),
            "list": sys.getsizeof([0] * MAX_LIST)}
    for k in KINDS:
        n, s = c[k][0], c[k][1]
        # each thread holds at most HELD + 1 objects, and a few more in flight
        extra = THREADS * (HELD + 8)
        say("bound %s\t%d\t%d\t%d\t%d" % (k, n, s, n + extra, s + extra * most[k]))
    go.set()
    say("ready %d" % os.getpid())
    while True:
        signal.sigwait({signal.SIGUSR1})
        now()


main()
