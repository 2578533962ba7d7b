"""Free-threaded workload for pycensus: threads that allocate, some of which exit.

  ftthreads.py THREADS   starts THREADS threads; each builds 1000 Item instances and 1000 lists
                         and keeps them in a global list; the odd-numbered ones then exit (on a
                         free-threaded build their mimalloc pages are abandoned, kept by the
                         interpreter for other threads to adopt), the even ones wait.
Prints "ready <pid> gil=<0|1>" once every thread has built its objects, then waits for SIGUSR1
(blocked and taken synchronously, so the heap is quiet), prints "end" and exits.
"""
import os
import signal
import sys
import threading

N = 1000
kept = []
lock = threading.Lock()
release = threading.Event()


class Item:
    def __init__(self, i):
        self.a = i


def work(k, built):
    mine = [Item(i) for i in range(N)] + [[i] for i in range(N)]
    with lock:
        kept.append(mine)
    built.release()
    if k % 2 == 0:
        release.wait()


def main():
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
    print("ready %d gil=%d" % (os.getpid(), int(gil)), flush=True)
    signal.sigwait({signal.SIGUSR1})
    release.set()
    for t in ts:
        t.join()
    print("end", flush=True)


main()
