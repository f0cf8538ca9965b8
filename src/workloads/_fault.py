"""_fault: a hidden test that misbehaves on purpose, for ftbench's own fault-handling tests.

The fault comes from the FTBENCH_FAULT environment variable (read through os.environ, which
`python -I` still fills): hang, exit3, segfault, raise, garbage, die_mid_sample, bad_checksum,
slow_thread (the first thread of a team burns twice the CPU in its part that its work needs: to
ftbench, exactly a CPU at half speed). Without it, the test is a tiny correct workload.
"""

import os
import sys
import threading
import time

KIND = "threads"
CALIBRATION_START = 1024
FAULT = os.environ.get("FTBENCH_FAULT", "")
_calls = [0]


def setup(threads):
    return None


def misbehave():
    _calls[0] += 1
    if FAULT == "hang":
        time.sleep(3600)
    elif FAULT == "exit3":
        os._exit(3)
    elif FAULT == "segfault":
        import ctypes

        ctypes.string_at(0)
    elif FAULT == "raise":
        raise RuntimeError("the workload raised on purpose")
    elif FAULT == "garbage":
        # worker.py is imported by start_worker.py (or run as the main script by hand).
        out = (
            getattr(sys.modules.get("worker"), "_protocol_out", None)
            or sys.modules["__main__"]._protocol_out
        )
        out.write("this is not JSON\n")
        out.flush()
    elif FAULT == "die_mid_sample" and _calls[0] >= 3:
        print("dying in the middle of a sample", file=sys.stderr)
        os._exit(1)


def run_part(state, start, count):
    in_team = threading.current_thread() is not threading.main_thread()
    if FAULT == "slow_thread" and start == 0 and in_team:
        sum(range(start, start + count))
    return sum(range(start, start + count))


def combine(state, partials):
    misbehave()
    total = sum(partials)
    return total + 1 if FAULT == "bad_checksum" else total


def serial(state, start, count):
    return combine(state, [run_part(state, start, count)])


def expected(state, start, count):
    return sum(range(start, start + count))
