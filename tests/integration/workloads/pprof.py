"""Integration workload for snap -f pprof: instances it counts itself, then a quiet heap.

Builds N_PRODUCTS instances of Product (a plain class) and N_REQUESTS of Request, each with its
__dict__ made a real dict (the "dict of __main__.Request" kind), then prints
  sizes <sys.getsizeof of a Product> <sum of sys.getsizeof of the Request dicts> <python version>
and "ready", and waits (SIGUSR1 blocked, taken by sigwait: nothing runs, the heap stays as it
is between censuses) until it is killed. Runs on CPython 3.8-3.15."""
import platform
import signal
import sys

N_PRODUCTS, N_REQUESTS = 4321, 250


class Product:
    def __init__(self, i):
        self.i = i


class Request:
    def __init__(self, i):
        self.path = "/p/%d" % i


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    global products, requests
    products = [Product(i) for i in range(N_PRODUCTS)]
    requests = [Request(i) for i in range(N_REQUESTS)]
    dict_bytes = sum(sys.getsizeof(r.__dict__) for r in requests)  # materialises each dict
    print("sizes %d %d %s" % (sys.getsizeof(products[0]), dict_bytes, platform.python_version()), flush=True)
    print("ready", flush=True)
    signal.sigwait({signal.SIGUSR1})


main()
