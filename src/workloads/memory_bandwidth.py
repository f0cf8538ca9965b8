"""memory_bandwidth: each thread copies its own 4 MiB buffer into another, over and over.

One unit is one 4 MiB copy (`dst[:] = src`, a memmove), so the metric is bytes moved per second.
Buffers are larger than a core's private caches; many threads together find the memory ceiling.
The checksum is the number of copies, counted only when the last copy equals its source.
"""

KIND = "threads"
CALIBRATION_START = 4
CHUNK_BYTES = 4 * 1024 * 1024


class State:
    def __init__(self, threads):
        pattern = bytes(range(256)) * (CHUNK_BYTES // 256)
        self.pairs = [(bytearray(pattern), bytearray(CHUNK_BYTES)) for _ in range(threads)]
        self.lock = __import__("threading").Lock()
        self.next = 0

    def take(self):
        with self.lock:  # once per part, outside the copy loop
            pair = self.pairs[self.next % len(self.pairs)]
            self.next += 1
            return pair


def setup(threads):
    return State(threads)


def reset(state):
    state.next = 0


def run_part(state, start, count):
    src, dst = state.take()
    for _ in range(count):
        dst[:] = src
    if count and dst != src:
        return -(10**18)
    dst[:1] = b"\xff"  # the next run must copy again to pass the check
    return count


def combine(state, partials):
    return sum(partials)


def serial(state, start, count):
    return run_part(state, start, count)


def expected(state, start, count):
    return count
