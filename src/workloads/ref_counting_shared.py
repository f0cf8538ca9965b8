"""ref_counting_shared: all threads take and drop references to one shared object.

One unit is one reference taken (and dropped): each loop iteration builds a 4-slot list of the
object. On a free-threaded build the object's shared reference count is updated atomically from
every thread, so this test shows that contention. The checksum is the number of references
taken, and only counts when the object's reference count is back where it started.
"""

import sys

KIND = "threads"
CALIBRATION_START = 4096
REFS_PER_ITERATION = 4


class Shared:
    pass


class State:
    def __init__(self):
        self.obj = Shared()
        self.baseline = sys.getrefcount(self.obj)


def setup(threads):
    return State()


def take_refs(obj, count):
    for _ in range(count // REFS_PER_ITERATION):
        refs = [obj, obj, obj, obj]
        del refs
    for _ in range(count % REFS_PER_ITERATION):
        ref = obj
        del ref
    return count


def run_part(state, start, count):
    return take_refs(state.obj, count)


def combine(state, partials):
    if sys.getrefcount(state.obj) != state.baseline:
        return -1
    return sum(partials)


def serial(state, start, count):
    return combine(state, [run_part(state, start, count)])


def expected(state, start, count):
    return count
