"""poolcopies.py POOL_SIZE: a process that holds copies of its own pymalloc pool pages, the trap
for a pool-header scan (pycensus --arenas scan): 20000 objects of a class, then every pool page
that holds one copied byte for byte into a buffer at pool-aligned addresses (the copy keeps the
header, free list and arenaindex of the original), and once more as bytes objects wherever malloc
puts them. Prints 'truth <count> <pages>' and sleeps; the census must count 20000, not the
copies."""
import ctypes
import sys
import time

POOL = int(sys.argv[1])


class Thing:
    __slots__ = ("a",)


things = [Thing() for _ in range(20000)]
pages = sorted({id(t) & ~(POOL - 1) for t in things})
buf = bytearray((len(pages) + 1) * POOL)
view = (ctypes.c_char * len(buf)).from_buffer(buf)
off = (-ctypes.addressof(view)) % POOL
for i, page in enumerate(pages):
    buf[off + i * POOL:off + (i + 1) * POOL] = ctypes.string_at(page, POOL)
copies = [ctypes.string_at(page, POOL) for page in pages]
print("truth", len(things), len(pages), flush=True)
time.sleep(600)
