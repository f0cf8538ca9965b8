"""lock_contention: every thread increments one counter under one `threading.Lock`.

One unit is one locked increment. The checksum is the final counter: a lost update (a missing or
broken lock) makes it fall short of the number of units.
"""

import threading

KIND = "threads"
CALIBRATION_START = 4096


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.counter = 0


def setup(threads):
    return State()


def reset(state):
    state.counter = 0


def run_part(state, start, count):
    lock = state.lock
    for _ in range(count):
        with lock:
            state.counter += 1
    return count


def combine(state, partials):
    return state.counter


def serial(state, start, count):
    run_part(state, start, count)
    return state.counter


def expected(state, start, count):
    return count
