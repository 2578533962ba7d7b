"""Integration workload for pycensus: builds known objects in steps and reports truth about itself.

Protocol (driven by the test through SIGUSR1; each step ends with one line on stdout and a pause):
  start          -> "before <pid>"       heap without the workload's objects
  1st SIGUSR1    -> builds the objects, prints sys._debugmallocstats() to stderr, then "after"
  2nd SIGUSR1    -> prints the truth as "truth <kind>\t<count>\t<size>" lines, then "end", exits.

Truth is computed in-process over the closure of gc.get_objects() through gc.get_referents(),
named the way guppy3 (and pycensus) names kinds. Runs on CPython 3.8-3.15.
"""
import gc
import os
import signal
import sys

from truthlib import say, truth

N_DICTS, N_ITEMS, N_FLOATS, N_STRS = 100000, 20000, 50000, 30000


class Item:
    def __init__(self, i):
        self.a = i
        self.b = None


class Ünïcode:
    """A class whose name is not ASCII: its tp_name is UTF-8, and its instances count as any."""
    __slots__ = ("v",)

    def __init__(self, i):
        self.v = i


_USR1 = {signal.SIGUSR1}


def wait():
    # SIGUSR1 stays blocked and is taken synchronously: a signal sent before we get here stays
    # pending instead of being lost (pause() after a flag check races, and every ptrace stop of a
    # census wakes pause() up). Nothing is allocated once the call blocks, so the heap is quiet.
    signal.sigwait(_USR1)


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)
    say("before %d" % os.getpid())
    wait()
    global dicts, items, floats, strs, unicode_named
    dicts = [{'1': 1} for _ in range(N_DICTS)]
    items = [Item(i) for i in range(N_ITEMS)]
    floats = [float(i) + 0.5 for i in range(N_FLOATS)]
    strs = ["s%07d" % i for i in range(N_STRS)]
    unicode_named = [Ünïcode(i) for i in range(300)]
    gc.collect()
    say("built")
    sys.stderr.flush()
    sys._debugmallocstats()
    say("after")
    wait()
    truth()
    say("end")


main()
