"""bench/kinds.py: the workload of bench/kinds: --objects instances spread over --classes classes
made with type() (as many instances of each, the remainder on the first ones), each instance with
one attribute. Then it reads stdin: "pad K" adds K floats (so that a variant with few classes
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
    args = ap.parse_args()
    classes = [type("K%06d" % i, (object,), {}) for i in range(args.classes)]
    per, extra = divmod(args.objects, args.classes)
    for i, cls in enumerate(classes):
        for _ in range(per + (i < extra)):
            o = cls()
            o.x = i
            keep.append(o)
    keep.append(classes)
    gc.collect()
    print("kinds: ready %d" % os.getpid(), flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) == 2 and words[0] == "pad":
            n = int(words[1])
            keep.append([float(i) + 0.5 for i in range(n)])
            print("padded %d" % n, flush=True)


main()
