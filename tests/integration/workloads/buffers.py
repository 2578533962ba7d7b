"""Integration workload for pycensus: objects whose data lies in a buffer outside the object --
numpy arrays (where numpy imports), bytearray, array.array, memoryview, mmap, collections.deque
(its blocks, and the objects only they hold), OrderedDict (its nodes), the _io buffered files,
BytesIO (its buffer, a bytes object nothing else holds), asyncio futures and itertools.repeat
(objects only their C fields hold) --
and what the target says about them itself.

  buffers.py kinds   exact sizes: the test compares what pycensus sees appear with the workload's
                     own sys.getsizeof over the closure (truthlib)
      start    -> "ready start <pid> numpy <version|none>"
      SIGUSR1  -> the closure as "truth ..." lines, builds the objects, "ready built"
      SIGUSR1  -> the closure again, "end"
  buffers.py alloc   a numpy-heavy heap for --size alloc, run under tracemalloc (-X tracemalloc;
                     numpy reports its data buffers to tracemalloc in a domain of its own)
      start    -> builds, then "ready alloc <pid> numpy <version|none> traced <bytes>"
      SIGUSR1  -> "traced <bytes>" again (the heap did not move in between), "end"

Runs on CPython 3.8-3.15, with or without numpy.
"""
import array
import asyncio
import collections
import gc
import io
import itertools
import mmap
import os
import queue
import signal
import sys

import truthlib
from truthlib import say, settle_interned, truth

try:
    import numpy as np
except ImportError:
    np = None

_USR1 = {signal.SIGUSR1}
keep = []
# Up to 3.11 each 1-byte bytes object is cached for ever from C once made: made and held here
# before any census, so none appears unseen later.
_CHARS = [bytes([c]) for c in range(256)]


def _referents(o, _plain=truthlib.referents):
    """numpy arrays have no tp_traverse: gc.get_referents() does not lead from a view to the
    array it was made from (its .base) nor to its descriptor, which pycensus finds all the same
    (arrays are pymalloc blocks)."""
    if np is not None and isinstance(o, np.ndarray):
        return [o.base, o.dtype]
    return _plain(o)


truthlib.referents = _referents


def numpy_version():
    return np.__version__ if np is not None else "none"


def build_numpy():
    """ndarrays that own their data, views of them (own nothing), 0-d arrays, empty arrays,
    several dtypes (a structured one among them) and a subclass defined in Python (recarray)."""
    dtypes = ["?", "i1", "u2", "i4", "i8", "f4", "f8", "c16", "S7", "U5", "M8[s]", "O"]
    for i in range(300):
        dt = dtypes[i % len(dtypes)]
        a = np.zeros(50 + i, dtype=dt)
        keep.append(a)
        keep.append(a[1:-1])                            # a view
        keep.append(np.ones((3, 4 + i % 5), dtype="f8"))
        keep.append(np.array(float(i)))                 # 0-d, owns its 8 bytes
        keep.append(np.empty((0, 3), dtype=dt))         # no elements
    big = np.arange(2000000, dtype="i8").reshape(1000, 2000)
    keep.extend([big, big.T, big[::2, 10:20], big.ravel(), big[5]])
    rec = np.dtype([("id", "i4"), ("x", "f8"), ("tag", "S3"), ("v", "f4", (2,))])
    for i in range(100):
        keep.append(np.zeros(20 + i, dtype=rec))
        keep.append(np.zeros((), dtype=rec))
    keep.append(np.rec.array(np.zeros(500, dtype=rec)))
    for i in range(100):  # the bytes objects only these arrays hold (their base)
        keep.append(np.frombuffer(b"z" * (1000 + i), dtype="u1"))


def build_buffers():
    for i in range(400):
        keep.append(bytearray(i * 7))
        keep.append(bytearray(b"x" * (100 + i)) + bytearray(b"y" * i))  # grown: ob_alloc > length
        keep.append(array.array("bBhHiIlLqQfd"[i % 12], range(i % 50)))
        keep.append(memoryview(b"m" * (600 + i)))
        keep.append(memoryview(bytearray(24)).cast("B", (4, 6)))
    keep.append(bytearray(300000))
    keep.append(array.array("d", range(100000)))
    for _ in range(5):
        keep.append(mmap.mmap(-1, 1 << 16))
    if np is not None:
        keep.append(memoryview(np.zeros((8, 8))))


