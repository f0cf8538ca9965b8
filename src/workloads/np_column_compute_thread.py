"""np_column_compute_thread: numpy column statistics over one shared table, split across threads.

numpy releases the GIL inside its kernels, so even GIL builds overlap some of this work; a
free-threaded build also runs the Python between the kernels in parallel.
"""

import np_columns

KIND = "threads"
CALIBRATION_START = 4096


def setup(threads):
    np_columns.table()


def run_part(state, start, count):
    return np_columns.rows_checksum(start, count)


def combine(state, partials):
    return sum(partials)


def serial(state, start, count):
    return run_part(state, start, count)


def expected(state, start, count):
    return np_columns.expected(start, count)
