"""Integration workload: a thread in uninterruptible sleep (state D) for HOLD_MS milliseconds,
held in vfork() by tests/integration/fixtures/vforkhold.c (built as a shared library, path in
argv[1]). Prints "ready <pid> <tid of the held thread>" while it is held, and "released" once the
hold ended and the thread ran on; the main thread counts ticks meanwhile ("ticks <n>" on SIGUSR1)."""
import ctypes
import os
import signal
import sys
import threading
import time

lib = ctypes.CDLL(sys.argv[1])
hold_ms = int(sys.argv[2])
ticks = 0


def held():
    lib.hold_in_vfork(hold_ms)
    print("released", flush=True)


def report(sig, frame):
    print("ticks %d" % ticks, flush=True)


signal.signal(signal.SIGUSR1, report)
t = threading.Thread(target=held, daemon=True)
t.start()
time.sleep(0.3)
print("ready %d %d" % (os.getpid(), t.native_id), flush=True)
while True:
    time.sleep(0.01)
    ticks += 1
