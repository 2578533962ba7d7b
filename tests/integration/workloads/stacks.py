"""Integration workload for `pycensus stacks`: threads parked in known places, described truthfully.

Three named threads: "spinner" loops in Python (and so holds the GIL), "sleeper" is in time.sleep,
"blocker" waits on a threading.Lock; the main thread waits in signal.sigwait. Once every thread is
there, the workload prints what a stack dump must show, then "ready", and parks:
  thread <name> <native id> <ident>       one per thread
  frame <name> <function> <line>          innermost first, only this file's frames
  gil <name>                              the thread expected to hold the GIL
Line numbers come from the "# @mark" comments of this file, found by reading it, and are checked
against sys._current_frames() before "ready". SIGUSR1 ends it. Runs on CPython 3.8-3.15.
"""
import os
import signal
import sys
import threading
import time

_USR1 = {signal.SIGUSR1}
# Blocked in every thread (threads inherit the mask), taken synchronously by the main thread.
signal.pthread_sigmask(signal.SIG_BLOCK, _USR1)

MARKS = {}
with open(os.path.abspath(__file__)) as _f:
    for _no, _text in enumerate(_f, 1):
        if "# @" in _text and "MARKS" not in _text:
            MARKS[_text.split("# @")[1].split()[0]] = _no


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def spin():
    n = 0
    while True: n += 1  # @spin


def nap():
    time.sleep(1e6)  # @nap


def block(lock):
    lock.acquire()  # @block


def worker(fn, *args):
    fn(*args)  # @call


def park():
    signal.sigwait(_USR1)  # @park


# The system call each parked thread sits in (x86-64 numbers), from /proc/self/task/TID/syscall.
SLEEP_CALLS = {23, 35, 230, 270}  # select (3.8-3.10 time.sleep), nanosleep, clock_nanosleep, pselect6
FUTEX = 202


def in_syscall(tid, calls):
    try:
        with open("/proc/self/task/%d/syscall" % tid) as f:
            first = f.read().split()[0]
    except (OSError, IndexError):
        return False
    return first.isdigit() and int(first) in calls


def at_line(t, line):
    f = sys._current_frames().get(t.ident)
    return f is not None and f.f_lineno == line


def wait_until(cond):
    for _ in range(6000):  # a hang guard, not a timing assumption
        if cond():
            return
        time.sleep(0.01)
    say("timeout")
    sys.exit(1)


def main():
    lock = threading.Lock()
    lock.acquire()
    sleeper = threading.Thread(target=worker, args=(nap,), name="sleeper", daemon=True)
    blocker = threading.Thread(target=worker, args=(block, lock), name="blocker", daemon=True)
    sleeper.start()
    blocker.start()
    # Parked twice in a row, with our own sleep between: a thread that was only waiting for the
    # GIL at that line has had the chance to go on into its call.
    for _ in range(2):
        wait_until(lambda: at_line(sleeper, MARKS["nap"]) and in_syscall(sleeper.native_id, SLEEP_CALLS))
        wait_until(lambda: at_line(blocker, MARKS["block"]) and in_syscall(blocker.native_id, {FUTEX}))
    spinner = threading.Thread(target=worker, args=(spin,), name="spinner", daemon=True)
    spinner.start()
    wait_until(lambda: at_line(spinner, MARKS["spin"]))
    me = threading.current_thread()
    for t in (me, spinner, sleeper, blocker):
        say("thread %s %d %d" % (t.name, t.native_id, t.ident))
    for name, fn in (("spinner", "spin"), ("sleeper", "nap"), ("blocker", "block")):
        say("frame %s %s %d" % (name, fn, MARKS[fn]))
        say("frame %s worker %d" % (name, MARKS["call"]))
    say("frame %s park %d" % (me.name, MARKS["park"]))
    say("frame %s main %d" % (me.name, MARKS["main"]))
    say("frame %s <module> %d" % (me.name, MARKS["module"]))
    say("gil spinner")
    say("file %s" % os.path.abspath(__file__))
    say("ready")
    park()  # @main


if __name__ == "__main__":
    main()  # @module
