"""The pool_* tests: the seed study's cpu-bound and io-bound tasks through an executor.

One module serves four tests, picked by the request's params: `task` is "cpu" or "io",
`executor` is "thread" (ThreadPoolExecutor) or "process" (ProcessPoolExecutor, fork). Executors
are created and warmed up (every worker started) before timing; one unit is one task.
"""

import concurrent.futures
import multiprocessing
import time

KIND = "executor"
CALIBRATION_START = 4

CPU_TASK_SIZE = 2000


def cpu_bound_task(x):
    # CPU-intensive and never releases the GIL (the seed's task)
    return sum(i * i for i in range(x))


CPU_TASK_RESULT = cpu_bound_task(CPU_TASK_SIZE)


def io_bound_task(i):
    # Sleeps 1..5 ms like the seed's task, deterministically per index so runs are comparable.
    time.sleep((1 + (i * 7919) % 5) / 1000)
    return i * 2


def cpu_checksum(start, count):
    return sum(cpu_bound_task(CPU_TASK_SIZE) for _ in range(count))


def cpu_expected(start, count):
    return count * CPU_TASK_RESULT


def io_checksum(start, count):
    return sum(io_bound_task(i) for i in range(start, start + count))


def io_expected(start, count):
    return sum(2 * i for i in range(start, start + count))


def _warm(_):
    time.sleep(0.01)


class Pool:
    """An executor of `workers` threads or processes, started before the first timed run."""

    def __init__(self, kind, workers, task):
        self.kind = kind
        self.task = task
        self.workers = workers
        self.executor = None

    def get(self):
        if self.executor is None:
            if self.kind == "thread":
                self.executor = concurrent.futures.ThreadPoolExecutor(self.workers)
            else:
                self.executor = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("fork")
                )
            list(self.executor.map(_warm, range(self.workers)))
        return self.executor

    def close(self):
        if self.executor is not None:
            self.executor.shutdown(wait=True)


def cpu_map(pool, start, count):
    chunk = max(1, count // (pool.workers * 4)) if pool.kind == "process" else 1
    sizes = [CPU_TASK_SIZE] * count
    return sum(pool.get().map(cpu_bound_task, sizes, chunksize=chunk))


def io_map(pool, start, count):
    return sum(pool.get().map(io_bound_task, range(start, start + count)))


def setup(threads, params):
    return Pool(params["executor"], threads, params["task"])


def parallel(state, start, count):
    if state.task == "cpu":
        return cpu_map(state, start, count)
    return io_map(state, start, count)


def serial(state, start, count):
    if state.task == "cpu":
        return cpu_checksum(start, count)
    return io_checksum(start, count)


def expected(state, start, count):
    if state.task == "cpu":
        return cpu_expected(start, count)
    return io_expected(start, count)


def teardown(state):
    state.close()
