"""Objects held from C: a C extension that keeps references to Python objects (a cache, a
registry, a callback table) keeps them alive after Python code dropped its own. Here ctypes plays
the extension: Py_IncRef on 3000 Pinned records, then the list that held them goes, so only the
extra reference keeps each alive and no Python object refers to them. The example prints
"expect held __main__.Pinned <objects> <bytes>" (their sys.getsizeof) and "ready <pid>".

    pycensus inspect PID
names __main__.Pinned among the objects held from C (refcount above the references found)."""
import ctypes
import os
import sys
import time

N = 3000


class Pinned:
    __slots__ = ("key", "payload")

    def __init__(self, key):
        self.key = key
        self.payload = None


records = [Pinned(i) for i in range(N)]
size = sum(sys.getsizeof(r) for r in records)
for r in records:
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(r))  # what a C extension's cache would do
del records, r

print("expect held __main__.Pinned %d %d" % (N, size))
print("ready %d" % os.getpid(), flush=True)
while True:
    time.sleep(1)
