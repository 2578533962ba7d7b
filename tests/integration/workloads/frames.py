"""Integration workload for the locals of frames: objects that only a frame holds.

Protocol:
  start    -> "frames <count> <size>" (the frame objects there are, by gc.get_objects), then
              "ready base <pid>", then waits for SIGUSR1 (the test takes its baseline census)
  SIGUSR1  -> builds generator-like objects and enters hold(), which prints what it now holds and
              sleeps there until killed:
                "expect bytes <count> <size>"  the big bytes only frames hold: one local of the
                                               running hold(), one each in a suspended generator,
                                               coroutine and async generator, and one in the frame
                                               of a function that raised, kept by its traceback
                "expect <kind> <count> <size>" the generators, coroutines and async generators
                                               created, with the generator the coroutine awaits
                                               (sizes by sys.getsizeof)
                "frames <count> <size>"        as at the start
                "ready held"
Every big bytes object is above 512 bytes, so it lives outside pymalloc's arenas: only following
the frame's locals finds it.
"""
import gc
import signal
import sys
import time
import types

from truthlib import kind, say

N = 1000
SIZES = {"frame": 5000001, "gen": 3000003, "coro": 2000002, "agen": 1000001, "traceback": 1500001}
_USR1 = {signal.SIGUSR1}


def gen_holder(n):
    big = b"g" * n
    yield 1
    yield len(big)


class Suspend:
    def __await__(self):
        yield 1


async def coro_holder(n):
    big = b"c" * n
    await Suspend()
    return len(big)


async def agen_holder(n):
    big = b"a" * n
    yield 1
    yield len(big)


def fail(n):
    big = b"t" * n
    raise ValueError(len(big))


def small(i):
    x = i * 2
    yield x


def build():
    gens = [small(i) for i in range(N)]
    for g in gens[: N // 2]:  # half suspended, half never started
        next(g)
    g = gen_holder(SIZES["gen"])
    next(g)
    c = coro_holder(SIZES["coro"])
    c.send(None)
    a = agen_holder(SIZES["agen"])
    step = a.__anext__()
    try:
        step.send(None)
    except StopIteration:
        pass
    global kept
    try:
        fail(SIZES["traceback"])
    except ValueError as e:
        kept = e  # its traceback keeps fail()'s frame, and with it `big`, after fail returned
    return gens + [g, c, a]


def hold(made):
    blob = b"f" * SIZES["frame"]
    # sized on throwaway copies: asking a frame for its locals would store them in a dict (3.8-3.12
    # f_locals), which would lead the census to them without the frames
    say("expect bytes %d %d" % (len(SIZES), sum(sys.getsizeof(bytes(n)) for n in SIZES.values())))
    by = {}
    # the suspended coroutine awaits Suspend().__await__(), a generator of its own
    for o in made + [made[-2].cr_await]:
        k = kind(type(o))
        n, s = by.get(k, (0, 0))
        by[k] = (n + 1, s + sys.getsizeof(o))
    for k, (n, s) in sorted(by.items()):
        say("expect %s %d %d" % (k, n, s))
    say(frames())
    say("ready held")
    while True:
        time.sleep(3600)
    return len(blob)


def frames():
    """The frame objects that exist: the tracked ones, and the callers' chain (3.11+ keeps a running
    frame's object untracked; walking f_back makes those of the chain exist, and they stay)."""
    me = sys._getframe(0)
    fs = {id(o): o for o in gc.get_objects() if type(o) is types.FrameType and o is not me}
    f = me.f_back
    while f is not None:
        fs[id(f)] = f
        f = f.f_back
    del me
    return "frames %d %d" % (len(fs), sum(sys.getsizeof(f) for f in fs.values()))


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)
    say(frames())
    say("ready base %d" % __import__("os").getpid())
    signal.sigwait(_USR1)
    hold(build())


main()
