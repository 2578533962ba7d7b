"""Integration workload for test_classlists.c: classes that have no instances, held in lists and
tuples of eight. An item array of class pointers in a pymalloc block reads like an instance where
the process is not position-independent (Debian's /usr/bin/python3.11: its malloc heap, where
classes live, lies below 2^31, so a pointer passes for a refcount and the next word is a class):
the census must count no instance of any of them. Prints "ready" once built."""
import gc
import time

CLASSES = [type("Fake%02d" % i, (), {}) for i in range(48)]
SLOTTED = [type("Slot%02d" % i, (), {"__slots__": ("a",)}) for i in range(48)]
HOLDERS = [list(CLASSES[i:i + 8]) for i in range(40)] + [list(SLOTTED[i:i + 8]) for i in range(40)]
HOLDERS += [tuple(CLASSES[i:i + 8]) for i in range(40)]
gc.collect()
print("ready", flush=True)
time.sleep(600)
