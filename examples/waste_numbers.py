"""Boxed numbers: a table of readings kept as Python lists of int and float objects. Every
reading is its own object (ints outside the small-int cache -5..256 and floats are created anew
by arithmetic), so 200 equal readings are 200 objects of 28 and 24 bytes where array.array or
numpy would hold 8 bytes each. The example counts its own duplicates: per value, the distinct
objects holding it (by id) and their sys.getsizeof; all copies but one per value could go. It
prints "expect boxed <int|float> <objects in values held more than once> <bytes to save>" and
"ready <pid>".

    pycensus inspect PID
reports the same figures as its boxed int and boxed float findings (plus the interpreter's own few
hundred repeated ints: well under 1 %)."""
import os
import sys
import time

N_VALUES = 1000
COPIES = 200

# ids 1000..1999 and readings 0.25..999.25, each value made COPIES times as a distinct object
IDS = [1000 + i % N_VALUES for i in range(N_VALUES * COPIES)]
READINGS = [(i % N_VALUES) + 0.25 for i in range(N_VALUES * COPIES)]


def waste(values):
    """(objects, bytes to save) over the values held by more than one distinct object."""
    objects = {}
    for v in values:
        objects.setdefault(v, {})[id(v)] = sys.getsizeof(v)
    held, save = 0, 0
    for copies in objects.values():
        if len(copies) > 1:
            held += len(copies)
            save += sum(copies.values()) - max(copies.values())
    return held, save


print("expect boxed int %d %d" % waste(IDS))
print("expect boxed float %d %d" % waste(READINGS))
print("ready %d" % os.getpid(), flush=True)
while True:
    time.sleep(1)
