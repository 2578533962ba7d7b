"""Integration workload for `run --subprocesses` exit censuses: a multiprocessing pool (start method
argv[1]) of two workers that each build and keep a known number of Work objects, wait until
pycensus traces them (TracerPid in /proc/self/status), print "child <pid> <n>", take the test's
real-time signals (counted in C: tests/integration/fixtures/sigcount.c, path in argv[2]; argv[3]
of them each) and end with the pool (close, join) while the program goes on. The program counts
its own signals the same way: it prints "main <pid>", and once the pool is joined "main got <k>"
when argv[3] arrived (or 60 s passed). Each worker prints "child <pid> got <k>" before it ends."""
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import time

KEPT = []
SIGNO = signal.SIGRTMIN + 1


class Work:
    pass


def counter(lib_path):
    lib = ctypes.CDLL(lib_path)
    lib.sigcount_get.restype = ctypes.c_ulong
    if lib.sigcount_install(SIGNO) != 0:
        sys.exit("sigaction failed")
    return lib


def traced():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1]) != 0
    return False


def say(text):
    os.write(1, (text + "\n").encode())  # one write: the workers' lines never merge


def wait_for(cond, limit_s=60):
    end = time.monotonic() + limit_s
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)


def work(args):
    n, lib_path, nsig = args
    lib = counter(lib_path)
    KEPT.extend(Work() for _ in range(n))
    wait_for(traced)
    say("child %d %d" % (os.getpid(), n))
    wait_for(lambda: lib.sigcount_get() >= nsig)
    say("child %d got %d" % (os.getpid(), lib.sigcount_get()))
    return n


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    nsig = int(sys.argv[3])
    lib = counter(sys.argv[2])
    say("main %d" % os.getpid())
    pool = mp.Pool(2)
    pool.map(work, [(5000, sys.argv[2], nsig), (7000, sys.argv[2], nsig)], chunksize=1)
    pool.close()
    pool.join()
    wait_for(lambda: lib.sigcount_get() >= nsig)
    say("main got %d" % lib.sigcount_get())
