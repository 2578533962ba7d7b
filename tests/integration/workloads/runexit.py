"""Integration workload for `run --subprocesses` exit censuses.

usage: runexit.py MODE SIGCOUNT_SO NSIG [OTHER_PYTHON]
  fork|spawn|forkserver  a multiprocessing pool of two workers started that way; they end with the
             pool (close, join) while the program goes on. With forkserver the program then stops
             the fork server (a Python child too, the workers' parent) as CPython's own tests do.
  prefork    a gunicorn-like master: two os.fork workers serving one listening socket; once both
             counted their signals the master asks for "exit" over the socket (the worker that
             accepts it ends by os._exit(0)), sends SIGTERM to the other, and reaps both, printing
             "reaped <pid> exit <code>" or "reaped <pid> signal <n>".
  other      OTHER_PYTHON (another interpreter) runs this file as a leaf: one child that ends by
             returning from its main module (finalisation).
  hold       two os.fork workers that stay up after counting their signals (the test kills them,
             else they end after 120 s);
             the master sleeps until a signal ends it (SIGINT raises KeyboardInterrupt).
Each child builds and keeps a known number of Work objects, waits until pycensus traces it
(TracerPid in /proc/self/status), prints "child <pid> <n> <ppid>", takes the test's real-time
signals (counted in C: tests/integration/fixtures/sigcount.c, NSIG of them) and prints "child <pid>
got <k>" before it ends. The program prints "main <pid> <children>" first, counts its own signals
the same way and, once its children ended, prints "main got <k>" when NSIG arrived (or 60 s
passed)."""
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

KEPT = []
SIGNO = signal.SIGRTMIN + 1
SIZES = (5000, 7000)


class Work:
    pass


def counter(lib_path):
    lib = ctypes.CDLL(lib_path)
    lib.sigcount_get.restype = ctypes.c_ulong
    if lib.sigcount_install(SIGNO) != 0:
        sys.exit("sigaction failed")
    return lib


def traced():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1]) != 0
    return False


def say(text):
    os.write(1, (text + "\n").encode())  # one write: the children's lines never merge


def wait_for(cond, limit_s=60):
    end = time.monotonic() + limit_s
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)


def child(n, lib_path, nsig):
    """Builds n Work, is traced, counts nsig signals."""
    lib = counter(lib_path)
    KEPT.extend(Work() for _ in range(n))
    wait_for(traced)
    say("child %d %d %d" % (os.getpid(), n, os.getppid()))
    wait_for(lambda: lib.sigcount_get() >= nsig)
    say("child %d got %d" % (os.getpid(), lib.sigcount_get()))
    return n


_BARRIER = None


def _hold(barrier):
    global _BARRIER
    _BARRIER = barrier


def work(args):
    # each worker takes one task: without this, a worker that started first could take both
    # (seen under load: one child said "child" twice and got both children's signals)
    _BARRIER.wait()
    return child(*args)


def pool(method, lib_path, nsig):
    import multiprocessing as mp
    mp.set_start_method(method)
    p = mp.Pool(2, initializer=_hold, initargs=(mp.Barrier(2),))
    p.map(work, [(n, lib_path, nsig) for n in SIZES], chunksize=1)
    p.close()
    p.join()
    if method == "forkserver":
        from multiprocessing import forkserver
        forkserver._forkserver._stop()  # closes its pipe, waits for it: it ends by SystemExit


def serve(srv):
    """A prefork worker's loop: "exit" ends it at once, as a worker told to quit by its master."""
    while True:
        conn, _ = srv.accept()
        if conn.recv(16) == b"exit":
            conn.sendall(b"%d" % os.getpid())
            os._exit(0)
        conn.close()


def fork_workers(lib_path, nsig, srv, ready_w):
    pids = []
    for n in SIZES:
        pid = os.fork()
        if pid == 0:
            child(n, lib_path, nsig)
            os.write(ready_w, b"x")
            if srv is None:  # hold: up until the test kills it (bounded, should the test fail)
                time.sleep(120)
                os._exit(0)
            serve(srv)
        pids.append(pid)
    return pids


def reap(pid):
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        say("reaped %d signal %d" % (pid, os.WTERMSIG(status)))
    else:
        say("reaped %d exit %d" % (pid, os.WEXITSTATUS(status)))


def prefork(lib_path, nsig):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    r, w = os.pipe()
    pids = fork_workers(lib_path, nsig, srv, w)
    for _ in pids:
        os.read(r, 1)
    with socket.create_connection(srv.getsockname()) as c:
        c.sendall(b"exit")
        quit_pid = int(c.recv(16))
    reap(quit_pid)
    other = [p for p in pids if p != quit_pid][0]
    os.kill(other, signal.SIGTERM)
    reap(other)


def main():
    mode, lib_path, nsig = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "leaf":
        child(4000, lib_path, nsig)
        return
    lib = counter(lib_path)
    say("main %d %d" % (os.getpid(), 1 if mode == "other" else 2))
    if mode in ("fork", "spawn", "forkserver"):
        pool(mode, lib_path, nsig)
    elif mode == "prefork":
        prefork(lib_path, nsig)
    elif mode == "other":
        subprocess.call([sys.argv[4], __file__, "leaf", lib_path, str(nsig)])
    else:
        fork_workers(lib_path, nsig, None, os.pipe()[1])
        while True:
            time.sleep(1)
    wait_for(lambda: lib.sigcount_get() >= nsig)
    say("main got %d" % lib.sigcount_get())


if __name__ == "__main__":
    main()
