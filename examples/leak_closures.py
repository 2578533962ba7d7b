"""A leak through closures kept by a module global: every job registers a callback that closes
over the job's buffer, and the list of callbacks is never cleared. Prints "ready <pid>" once 300
jobs leaked (300 buffers of 8 KiB), then leaks one more every 0.5 s until killed.

    pycensus why --kind bytes PID
names the holder: ['CALLBACKS'] -> list -> function -> .__closure__ -> cell -> bytes."""
import os
import time

CALLBACKS = []


def run_job(n):
    buffer = (b"%08d" % n) * 1024

    def on_done():
        return len(buffer)
    CALLBACKS.append(on_done)


n = 0
for n in range(300):
    run_job(n)
print("ready %d" % os.getpid(), flush=True)
while True:
    n += 1
    run_job(n)
    time.sleep(0.5)
