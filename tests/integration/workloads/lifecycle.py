"""lifecycle.py MODE: holds the interpreter at one point of its end, for a census there, with
10000 instances of a class alive until then.

  atexit    in an atexit handler: the program is over but Py_FinalizeEx has not begun tearing
            anything down (the heap is intact: no warning is due)
  teardown  in the __del__ of an object __main__ holds, which runs once Py_FinalizeEx has marked
            the runtime finalising and clears the modules' namespaces

Prints 'held MODE' there, then sleeps until killed."""
import atexit
import sys
import time


class Thing:
    pass


class Holder:
    # what __del__ needs is bound now: module globals are None or gone by the time it runs
    def __del__(self, out=sys.stdout, sleep=time.sleep):
        out.write("held teardown\n")
        out.flush()
        while True:
            sleep(1)


def hold_at_exit():
    print("held atexit", flush=True)
    while True:
        time.sleep(1)


things = [Thing() for _ in range(10000)]
if sys.argv[1] == "atexit":
    atexit.register(hold_at_exit)
else:
    holder = Holder()
