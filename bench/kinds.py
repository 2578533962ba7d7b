"""bench/kinds.py: the workload of bench/kinds: --objects instances spread over --classes classes
made with type() (as many instances of each, the remainder on the first ones), each instance with
one attribute. --made M (at least --classes) makes M classes and spreads the instances over the
first --classes of them: the same heap as M classes with instances, fewer kinds. --slots gives
each class __slots__ = ("x",): no per-instance values array, whose size CPython 3.12 takes from
the class's shared keys (a class with few instances gets larger ones), so the heap does not
depend on how the instances spread over the classes. Then it reads stdin: "pad K" adds K floats (so that a variant with few classes
holds as many objects as one with many: a class brings its dict, its MRO tuple and more), and
answers "padded K"; EOF ends it.

Prints "kinds: ready <pid>" once built.
"""
import argparse
import gc
import os
import sys

keep = []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", type=int, required=True)
    ap.add_argument("--objects", type=int, required=True)
    ap.add_argument("--made", type=int, default=0)
    ap.add_argument("--slots", action="store_true")
    args = ap.parse_args()
    body = {"__slots__": ("x",)} if args.slots else {}
    made = [type("K%06d" % i, (object,), dict(body)) for i in range(max(args.made, args.classes))]
    classes = made[:args.classes]
    per, extra = divmod(args.objects, args.classes)
    for i, cls in enumerate(classes):
        for _ in range(per + (i < extra)):
            o = cls()
            o.x = i
            keep.append(o)
    keep.append(made)
    gc.collect()
    print("kinds: ready %d" % os.getpid(), flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) == 2 and words[0] == "pad":
            n = int(words[1])
            keep.append([float(i) + 0.5 for i in range(n)])
            print("padded %d" % n, flush=True)


main()
