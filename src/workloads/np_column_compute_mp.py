"""np_column_compute_mp: the np_column_compute_thread work, done by a multiprocessing pool.

The pool (fork start method, one process per "thread") is started before timing, so the samples
hold the cost of handing tasks to processes and results back, not process start-up. The work is
cut into 4 tasks per process, as a user of `Pool.map` would.
"""

import multiprocessing

import np_columns

KIND = "executor"
CALIBRATION_START = 4096


def _task(bounds):
    return np_columns.rows_checksum(bounds[0], bounds[1])


def _noop(_):
    return None


class State:
    def __init__(self, processes):
        np_columns.table()  # built before fork, inherited by every child
        self.processes = processes
        self.pool = None

    def ensure_pool(self):
        if self.pool is None:
            self.pool = multiprocessing.get_context("fork").Pool(self.processes)
            self.pool.map(_noop, range(self.processes * 4))
        return self.pool


def setup(threads):
    return State(threads)


def parallel(state, start, count):
    pool = state.ensure_pool()
    tasks = state.processes * 4
    base, extra = divmod(count, tasks)
    bounds, position = [], start
    for i in range(tasks):
        size = base + (1 if i < extra else 0)
        bounds.append((position, size))
        position += size
    return sum(pool.map(_task, bounds))


def serial(state, start, count):
    return np_columns.rows_checksum(start, count)


def expected(state, start, count):
    return np_columns.expected(start, count)


def teardown(state):
    if state.pool is not None:
        state.pool.close()
        state.pool.join()
