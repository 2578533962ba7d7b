"""Integration workload for test_classlists.c: lists and tuples of classes that have no instances,
and lists of builtin types. An item array of type pointers in a pymalloc block reads like an
object where the process is not position-independent (Debian's python3.X binaries: their static
types and their malloc heap, where classes live, lie below 2^31, so a pointer passes for a
refcount and the next word is a type): the census must count no instance of any of these
classes, and as many floats as the target's own closure holds (3,000 real ones among them).
Prints "floats N" (truthlib's closure) and "ready" once built."""
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truthlib  # noqa: E402

CLASSES = [type("Fake%02d" % i, (), {}) for i in range(48)]
SLOTTED = [type("Slot%02d" % i, (), {"__slots__": ("a",)}) for i in range(48)]
HOLDERS = [list(CLASSES[i:i + 8]) for i in range(40)] + [list(SLOTTED[i:i + 8]) for i in range(40)]
HOLDERS += [tuple(CLASSES[i:i + 8]) for i in range(40)]
BUILTINS = [[int, float, str, bytes, tuple, dict] for _ in range(2000)] + [[float, int] for _ in range(2000)]
FLOATS = [i + 0.5 for i in range(3000)]
gc.collect()
truthlib.say("floats %d" % truthlib.closure().get("float", [0])[0])
truthlib.say("ready")
time.sleep(600)
