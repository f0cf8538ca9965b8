"""ref_counting_local: the same reference traffic as ref_counting_shared, on thread-local objects.

Each thread creates its own object, so a free-threaded build uses the owning thread's fast,
non-atomic reference count. The checksum is the number of references taken, counted only when
each object's reference count is back where it started.
"""

import sys

from ref_counting_shared import Shared, take_refs

KIND = "threads"
CALIBRATION_START = 4096


def setup(threads):
    return None


def run_part(state, start, count):
    obj = Shared()
    baseline = sys.getrefcount(obj)
    done = take_refs(obj, count)
    return done if sys.getrefcount(obj) == baseline else -(10**18)


def combine(state, partials):
    return sum(partials)


def serial(state, start, count):
    return run_part(state, start, count)


def expected(state, start, count):
    return count
