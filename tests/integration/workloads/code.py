"""Integration workload for pycensus: objects that only code objects reference (constants, names,
nested code) and, on 3.8-3.10, code objects that grew an opcache by running.

  start    -> "ready start <pid>"   (the truth's own functions have run before: their opcaches exist)
  SIGUSR1  -> the closure as "truth ..." lines (truthlib follows code objects' stored attributes),
              builds, "ready built"
  SIGUSR1  -> the closure again, "truth hidden tuple|bytes" rows (see hidden()), "end"

Built: N functions compiled from source, each with a frozenset literal tested by `in` (a
frozenset constant), a big int, a long bytes constant, a float, a tuple of floats, a nested
function with constants of its own, global names, and a body long enough that the code object
(3.11+) or its bytecode (3.8-3.10) lies outside pymalloc; each called CALLS times, beyond the 1024
runs after which 3.8-3.10 give a code object its opcache (ceval.c OPCACHE_MIN_RUNS). Nothing
else refers to the constants. Runs on CPython 3.8-3.15.
"""
import gc
import os
import signal
import sys
import types

import truthlib
from truthlib import say, settle_interned, truth

N = 300
CALLS = 1100
_USR1 = {signal.SIGUSR1}
keep = []
# Up to 3.11 each 1-byte bytes object is cached for ever from C once made (a line table, a
# compile's temporaries): made and held here before any census, so none appears unseen later.
_CHARS = [bytes([c]) for c in range(256)]

SOURCE = '''
def f{i}(x):
    if x in {{{members}}}:
        return {big} + len(B{i})
    def inner{i}(y):
        return (y * {flt}, {floats}, b"{short}")
    k = b"{blob}"
{body}
    return inner{i}(x) if x > 0 else (abs(x), len(k), str(x))
'''


def source(i):
    return SOURCE.format(i=i, members=", ".join(str(100000 + 40 * i + k) for k in range(40)),
                         big=10 ** 60 + i, flt=1.5 + i, floats=tuple(0.25 + i + k for k in range(3)),
                         short="s%d" % i, blob="c" * 600 + "%05d" % i,
                         body="".join("    x%d = x * %d + %d\n" % (k, k, k + 1000 * i) for k in range(60)))


def build():
    for i in range(N):
        ns = {"B%d" % i: b""}
        exec(compile(source(i), "<code-workload-%d>" % i, "exec"), ns)
        f = ns["f%d" % i]
        for _ in range(CALLS):
            f(-1)
        keep.append(f)


def hidden():
    """3.11+: what each new code object holds that Python cannot reach without copying it:
    co_localsplusnames (a tuple) and co_localspluskinds (bytes), one entry per local, cell and
    free variable (co_varnames and co_cellvars build new tuples from them). Printed as "truth
    hidden <kind>" rows; none up to 3.10, where co_varnames is the stored tuple itself."""
    tuples = [0, 0]
    kinds = [0, 0]
    if sys.version_info >= (3, 11):
        for f in keep:
            for c in [f.__code__] + [k for k in f.__code__.co_consts if isinstance(k, types.CodeType)]:
                n = len(c.co_varnames) + len(set(c.co_cellvars) - set(c.co_varnames)) + len(c.co_freevars)
                if n:  # empty ones are the interpreter's empty tuple and bytes
                    tuples[0] += 1
                    tuples[1] += sys.getsizeof(tuple(range(n)))
                    kinds[0] += 1
                    kinds[1] += sys.getsizeof(bytes(n))
    say("truth hidden tuple\t%d\t%d" % tuple(tuples))
    say("truth hidden bytes\t%d\t%d" % tuple(kinds))


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)
    settle_interned()
    for _ in range(3):  # the truth's functions run past the opcache threshold before any census
        truthlib.closure()
    gc.collect()
    say("ready start %d" % os.getpid())
    signal.sigwait(_USR1)
    truth()
    build()
    gc.collect()
    say("ready built")
    signal.sigwait(_USR1)
    truth()
    hidden()
    say("end")


main()
