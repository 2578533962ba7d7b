"""Integration workload: counts the deliveries of a real-time signal in C
(tests/integration/fixtures/sigcount.c, built as a shared library, path in argv[1]) while three
threads keep running Python. Prints "ready <pid> <signo>"; on SIGUSR1 prints "count <n>" with the
deliveries so far."""
import ctypes
import os
import signal
import sys
import threading
import time

lib = ctypes.CDLL(sys.argv[1])
lib.sigcount_get.restype = ctypes.c_ulong
signo = signal.SIGRTMIN + 1
if lib.sigcount_install(signo) != 0:
    sys.exit("sigaction failed")


def busy():
    n = 0
    while True:
        n = (n + 1) % 1000003
        if n % 4096 == 0:
            time.sleep(0.001)


for _ in range(3):
    threading.Thread(target=busy, daemon=True).start()
signal.signal(signal.SIGUSR1, lambda sig, frame: print("count %d" % lib.sigcount_get(), flush=True))
print("ready %d %d" % (os.getpid(), signo), flush=True)
while True:
    time.sleep(0.05)
