"""Integration workload for many kinds: N classes made with type() (argv[1], default 20000), class i
with 1 + i % 3 instances of one attribute each, so that a census mixing two classes' rows up, or
losing one, shows. It reports each class's instances as the target itself measures them.

Protocol (the test sends SIGUSR1 after each census):
  start    -> "truth __main__.K<i>\t<count>\t<size>" per class (size: the sum of sys.getsizeof of
              its instances), up to 3.10 "owned dict of __main__.K<i>\t<count>\t<size>" for their
              instance dicts (from 3.11 a plain instance's attributes live in it, with no dict
              object, and asking for o.__dict__ would make one), then "ready built <pid>"
  SIGUSR1  -> drops every instance of the classes i % 5 == 0 and gives the classes i % 5 == 1 two
              more; the same lines as at the start, then "ready changed"
  SIGUSR1  -> "end"
"""
import gc
import os
import signal
import sys

from truthlib import say

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
_USR1 = {signal.SIGUSR1}
OWN_DICT = sys.version_info < (3, 11)


def make(cls, i):
    o = cls()
    o.x = i
    return o


def report(classes, instances):
    for cls, objs in zip(classes, instances):
        say("truth __main__.%s\t%d\t%d" % (cls.__name__, len(objs), sum(sys.getsizeof(o) for o in objs)))
        if OWN_DICT and objs:
            say("owned dict of __main__.%s\t%d\t%d" % (cls.__name__, len(objs),
                                                       sum(sys.getsizeof(o.__dict__) for o in objs)))


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)
    classes = [type("K%06d" % i, (object,), {}) for i in range(N)]
    instances = [[make(cls, i) for _ in range(1 + i % 3)] for i, cls in enumerate(classes)]
    gc.collect()
    report(classes, instances)
    say("ready built %d" % os.getpid())
    signal.sigwait(_USR1)
    for i, cls in enumerate(classes):
        if i % 5 == 0:
            instances[i] = []
        elif i % 5 == 1:
            instances[i] += [make(cls, i), make(cls, i)]
    gc.collect()
    report(classes, instances)
    say("ready changed")
    signal.sigwait(_USR1)
    say("end")


main()
