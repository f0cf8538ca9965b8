"""Shared numpy data and kernels for the np_column_compute_* tests.

The data is a fixed int64 table of ROWS x COLUMNS; global row index i maps to table row
i % ROWS. One unit is one row ("sample"). A kernel sums each column and each column's squares
over a block of rows; integer sums are exact, so the checksum does not depend on the split.
"""

import numpy as np

ROWS = 1 << 16
COLUMNS = 16
BLOCK = 2048

_table = None
_prefix = None


def table():
    global _table, _prefix
    if _table is None:
        values = np.arange(ROWS * COLUMNS, dtype=np.int64).reshape(ROWS, COLUMNS)
        _table = (values * 2654435761) % 1009
        per_row = _table.sum(axis=1) + (_table * _table).sum(axis=1)
        _prefix = np.concatenate(([0], np.cumsum(per_row)))
    return _table


def rows_checksum(start, count):
    """Checksum of global rows [start, start + count) by the kernel, computed block by block."""
    data = table()
    acc = 0
    position, end = start, start + count
    while position < end:
        row = position % ROWS
        take = min(BLOCK, ROWS - row, end - position)
        block = data[row : row + take]
        acc += int(block.sum(axis=0).sum()) + int((block * block).sum(axis=0).sum())
        position += take
    return acc


def expected(start, count):
    """The same checksum from prefix sums, without running the kernel."""
    table()
    full, rest = divmod(count, ROWS)
    acc = full * int(_prefix[-1])
    row = start % ROWS
    if row + rest <= ROWS:
        acc += int(_prefix[row + rest] - _prefix[row])
    else:
        acc += int(_prefix[ROWS] - _prefix[row]) + int(_prefix[row + rest - ROWS])
    return acc
