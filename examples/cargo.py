"""cargo.py: the demo workload for pycensus.

Builds cargo records such as

    {"id": 12318912, "product": {"name": "Elec'sOil", "uid": "elec109ui"},
     "quantity": {"value": 2380, "id": "mt"},
     "dates": {"start": "2200-10-14T00:00:00", "end": "2200-11-11T00:00:00"}}

from JSON text with json.loads, keeps every record twice -- once as the parsed dicts, once as
instances of small classes (Cargo, Product, Quantity, Dates) -- then prints

    cargo: ready pid=<pid> records=<n>

and sleeps until it is killed, so that `pycensus snap <pid>` has something to look at. The data
is deterministic (random.Random(1)). Runs on Python 3.8 to 3.13, standard library only.
"""
import argparse
import datetime
import gc
import json
import os
import random
import signal
import sys
import time

PRODUCTS = ["Elec'sOil", "Brent Crude", "Diesel", "Jet A-1", "Naphtha", "Fuel Oil 380",
            "LPG", "Bitumen", "Kerosene", "Gasoil 10ppm", "Urea", "Ammonia"]
UNITS = ["mt", "bbl", "m3", "kg", "t"]
EPOCH = datetime.datetime(2200, 1, 1)


class Product:
    def __init__(self, name, uid):
        self.name = name
        self.uid = uid


class Quantity:
    def __init__(self, value, id):
        self.value = value
        self.id = id


class Dates:
    def __init__(self, start, end):
        self.start = start
        self.end = end


class Cargo:
    def __init__(self, id, product, quantity, dates):
        self.id = id
        self.product = product
        self.quantity = quantity
        self.dates = dates

    @classmethod
    def from_dict(cls, d):
        return cls(d["id"],
                   Product(**d["product"]),
                   Quantity(**d["quantity"]),
                   Dates(**d["dates"]))


def cargo_json(rng):
    """One record as JSON text, its values drawn from rng."""
    name = rng.choice(PRODUCTS)
    start = EPOCH + datetime.timedelta(days=rng.randrange(365 * 5))
    end = start + datetime.timedelta(days=rng.randrange(1, 60))
    record = {
        "id": rng.randrange(10000000, 99999999),
        "product": {"name": name,
                    "uid": "%s%dui" % (name[:4].lower().replace("'", ""), rng.randrange(1000))},
        "quantity": {"value": rng.randrange(1, 100000), "id": rng.choice(UNITS)},
        "dates": {"start": start.isoformat(), "end": end.isoformat()},
    }
    return json.dumps(record)


def build(n):
    rng = random.Random(1)
    texts = [cargo_json(rng) for _ in range(n)]
    records = [json.loads(t) for t in texts]
    del texts
    cargos = [Cargo.from_dict(d) for d in records]
    return records, cargos


def main(argv=None):
    ap = argparse.ArgumentParser(description="pycensus demo workload: cargo records as dicts "
                                             "and as class instances; sleeps until killed")
    ap.add_argument("--records", type=int, default=20000, metavar="N",
                    help="number of records (default 20000)")
    args = ap.parse_args(argv)
    if args.records < 0:
        ap.error("--records must be >= 0")

    def quit_quietly(signum, frame):
        sys.exit(0)

    signal.signal(signal.SIGTERM, quit_quietly)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, quit_quietly)

    records, cargos = build(args.records)
    gc.collect()
    sys.stdout.write("cargo: ready pid=%d records=%d\n" % (os.getpid(), len(records)))
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
