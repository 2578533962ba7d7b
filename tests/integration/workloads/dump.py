"""Integration workload for `pycensus dump`: builds a known heap, says what it built, and holds
still (sigwait) so a dump and a live census see the same moment.

Prints "up <DumpItem count> <sum of their getsizeof> <retained bytes of the DumpItems> <pid>" and
waits for SIGUSR1 (or a kill). Each DumpItem alone holds its list and three ints above the
small-int cache, so together they retain exactly those. Runs on CPython
3.8-3.15."""
import os
import signal
import sys

from truthlib import say


class DumpItem:
    __slots__ = ("payload", "n")

    def __init__(self, i):
        self.payload = [i + 1000000, i + 2000000]  # ints far outside any small-int cache, owned here
        self.n = i + 3000000


N = 20000
registry = {("k%d" % i): DumpItem(i) for i in range(N)}
# 50 equal bytes outside pymalloc (large), each its own object (made at run time: a constant
# b"b" * 4096 would be folded into one): a duplicate `inspect` finds, in a dump as in the process
blobs = [b"b" * (4096 + 0 * i) for i in range(50)]


def retained():
    """What the DumpItem instances retain together: themselves, their lists, their ints."""
    total = 0
    for v in registry.values():
        for o in (v, v.payload, v.n) + tuple(v.payload):
            total += sys.getsizeof(o)
    return total


signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
say("up %d %d %d %d" % (N, sum(sys.getsizeof(v) for v in registry.values()), retained(), os.getpid()))
signal.sigwait({signal.SIGUSR1})
