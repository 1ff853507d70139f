"""A Python program that ends while other threads wait in conceptwatch's C++
code (a query to a daemon that does not answer, a hook flushing to one that
is not there) must exit with its own status, not abort: the threads are
daemon threads, so the interpreter finalises under them.

    python_exit_check.py
"""
import sys
import threading
import time

import torch

import conceptwatch

UNREACHABLE = "tcp://127.0.0.1:1"


def query_forever():
    client = conceptwatch.connect(UNREACHABLE, timeout_s=0.3)
    while True:
        try:
            client.runs()
        except conceptwatch.DaemonUnreachable:
            pass


def flush_forever(watch):
    while True:
        watch.close(timeout_s=0.3)


def main():
    model = torch.nn.Linear(8, 8)
    watch = conceptwatch.attach(model, taps={"out": model}, probe=torch.zeros(2, 8), every=1, run="exit",
                                endpoint=UNREACHABLE)
    threading.Thread(target=query_forever, daemon=True).start()
    threading.Thread(target=flush_forever, args=(watch,), daemon=True).start()
    time.sleep(0.2)  # both threads are inside a C++ call now
    print("exiting with 3", flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
