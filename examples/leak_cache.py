"""A leak through an unbounded cache: a resolver memoises every answer in a dict it never
evicts, and keys never repeat. Prints "ready <pid>" once 2000 answers are cached, then caches one
more every 0.5 s until killed.

    pycensus why --kind __main__.Answer PID
names the holder: ['resolver'] -> Resolver -> ._cache -> dict -> [*] -> Answer."""
import os
import time


class Answer:
    def __init__(self, host, n):
        self.host = host
        self.addresses = ["10.%d.%d.%d" % (n >> 16 & 255, n >> 8 & 255, n & 255)]


class Resolver:
    def __init__(self):
        self._cache = {}

    def resolve(self, host, n):
        if host not in self._cache:
            self._cache[host] = Answer(host, n)
        return self._cache[host]


resolver = Resolver()
n = 0
for n in range(2000):
    resolver.resolve("host-%d.example.com" % n, n)
print("ready %d" % os.getpid(), flush=True)
while True:
    n += 1
    resolver.resolve("host-%d.example.com" % n, n)
    time.sleep(0.5)
