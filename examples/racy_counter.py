"""A function with a data race: it returns a value read from shared state that other threads
change. `--check-results` reports it as a likely race, with the values that differed.

    ftbench scale examples/racy_counter.py:bump --python 3.13t --check-results --threads 2
"""

import time

STATE = {"value": 0}


def bump():
    before = STATE["value"]
    STATE["value"] = before + 1
    time.sleep(0)  # let another thread in between
    after = STATE["value"]
    STATE["value"] = before
    return after - before
