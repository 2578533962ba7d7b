"""mainexit.py: 10000 instances of a class, then the main thread ends with pthread_exit while a
second thread runs Python on (a service whose main thread returned without joining, a C extension
that exits its thread): the leader becomes a zombie, /proc/PID/maps reads empty, the process
lives. Prints 'up <worker native id>' before the main thread exits."""
import ctypes
import threading
import time


class Thing:
    pass


things = [Thing() for _ in range(10000)]
started = threading.Event()
ids = []


def work():
    ids.append(threading.get_native_id())
    started.set()
    while True:
        time.sleep(0.2)


threading.Thread(target=work, name="worker", daemon=False).start()
started.wait()
print("up", ids[0], flush=True)
# CDLL releases the GIL around the call: the worker keeps running Python
ctypes.CDLL(None).pthread_exit(None)
