"""Integration workload: a process tree, for snap --subprocesses.

usage: tree.py MODE OTHER_PYTHON
  MODE fork|spawn: a multiprocessing pool of two workers started that way, holding 5,000 and
       7,000 Work objects; prefork: a gunicorn-like master that forks two workers serving one
       listening socket, holding the same.
Every mode also starts OTHER_PYTHON (another interpreter, maybe another version) on this script
in leaf mode, holding 3,000 Work objects, and `sleep` (not Python). The root holds 1,000.
Prints "child <pid> <n>" for each Python process and its Work count, then "ready"."""
import os
import socket
import subprocess
import sys
import time


class Work:
    def __init__(self, i):
        self.i = i


def hold(n, report):
    keep = [Work(i) for i in range(n)]
    report(os.getpid(), n)
    while True:
        time.sleep(1)
    return keep


def pool_worker(n, q):
    hold(n, lambda pid, k: q.put((pid, k)))


def pool(method):
    import multiprocessing as mp
    ctx = mp.get_context(method)
    q = ctx.Queue()
    ps = [ctx.Process(target=pool_worker, args=(n, q), daemon=True) for n in (5000, 7000)]
    for p in ps:
        p.start()
    return [q.get(timeout=60) for _ in ps]


def prefork():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    r, w = os.pipe()
    for n in (5000, 7000):
        if os.fork() == 0:
            os.close(r)
            hold(n, lambda pid, k: os.write(w, b"%d %d\n" % (pid, k)))
    os.close(w)
    with os.fdopen(r) as f:
        return [tuple(int(x) for x in f.readline().split()) for _ in range(2)]


def main():
    if sys.argv[1] == "leaf":
        hold(3000, lambda pid, k: print("child %d %d" % (pid, k), flush=True))
    children = pool(sys.argv[1]) if sys.argv[1] in ("fork", "spawn") else prefork()
    root = [Work(i) for i in range(1000)]  # after the forks: the children do not inherit it
    leaf = subprocess.Popen([sys.argv[2], __file__, "leaf"], stdout=subprocess.PIPE, universal_newlines=True)
    children.append(tuple(int(x) for x in leaf.stdout.readline().split()[1:]))
    sleeper = subprocess.Popen(["sleep", "600"])
    print("child %d %d" % (os.getpid(), len(root)), flush=True)
    for pid, n in children:
        print("child %d %d" % (pid, n), flush=True)
    print("nonpython %d" % sleeper.pid, flush=True)
    print("ready", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
