"""A function that deliberately serializes on one lock shared by every thread.

Whatever the interpreter, threads take turns here: the curve stays flat (or falls), which is
what a hidden global lock in your own code looks like.

    ftbench scale examples/shared_lock.py:locked_work --python 3.13t --python 3.13t+gil
"""

import threading

LOCK = threading.Lock()
COUNTER = [0]


def locked_work():
    with LOCK:
        total = 0
        for i in range(2000):
            total += i * i
        COUNTER[0] += 1
    return total
