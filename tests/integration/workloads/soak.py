"""Soak workload for pycensus: a heap that never stops changing, and a check that it is intact.

Four worker threads allocate and free continuously (dicts, lists, strings, bytes, instances), each
keeping a running checksum of the data it holds; a fifth thread keeps creating short-lived
threads, so threads start and exit while pycensus stops the process. On every SIGUSR1 the main
thread recomputes every worker's checksum from its data and prints
    "ok <checks> <threads_spawned> <ops>"  or  "BAD <worker> <expected> <found>".
Prints "ready <pid>" once everything runs. Runs on CPython 3.8-3.15.
"""
import os
import random
import signal
import sys
import threading
import zlib

N_WORKERS, SLOTS = 4, 2000
_USR1 = {signal.SIGUSR1}


class Rec:
    def __init__(self, key, payload):
        self.key = key
        self.payload = payload


def digest(value):
    """A checksum of one slot's content, recomputed from the objects themselves."""
    key, payload, extra = value
    return zlib.crc32(payload, zlib.crc32(key.encode())) ^ len(extra["l"]) ^ extra["n"]


class Worker:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.slots = [None] * SLOTS
        self.sums = [0] * SLOTS
        self.total = 0
        self.ops = 0

    def make(self):
        n = self.rng.randrange(1, 64)
        key = "k%08d" % self.rng.randrange(10 ** 8)
        payload = bytes(self.rng.randrange(256) for _ in range(n))
        extra = {"l": [Rec(key, payload) for _ in range(n % 5)], "n": n, "f": float(n)}
        return (key, payload, extra)

    def run(self):
        while True:
            i = self.rng.randrange(SLOTS)
            value = self.make() if self.rng.random() < 0.9 else None
            with self.lock:
                self.total ^= self.sums[i]
                self.slots[i] = value
                self.sums[i] = digest(value) if value is not None else 0
                self.total ^= self.sums[i]
                self.ops += 1

    def check(self):
        with self.lock:
            found = 0
            for v in self.slots:
                if v is not None:
                    found ^= digest(v)
            return found == self.total, self.total, found


spawned = [0]


def churn():
    def short():
        junk = [str(i) * 3 for i in range(50)]
        del junk
    while True:
        t = threading.Thread(target=short)
        t.start()
        t.join()
        spawned[0] += 1


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)  # inherited by every thread: only sigwait takes it
    workers = [Worker(i) for i in range(N_WORKERS)]
    for w in workers:
        threading.Thread(target=w.run, daemon=True).start()
    threading.Thread(target=churn, daemon=True).start()
    say("ready %d" % os.getpid())
    checks = 0
    while True:
        signal.sigwait(_USR1)
        checks += 1
        for n, w in enumerate(workers):
            ok, want, got = w.check()
            if not ok:
                say("BAD %d %d %d" % (n, want, got))
                break
        else:
            say("ok %d %d %d" % (checks, spawned[0], sum(w.ops for w in workers)))


main()
