"""thread_lifecycle: the cost of creating, starting and joining threads (the seed's study).

One sample starts N threads one after another (N = 1000 by default, as in the seed), each
sleeping 1 ms (params.sleep = "1") or returning at once ("0"), then joins them all; one unit is
one thread. Each thread's life is cut into phases, measured from Python with perf_counter_ns:

  construct  the threading.Thread(...) call
  start      from calling start() until the thread runs its first line
  body       the thread's own work (the sleep)
  join       from the later of "body ended" and "join() called" until join() returns

Each sample reports the p50/p95/p99 of every phase in microseconds (`sample_extra`), and the
resident memory one live, blocked thread costs (`kb_per_live_thread`): measured once per worker
process, before any sample, as the growth of RSS while 100 threads wait on an event. It is
measured first because a joined thread's stack stays cached by the C library and is reused by
the next thread, so later measurements would read almost nothing.
"""

import threading
import time

KIND = "threads"
FIXED_WORK = 1000

_now = time.perf_counter_ns


LIVE_THREADS = 100


class State:
    def __init__(self, sleep):
        self.sleep = sleep
        self.phases = {}
        self.kb_per_live_thread = _kb_per_live_thread()


def _rss_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _kb_per_live_thread():
    before = _rss_kb()
    if before is None:
        return None
    release = threading.Event()
    running = threading.Semaphore(0)

    def body():
        running.release()
        release.wait()

    threads = [threading.Thread(target=body) for _ in range(LIVE_THREADS)]
    for thread in threads:
        thread.start()
    for _ in threads:
        running.acquire()
    during = _rss_kb()
    release.set()
    for thread in threads:
        thread.join()
    return (during - before) / LIVE_THREADS


def setup(threads, params):
    return State(params.get("sleep", "1") == "1")


def _percentiles(values):
    ordered = sorted(values)
    last = len(ordered) - 1

    def pick(q):
        return ordered[min(last, int(round(q * last)))] / 1000.0

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}


def serial(state, start, count):
    sleep = state.sleep
    first = [0] * count
    ended = [0] * count

    def body(i):
        first[i] = _now()
        if sleep:
            time.sleep(0.001)
        ended[i] = _now()

    construct, started_at, threads = [], [], []
    for i in range(count):
        t0 = _now()
        thread = threading.Thread(target=body, args=(i,))
        construct.append(_now() - t0)
        threads.append(thread)
        started_at.append(_now())
        thread.start()
    join = []
    for i, thread in enumerate(threads):
        called = _now()
        thread.join()
        join.append(_now() - max(called, ended[i]))
    state.phases = {
        "construct": _percentiles(construct),
        "start": _percentiles([first[i] - started_at[i] for i in range(count)]),
        "body": _percentiles([ended[i] - first[i] for i in range(count)]),
        "join": _percentiles(join),
    }
    return sum(1 for i in range(count) if ended[i])


def sample_extra(state):
    extra = {"phases_us": state.phases}
    if state.kb_per_live_thread is not None:
        extra["kb_per_live_thread"] = state.kb_per_live_thread
    return extra


def run_part(state, start, count):
    return serial(state, start, count)


def combine(state, partials):
    return sum(partials)


def expected(state, start, count):
    return count
