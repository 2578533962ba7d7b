"""heap.py: the bench workload. Builds a list of N dicts {'1': 1}, prints

    heap: ready pid=<pid> n=<N>

and sleeps until killed. On SIGUSR1 it takes an in-process census and prints one line:

    heap: census gc_s=<s> gc_objects=<n> full_s=<s> full_objects=<n>

gc_s: gc.get_objects() plus collections.Counter(type(o).__name__ ...) over the result. Note
that gc.get_objects() only returns GC-tracked objects, and a dict holding only atomic values
(like {'1': 1}) is untracked, so this census does not see the N dicts at all.
full_s: the same plus the untracked objects reachable from the tracked ones (gc.get_referents,
deduplicated by id), which is what a guppy3-style in-process census has to do to see them;
skipped (-1) with --no-full. Standard library only; Python 3.8-3.15.
"""
import argparse
import collections
import gc
import os
import signal
import sys
import time


def census_gc():
    t0 = time.perf_counter()
    objs = gc.get_objects()
    counts = collections.Counter(type(o).__name__ for o in objs)
    t = time.perf_counter() - t0
    n = len(objs)
    del objs
    return t, n, counts


def census_full():
    t0 = time.perf_counter()
    objs = gc.get_objects()
    seen = set(map(id, objs))
    seen.add(id(objs))
    counts = collections.Counter(type(o).__name__ for o in objs)
    is_tracked, referents = gc.is_tracked, gc.get_referents
    stack = objs
    while stack:
        o = stack.pop()
        for r in referents(o):
            if is_tracked(r) or id(r) in seen:
                continue
            seen.add(id(r))
            counts[type(r).__name__] += 1
            stack.append(r)
    t = time.perf_counter() - t0
    n = len(seen) - 1
    del seen, stack, objs
    return t, n, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=float, default=1e6, help="number of dicts (default 1e6)")
    ap.add_argument("--no-full", action="store_true", help="skip the full in-process walk")
    args = ap.parse_args()
    n = int(args.n)
    want_full = not args.no_full

    def on_usr1(signum, frame):
        gt, gn, _ = census_gc()
        ft, fn = -1.0, -1
        if want_full:
            ft, fn, _ = census_full()
        gc.collect()
        sys.stdout.write("heap: census gc_s=%.6f gc_objects=%d full_s=%.6f full_objects=%d\n"
                         % (gt, gn, ft, fn))
        sys.stdout.flush()

    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
    signal.signal(signal.SIGUSR1, on_usr1)
    x = [{'1': 1} for _ in range(n)]
    gc.collect()
    sys.stdout.write("heap: ready pid=%d n=%d\n" % (os.getpid(), len(x)))
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
