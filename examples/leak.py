"""A small leak for `pycensus run`: every 0.1 s a request handler caches 200 Session objects
(with their attribute dicts and payload strings) that are never evicted. Runs about 3 s."""
import time


class Session:
    def __init__(self, i):
        self.user = "user-%06d" % i
        self.payload = "x" * 100


_cache = {}


def handle(step):
    for i in range(200):
        n = step * 200 + i
        _cache[n] = Session(n)


for step in range(30):
    handle(step)
    time.sleep(0.1)
