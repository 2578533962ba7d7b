"""Containers that waste memory: empty lists and sets made in advance "in case", and dicts and
sets that once held 2000 items and kept their tables after all but two were removed (CPython never
shrinks them). The example measures each case with sys.getsizeof: the empty containers' own bytes,
and for the shrunk ones what rebuilding them would free (getsizeof(d) - getsizeof(the same items
in a dict or set built anew)); it prints
"expect <inspection> <container> <objects> <bytes to save>" per case and "ready <pid>".

    pycensus inspect PID
reports the same cases: empty list and set held by list, over-allocated dict and set held by list."""
import os
import sys
import time

N_EMPTY = 5000
N_SHRUNK = 200

EMPTY_LISTS = [[] for _ in range(N_EMPTY)]
EMPTY_SETS = [set() for _ in range(N_EMPTY)]


def shrunk(make, n=2000, keep=2):
    c = make(range(n)) if make is set else make((i, i) for i in range(n))
    for i in range(keep, n):
        if make is set:
            c.discard(i)
        else:
            del c[i]
    return c


SHRUNK_DICTS = [shrunk(dict) for _ in range(N_SHRUNK)]
SHRUNK_SETS = [shrunk(set) for _ in range(N_SHRUNK)]

print("expect empty list %d %d" % (N_EMPTY, sum(sys.getsizeof(x) for x in EMPTY_LISTS)))
print("expect empty set %d %d" % (N_EMPTY, sum(sys.getsizeof(x) for x in EMPTY_SETS)))
print("expect overallocated dict %d %d" % (N_SHRUNK, sum(sys.getsizeof(d) - sys.getsizeof({k: v for k, v in d.items()}) for d in SHRUNK_DICTS)))
print("expect overallocated set %d %d" % (N_SHRUNK, sum(sys.getsizeof(s) - sys.getsizeof({x for x in s}) for s in SHRUNK_SETS)))
print("ready %d" % os.getpid(), flush=True)
while True:
    time.sleep(1)
