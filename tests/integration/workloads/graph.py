"""Integration workload for pycensus's object graph (why, retained): structures whose retained
size the target computes itself, and a leak held through a known path.

  start -> builds them, then for each structure "truth retained <name> <hex address> <bytes>
           <objects>", "result <hex address>" (a bytes object only a Future's C field holds),
           then "ready <pid>"; sleeps until killed.

The retained set of a root is computed in-process from refcounts: the closure of the root through
gc.get_referents(); an object of it is retained when every reference its refcount counts comes
from objects already retained (the root first). Sizes are sys.getsizeof. Types are left out of the
closure (shared with everything). Runs on CPython 3.8-3.15.
"""
import asyncio
import os
import sys
import time

import truthlib
from truthlib import say

SALT = str(os.getpid())


class Request:
    def __init__(self, i):
        self.path = "/r/%d-%s" % (i, SALT)
        self.body = "b" * 100 + "%d-%s" % (i, SALT)


# 1. a cache: a list of dicts of unique values (str, float, a tuple of str)
CACHE = [{"name": "n-%d-%s" % (i, SALT), "value": i + 0.5,
          "tags": ("t-%d-%s" % (i, SALT), "u-%d-%s" % (i, SALT))} for i in range(2000)]
# 2. a store: a dict of lists of bytes and ints beyond the small-int cache
STORE = {"k-%d-%s" % (i, SALT): [("v-%d-%s" % (i, SALT)).encode() * 3, 10 ** 6 + i, [i * 1.5]]
         for i in range(500)}
# 3. a leak through a signal-receiver list: closures that keep requests alive
receivers = []


def connect(req):
    def handler(sender):
        return req.path
    receivers.append(handler)


for _i in range(1000):
    connect(Request(_i))
del _i

# 4. results held in C fields only: asyncio futures whose results are bytes past 512 bytes (outside
# the arenas, untracked); the loop is held here too, so it is not theirs
LOOP = asyncio.new_event_loop()
FUTURES = []
for _i in range(100):
    FUTURES.append(LOOP.create_future())
    FUTURES[-1].set_result(("f-%d-%s-" % (_i, SALT)).encode() * 100)
del _i


def _referents(o):
    """A dict's tp_traverse skips str keys (they cannot make cycles), yet the dict holds them."""
    if type(o) is dict:
        return list(o.keys()) + list(o.values())
    return truthlib.referents(o)


def _closure(root):
    order, index = [root], {id(root): 0}
    i = 0
    while i < len(order):
        for r in _referents(order[i]):
            if id(r) not in index and not isinstance(r, type):
                index[id(r)] = len(order)
                order.append(r)
        i += 1
    return order, index


def _referrers(order, index):
    refs = [[] for _ in order]
    for j in range(len(order)):
        for r in _referents(order[j]):
            k = index.get(id(r))
            if k is not None:
                refs[k].append(j)
    return refs


def retained(root):
    order, index = _closure(root)
    refs = _referrers(order, index)
    # getrefcount's argument and `order` hold one reference each
    outside = [sys.getrefcount(order[k]) - 2 - len(refs[k]) for k in range(len(order))]
    kept = [False] * len(order)
    kept[0] = True
    changed = True
    while changed:
        changed = False
        for k in range(1, len(order)):
            if not kept[k] and outside[k] == 0 and all(kept[j] for j in refs[k]):
                kept[k] = changed = True
    nbytes = sum(sys.getsizeof(order[k]) for k in range(len(order)) if kept[k])
    return nbytes, sum(kept)


for _name in ("CACHE", "STORE", "receivers", "FUTURES"):
    _b, _n = retained(globals()[_name])
    say("truth retained %s %x %d %d" % (_name, id(globals()[_name]), _b, _n))
del _name, _b, _n
say("result %x" % id(FUTURES[7].result()))
say("ready %d" % os.getpid())
while True:
    time.sleep(3600)
