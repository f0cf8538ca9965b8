"""parallel_compute: pure-Python integer arithmetic, no shared state.

One unit is one loop iteration `acc += i * i`. The checksum is the exact sum of squares over the
global unit indices, so any split across threads must give the same number.
"""

KIND = "threads"
CALIBRATION_START = 4096


def setup(threads):
    return None


def run_part(state, start, count):
    acc = 0
    for i in range(start, start + count):
        acc += i * i
    return acc


def combine(state, partials):
    return sum(partials)


def serial(state, start, count):
    return run_part(state, start, count)


def expected(state, start, count):
    def squares_below(n):  # sum of i*i for 0 <= i < n
        return (n - 1) * n * (2 * n - 1) // 6 if n > 0 else 0

    return squares_below(start + count) - squares_below(start)
