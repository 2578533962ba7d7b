"""Duplicate strings from JSON: 20000 shipment records read one JSON line at a time, as a log or a
message queue delivers them. json.loads shares equal keys within one call only, so every record
holds its own copy of every key and of every repeated value ("in-transit", "Rotterdam", ...).

The example counts its own duplicates first: for every distinct str among the records' keys and
values, the distinct objects holding it (a dict of values to ids) and their sys.getsizeof; it
prints "expect duplicate <value> <copies> <bytes beyond the first copy>" for each, then
"ready <pid>", and waits.

    pycensus inspect PID
lists the same values as duplicate strings, each with its copies, the bytes to save and its
holder: ... -> list [*] -> dict ['status'] -> str."""
import json
import os
import sys
import time

STATUSES = ["in-transit", "delivered", "at-customs", "awaiting-pickup"]
CITIES = ["Rotterdam", "Singapore", "Shanghai", "Antwerpen", "Hamburg", "Los Angeles", "Felixstowe", "Valencia"]
N = 20000


def lines():
    for i in range(N):
        yield json.dumps({"shipment_id": i, "status": STATUSES[i % len(STATUSES)],
                          "origin_port": CITIES[i % len(CITIES)], "destination_port": CITIES[(i * 3 + 1) % len(CITIES)],
                          "weight_unit": "kilogram"})


RECORDS = [json.loads(line) for line in lines()]


def expected():
    """value -> (distinct objects, bytes beyond the largest copy), over the records' keys and values."""
    copies = {}
    for rec in RECORDS:
        for k, v in rec.items():
            for s in (k, v):
                if isinstance(s, str):
                    copies.setdefault(s, {})[id(s)] = sys.getsizeof(s)
    out = {}
    for value, ids in copies.items():
        if len(ids) > 1:
            out[value] = (len(ids), sum(ids.values()) - max(ids.values()))
    return out


for value, (n, wasted) in sorted(expected().items()):
    print("expect duplicate %s %d %d" % (value, n, wasted))
print("ready %d" % os.getpid(), flush=True)
while True:
    time.sleep(1)
