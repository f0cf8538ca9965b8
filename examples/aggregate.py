"""A dict-heavy aggregation over records built once per process by `setup()`.

Each call groups the records by key and sums them: dictionaries and integers, no sharing
between calls, so free-threaded builds can run it in parallel.

    ftbench scale examples/aggregate.py:aggregate --python 3.13t --python 3.13t+gil --mode both
"""


def setup():
    return [("key-%d" % (i % 50), i % 97) for i in range(5000)]


def aggregate(records):
    totals = {}
    for key, value in records:
        totals[key] = totals.get(key, 0) + value
    return sum(totals.values()), len(totals)
