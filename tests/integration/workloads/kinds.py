"""Integration workload for pycensus's kinds and sizes: builds six workloads one after another and
reports, after each census, the closure of its heap (truthlib), so the test can compare what each
step created with what pycensus saw appear.

Protocol (the test sends SIGUSR1 after each census; each step prints one "ready" line and waits):
  start        -> "ready start <pid>"
  SIGUSR1      -> prints the closure as "truth <kind>\t<count>\t<size>\t<statics>\t<big>" lines and
                  "owned <kind>\t<count>\t<size>" lines for the instance dicts it knows exist, then
                  builds the next workload, then "ready <name>" (after the last: "end")
Workloads, in order:
  dicts        100000 dicts {'1': 1}
  cargo        20000 JSON 'cargo' records (json.loads: nested dicts, lists, repeated strings)
  objects      the same records as plain class instances (3.11+: attribute values, no dict object)
  objects_dict the same with each instance's __dict__ materialised
  slots        the same as __slots__ instances
  mix          floats, ints beyond the small-int cache, big ints, sets, frozensets, complex, and
               objects above 512 bytes and above the 128 KiB mmap threshold (str, bytes, bytearray,
               list, tuple)
At the end it also prints "bigbytes <n>" (truthlib.big_bytes) and "materialised <size>": sys.getsizeof of the __dict__ a plain instance
gets when something (guppy3, vars(), o.__dict__) asks for it, on a throwaway instance.
"""
import datetime
import gc
import json
import os
import signal
import sys
import time

from truthlib import big_bytes, say, settle_interned, truth

N = 20000
_USR1 = {signal.SIGUSR1}
keep = {}


def fill(o, r):
    o.id = r["id"]
    o.name = r["name"]
    o.tags = r["tags"]
    o.dims = r["dims"]
    o.owner = r["owner"]


class Cargo:
    def __init__(self, r):
        fill(self, r)


class CargoDict(Cargo):
    pass


class CargoSlots:
    __slots__ = ("id", "name", "tags", "dims", "owner")

    def __init__(self, r):
        fill(self, r)


def records():
    text = json.dumps([{"id": 100000 + i, "name": "item%05d" % i, "tags": ["fragile", "heavy", "dock%d" % (i % 7)],
                        "dims": {"w": 1.5 + i, "h": 2.25, "d": 0.5},
                        "owner": {"name": "acme", "city": ["Paris", "Lyon", "Nice"][i % 3]}} for i in range(N)])
    return json.loads(text)


def build_dicts():
    keep["dicts"] = [{'1': 1} for _ in range(100000)]


def build_cargo():
    keep["cargo"] = records()


def build_objects():
    keep["objects"] = [Cargo(r) for r in records()]


def build_objects_dict():
    objs = [CargoDict(r) for r in records()]
    for o in objs:
        o.__dict__  # materialises the instance dict on 3.11+
    keep["objects_dict"] = objs


def build_slots():
    keep["slots"] = [CargoSlots(r) for r in records()]


def build_mix():
    keep["mix"] = [
        [float(i) + 0.25 for i in range(50000)],
        [1000000 + i for i in range(30000)],
        [10 ** 1000 + i for i in range(300)],             # 1700+ bytes each: outside pymalloc
        [{i, i + 1, i + 2} for i in range(5000)],
        [frozenset((i, -i)) for i in range(5000)],
        [complex(i, 1) for i in range(10000)],
        ["s" * 1000 + str(i) for i in range(1000)],
        # no 1-byte bytes: up to 3.11 those are cached for ever from C, where the closure cannot see
        [b"b" * 2000 + b"%05d" % i for i in range(1000)],
        [bytearray(3000) for _ in range(500)],
        [list(range(i, i + 200)) for i in range(200)],
        [tuple(range(i, i + 100)) for i in range(200)],   # untracked once the GC has seen them
        ["m" * 200000 + str(i) for i in range(3)],        # above the mmap threshold
        [b"M" * 300000 + b"%03d" % i for i in range(3)],
        [bytearray(400000) for _ in range(2)],
        [list(range(20000)) for _ in range(2)],
        [tuple(range(i, i + 20000)) for i in range(2)],
        [dict.fromkeys(range(i, i + 40000)) for i in range(2)],  # over 512 KiB: census/walk.h dicts_big
        # allocated unlike tp_basicsize + ob_size * tp_itemsize: a struct sequence holds hidden
        # fields beyond its ob_size; a naive time or datetime lacks its tzinfo pointer
        [os.stat(".") for _ in range(2000)],
        [time.localtime(i) for i in range(2000)],
        [datetime.time(1, 2, i % 60) for i in range(2000)],
        [datetime.datetime(2026, 12, 3, 1, 2, i % 60) for i in range(2000)],
        [datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc) for _ in range(1000)],
    ]


STEPS = [("dicts", build_dicts), ("cargo", build_cargo), ("objects", build_objects),
         ("objects_dict", build_objects_dict), ("slots", build_slots), ("mix", build_mix)]


def owned():
    """The instance dicts that exist, by owner kind: CargoDict's always; Cargo's only up to 3.10,
    where every instance has one (from 3.11 the attributes live in values, with no dict object)."""
    for cls, name in ((Cargo, "objects"), (CargoDict, "objects_dict")):
        objs = keep.get(name)
        if objs is None or (cls is Cargo and sys.version_info >= (3, 11)):
            continue
        say("owned dict of __main__.%s\t%d\t%d" % (cls.__name__, len(objs), sum(sys.getsizeof(o.__dict__) for o in objs)))


def materialised_size():
    o = Cargo(records()[0])
    return sys.getsizeof(o.__dict__)


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)
    settle_interned()
    gc.collect()
    say("ready start %d" % os.getpid())
    for name, build in STEPS + [("end", None)]:
        signal.sigwait(_USR1)
        truth()
        owned()
        if build:
            build()
            gc.collect()
            say("ready %s" % name)
    say("bigbytes %d" % big_bytes())
    say("materialised %d" % materialised_size())
    say("end")


main()
