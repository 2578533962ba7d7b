"""A leak through a signal's receiver list, as in Django: every request connects a handler that
closes over the request and never disconnects it, so the signal keeps every request alive.
Prints "ready <pid>" once 500 requests leaked, then leaks one more every 0.5 s until killed.

    pycensus why --kind __main__.Request PID
names the holder: ['request_finished'] -> Signal -> .receivers -> list -> function ->
.__closure__ -> cell -> Request."""
import os
import time


class Signal:
    def __init__(self):
        self.receivers = []

    def connect(self, receiver):
        self.receivers.append(receiver)


class Request:
    def __init__(self, n):
        self.path = "/orders/%d" % n
        self.headers = {"x-request-id": "req-%08d" % n}


request_finished = Signal()


def handle(n):
    request = Request(n)

    def log_done(sender):
        return request.path
    request_finished.connect(log_done)


n = 0
for n in range(500):
    handle(n)
print("ready %d" % os.getpid(), flush=True)
while True:
    n += 1
    handle(n)
    time.sleep(0.5)
