"""Integration workload for censuses of a busy target: stable objects of known sizes, and four
threads that allocate and free objects of the same kinds all the time.

Prints, before the threads start (so the numbers are the target's own, taken quietly):
  bound <kind>\t<stable count>\t<stable size>\t<most count>\t<most size>
    stable: the closure's objects of that kind now (they all stay alive);
    most:   stable plus the most the churn threads can hold at once
then "ready <pid>", and churns until killed. Kinds: str, bytes, list (every stable one of them
over 512 bytes or with an item array outside pymalloc, so --pause copy reads them live).
"""
import os
import random
import sys
import threading
import time

from truthlib import closure, say

THREADS, HELD = 4, 600
MAX_STR, MAX_BYTES, MAX_LIST = 3000, 3000, 400

keep = {
    "str": [("s%07d" % i) * 125 for i in range(20000)],          # 1000 characters
    "bytes": [b"b" * (700 + i % 50) for i in range(20000)],
    "list": [[i] * 600 for i in range(2000)],
}


def churn(seed):
    r = random.Random(seed)
    held = []
    while True:
        k = r.randrange(3)
        if k == 0:
            held.append("c" * r.randint(1, MAX_STR))
        elif k == 1:
            held.append(b"y" * r.randint(1, MAX_BYTES))
        else:
            held.append([0] * r.randint(0, MAX_LIST))
        if len(held) > HELD:
            del held[: HELD // 2]


def main():
    c = closure()
    most = {"str": sys.getsizeof("c" * MAX_STR), "bytes": sys.getsizeof(b"y" * MAX_BYTES),
            "list": sys.getsizeof([0] * MAX_LIST)}
    for k in ("str", "bytes", "list"):
        n, s = c[k][0], c[k][1]
        # each thread holds at most HELD + 1 objects, and a few more in flight
        extra = THREADS * (HELD + 8)
        say("bound %s\t%d\t%d\t%d\t%d" % (k, n, s, n + extra, s + extra * most[k]))
    for i in range(THREADS):
        threading.Thread(target=churn, args=(i,), daemon=True).start()
    say("ready %d" % os.getpid())
    while True:
        time.sleep(3600)


main()
