"""Integration workload for `pycensus stats`: known allocator and GC states, with truth read after
each sample by the target itself.

Protocol (driven by the test through SIGUSR1; each step ends with one line on stdout and a pause):
  start        -> sets GC thresholds, runs collections, parks a second thread, builds dense
                  objects, then "ready1" and waits
  1st SIGUSR1  -> prints sys._debugmallocstats() to stderr, then the truth as
                  "truth <metric>\t<value>\t0" lines and "end"
                  -> then fragments the heap (1,000,000 floats, all but 1 in 1000 freed),
                  gc.freeze(), gc.disable(), "ready2" and waits
  2nd SIGUSR1  -> the same truth again, "end", and exits.

The truth is read right after the wait returns, before anything allocates: _debugmallocstats
first (it allocates nothing), then the GC figures, each captured before the result object that
carries it is built. The wait is _signal.sigwait, not signal.sigwait: the latter is a Python
wrapper (it maps the number to a Signals member) whose calls allocate after the wait returns.
Runs on CPython 3.8-3.15.
"""
import _signal
import gc
import os
import signal
import sys
import threading

N_FLOATS = 1000000
KEEP_EVERY = 1000

_USR1 = {signal.SIGUSR1}


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def park_thread():
    """A second Python thread, blocked on a lock for the whole run."""
    lock = threading.Lock()
    lock.acquire()
    t = threading.Thread(target=lock.acquire, name="parked", daemon=True)
    t.start()
    return lock, t


def collections():
    """Non-zero gc.get_stats() in every generation, with collected garbage."""
    for _ in range(3):
        a, b = [], []
        a.append(b)
        b.append(a)
        del a, b
        gc.collect(0)
    gc.collect(1)
    gc.collect()


def report(count, threshold, stats, enabled, frozen, threads):
    sys.stderr.flush()
    for g in range(3):
        say("truth gc.count.%d\t%d\t0" % (g, count[g]))
        say("truth gc.threshold.%d\t%d\t0" % (g, threshold[g]))
        for k in ("collections", "collected", "uncollectable"):
            say("truth gc.%s.%d\t%d\t0" % (k, g, stats[g][k]))
    say("truth gc.enabled\t%d\t0" % enabled)
    say("truth gc.frozen\t%d\t0" % frozen)
    say("truth threads\t%d\t0" % threads)
    say("end")


def main():
    global dense, floats, keep
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)
    gc.set_threshold(100000, 7, 5)
    parked = park_thread()
    collections()
    dense = [(i, float(i)) for i in range(100000)]
    garbage = [[] for _ in range(37)]  # a gen-0 count that is not 0
    say("ready1 %d" % os.getpid())

    _signal.sigwait(_USR1)
    sys._debugmallocstats()
    count, threshold, stats = gc.get_count(), gc.get_threshold(), gc.get_stats()
    report(count, threshold, stats, gc.isenabled(), gc.get_freeze_count(), threading.active_count())

    # dropped now, not when step 2 rebinds them: they would leave the frozen generation then
    del garbage, count, threshold, stats
    floats = [float(i) + 0.5 for i in range(N_FLOATS)]
    keep = floats[::KEEP_EVERY]
    del floats
    gc.freeze()
    gc.disable()
    say("ready2")

    _signal.sigwait(_USR1)
    sys._debugmallocstats()
    count, threshold, stats = gc.get_count(), gc.get_threshold(), gc.get_stats()
    report(count, threshold, stats, gc.isenabled(), gc.get_freeze_count(), threading.active_count())
    del parked


main()
