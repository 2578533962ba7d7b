"""Records as plain class instances (each with a __dict__, or 3.11+ values laid out by the class)
against the same records with __slots__. The example builds 20000 of each from the same attribute
values and measures both with tracemalloc (the bytes their allocations asked for); it prints
"expect slots __main__.Reading <instances> <bytes now> <bytes with __slots__>" and "ready <pid>".

    pycensus inspect PID
advises __slots__ for Reading with the same two figures (within 1 %) and the line to paste:
__slots__ = ('sensor', 'timestamp', 'value', 'unit', 'quality', 'source') (from 3.14 in
the order of the class's shared keys, sorted)."""
import os
import time
import tracemalloc

N = 20000
VALUES = ("sensor-7", 1700000000, 21.5, "celsius", "good", "gateway-3")


class Reading:
    def __init__(self, sensor, timestamp, value, unit, quality, source):
        self.sensor = sensor
        self.timestamp = timestamp
        self.value = value
        self.unit = unit
        self.quality = quality
        self.source = source


class SlottedReading:
    __slots__ = ("sensor", "timestamp", "value", "unit", "quality", "source")
    __init__ = Reading.__init__  # the same assignments, into slots


def build(cls, into):
    """Fills `into` (allocated beforehand) with instances; the bytes their allocations took."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(len(into)):
        into[i] = cls(*VALUES)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before


PLAIN = [None] * N
SLOTTED = [None] * N
build(Reading, [None] * 8)          # the class's shared keys and the code's caches, before measuring
build(SlottedReading, [None] * 8)
now = build(Reading, PLAIN)
slotted = build(SlottedReading, SLOTTED)
print("expect slots __main__.Reading %d %d %d" % (N, now, slotted))
print("ready %d" % os.getpid(), flush=True)
while True:
    time.sleep(1)
