"""Free-threaded workload for pycensus: threads that allocate, some of which exit.

  ftthreads.py THREADS [truth|census]
                         starts THREADS threads; each builds 1000 Item instances, 1000 lists and
                         100 Rec instances with a materialised __dict__ (dict of __main__.Rec),
                         and keeps them in a global list; the odd-numbered ones then exit (on a
                         free-threaded build their mimalloc pages are abandoned, kept by the
                         interpreter for other threads to adopt), the even ones wait.
Prints "ready <pid> gil=<0|1>" once every thread has built its objects, then waits for SIGUSR1
(blocked and taken synchronously, so the heap is quiet), prints "end" and exits.
With "truth", the ready line goes on with what the target says of itself, for a walk of its
heaps from outside: "interp=ADDR ts=ADDR,ADDR... item_type=ADDR list_type=ADDR items=N lists=N
blocks=N" (the interpreter and thread states from the C API through ctypes; the lists counted
over gc.get_objects(); blocks: sys.getallocatedblocks()). Nothing that lives on is allocated
after the counting.
With "census", the first SIGUSR1 prints the closure of gc.get_objects() as truthlib's "truth"
lines and "end" (the census ran before it), then the threads are let go and it exits.
"""
import os
import signal
import sys
import threading

N = 1000
kept = []
kept_tstates = []
lock = threading.Lock()
release = threading.Event()


class Item:
    def __init__(self, i):
        self.a = i


class Rec:
    def __init__(self, i):
        self.a = i
        self.b = str(i)


def work(k, built):
    recs = [Rec(i) for i in range(N // 10)]
    for r in recs:
        vars(r)["c"] = r.a  # the dict is materialised: a "dict of __main__.Rec"
    mine = [Item(i) for i in range(N)] + [[i] for i in range(N)] + recs
    with lock:
        kept.append(mine)
    built.release()
    if k % 2 == 0:
        release.wait()


def truth():
    import ctypes
    import gc

    api = ctypes.pythonapi
    api.PyInterpreterState_Get.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.argtypes = [ctypes.c_void_p]
    api.PyThreadState_Next.restype = ctypes.c_void_p
    api.PyThreadState_Next.argtypes = [ctypes.c_void_p]
    interp = api.PyInterpreterState_Get()
    tstates = kept_tstates  # lives on: it is among the lists counted
    t = api.PyInterpreterState_ThreadHead(interp)
    while t:
        tstates.append(t)
        t = api.PyThreadState_Next(t)
    head = "interp=%#x ts=%s item_type=%#x list_type=%#x" % (
        interp, ",".join("%#x" % t for t in tstates), id(Item), id(list))
    gc.collect()
    objs = gc.get_objects()
    lists = sum(1 for o in objs if type(o) is list and o is not objs)
    items = sum(1 for o in objs if type(o) is Item)
    del objs
    return " %s items=%d lists=%d blocks=%d" % (head, items, lists, sys.getallocatedblocks())


def main():
    closure_truth = None
    if sys.argv[2:] == ["census"]:  # imported before the census, like every truth workload
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from truthlib import truth as closure_truth, settle_interned
        import struct  # noqa: F401  truthlib.bss_range imports it: loaded before the census, not by the truth
        settle_interned()
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    built = threading.Semaphore(0)
    ts = [threading.Thread(target=work, args=(k, built), name="w%d" % k) for k in range(threads)]
    for t in ts:
        t.start()
    for _ in ts:
        built.acquire()
    for k, t in enumerate(ts):
        if k % 2:
            t.join()
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    extra = truth() if sys.argv[2:] == ["truth"] else ""
    print("ready %d gil=%d%s" % (os.getpid(), int(gil), extra), flush=True)
    signal.sigwait({signal.SIGUSR1})
    if closure_truth:
        closure_truth()
        print("end", flush=True)
    release.set()
    for t in ts:
        t.join()
    print("end", flush=True)


main()
