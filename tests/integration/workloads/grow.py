"""Integration workload for `pycensus run`: grows a known class by a known number per step.

Usage: grow.py MODE [STEPS] [PER_STEP]. Driven by the test through SIGUSR1 (blocked, taken with
sigwait, so none is lost):
  start                 -> "ready <pid>"
  each SIGUSR1 (STEPS)  -> adds PER_STEP instances of Grow, then "step <k> <total>"
  one more SIGUSR1      -> builds a list of 12345 plain object() instances ("built"), then ends:
       exit3: sys.exit(3); raise: an uncaught ValueError (exit 1); wait: sleeps until killed.
"""
import os
import signal
import sys

_USR1 = {signal.SIGUSR1}


class Grow:
    pass


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main():
    global keep, final  # module globals: alive until finalisation clears __main__
    mode = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    per_step = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)
    keep = []
    say("ready %d" % os.getpid())
    for k in range(1, steps + 1):
        signal.sigwait(_USR1)
        keep.extend(Grow() for _ in range(per_step))
        say("step %d %d" % (k, len(keep)))
    signal.sigwait(_USR1)
    final = [object() for _ in range(12345)]
    say("built %d" % len(final))
    if mode == "exit3":
        sys.exit(3)
    if mode == "raise":
        raise ValueError("the uncaught exception the test expects")
    while True:
        signal.pause()


main()