class History(collections.deque):
    """A deque subclass: sized and followed as its base is."""


def payloads(n, tag):
    """Messages: bytes above 512 bytes (malloc'd outside the arenas) and untracked by the GC, so
    nothing but what holds them leads to them."""
    return (b"%s%06d" % (tag, i) + bytes(600 + i % 900) for i in range(n))


def build_containers():
    keep.append(History(payloads(300, b"h"), maxlen=200))   # bounded: the oldest fell off
    for n in (0, 1, 63, 64, 65, 1000):                       # within one block, at its bounds, many
        keep.append(collections.deque(payloads(n, b"d")))
    turned = collections.deque(payloads(500, b"t"))
    turned.rotate(77)
    for _ in range(130):                                    # leftindex moved, blocks freed at the left
        turned.popleft()
    turned.extendleft(payloads(40, b"l"))
    keep.append(turned)
    backlog = queue.Queue()                                 # a producer ahead of its consumer
    for p in payloads(2000, b"q"):
        backlog.put(p)
    keep.append(backlog)
    for i in range(200):
        od = collections.OrderedDict((k, k) for k in range(i % 40))
        if i % 3 == 0 and od:
            od.move_to_end(0)
        keep.append(od)
    keep.append(collections.OrderedDict())
    for i in range(10):                                     # buffers of their own size
        keep.append(open(os.devnull, "rb", buffering=4096 * (i + 1)))
        keep.append(open(os.devnull, "wb", buffering=1000 + i))
    for i in range(200):                                    # written: a buffer of its own, past 512 bytes
        b = io.BytesIO()
        b.write(b"w%05d" % i + bytes(700 + 20 * i))
        keep.append(b)
    closed = open(os.devnull, "rb")
    closed.close()                                          # its buffer freed
    keep.append(closed)
    build_c_fields()


def build_c_fields():
    """Objects held in the C fields of extension types that no tp_members entry names: the
    results of asyncio futures (what gather() hands back), and what an itertools.repeat repeats."""
    loop = asyncio.new_event_loop()
    for p in payloads(200, b"f"):
        fut = loop.create_future()
        fut.set_result(p)
        keep.append(fut)
    for p in payloads(100, b"r"):
        keep.append(itertools.repeat(p, 3))
    loop.close()


def kinds():
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)
    settle_interned()
    gc.collect()
    rec = truthlib.kind(np.recarray) if np is not None else "none"
    say("ready start %d numpy %s recarray %s" % (os.getpid(), numpy_version(), rec))
    signal.sigwait(_USR1)
    truth()
    if np is not None:
        build_numpy()
    build_buffers()
    build_containers()
    gc.collect()
    say("ready built")
    signal.sigwait(_USR1)
    truth()
    say("end")


def numpy_heavy():
    """About 230 MB of array data in arrays of every size class (small ones, whose data numpy
    caches and pymalloc does not hold; large ones, mmap'd by malloc), against a few MB of
    interpreter objects."""
    for i in range(20000):
        keep.append(np.full(10 + i % 200, i, dtype="f8"))
    for i in range(200):
        keep.append(np.ones((100, 100 + i), dtype="f4"))
        keep.append(keep[-1][::3])
    for i in range(20):
        keep.append(np.zeros((1000, 1000 + 100 * i), dtype="i8"))
    for i in range(1000):
        keep.append(bytearray(1000 + i))
        keep.append(array.array("q", range(100 + i)))


def alloc():
    import tracemalloc
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)
    if not tracemalloc.is_tracing():
        say("error: start with -X tracemalloc")
        return
    if np is not None:
        numpy_heavy()
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0]
    say("ready alloc %d numpy %s traced %d" % (os.getpid(), numpy_version(), traced))
    signal.sigwait(_USR1)
    say("traced %d" % tracemalloc.get_traced_memory()[0])
    say("end")


if sys.argv[1:] == ["alloc"]:
    alloc()
else:
    kinds()
