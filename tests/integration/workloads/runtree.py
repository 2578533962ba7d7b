"""Integration workload for `run --subprocesses`: a multiprocessing pool (start method argv[1]) of
two workers that build and keep 5,000 and 7,000 Work objects, then hold them while the program
sleeps 2 s and ends (the pool is terminated on the way out). Prints "child <pid> <n>" per worker."""
import multiprocessing as mp
import os
import sys
import time

KEPT = []


class Work:
    pass


def build(n):
    KEPT.extend(Work() for _ in range(n))
    return os.getpid(), n


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    with mp.Pool(2) as pool:
        for pid, n in pool.map(build, [5000, 7000], chunksize=1):
            print("child %d %d" % (pid, n), flush=True)
        time.sleep(2)
