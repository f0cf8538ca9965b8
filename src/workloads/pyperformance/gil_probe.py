"""Record whether the GIL was on in each process of a pyperformance benchmark.

ftbench puts this module and a `.pth` line that imports it into each venv pyperformance makes,
and sets FTBENCH_GIL_PROBE to a file for the benchmark it runs (pyperf's workers inherit it
through `--inherit-environ`). Every process then appends one JSON line at exit: whether the GIL
was enabled, and which module's import turned it back on (CPython warns once, naming it). Without
the variable (pip, or any other use of the venv) it does nothing.
"""

import os

_PATH = os.environ.get("FTBENCH_GIL_PROBE")

if _PATH:
    import atexit
    import json
    import sys
    import warnings

    _enabled_by = []
    _show = warnings.showwarning
    _MARK = "has been enabled to load module '"

    def _record_warning(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if _MARK in text:
            _enabled_by.append(text.split(_MARK, 1)[1].split("'", 1)[0])
        return _show(message, category, filename, lineno, file, line)

    warnings.showwarning = _record_warning

    def _report():
        is_enabled = getattr(sys, "_is_gil_enabled", None)
        record = {
            "pid": os.getpid(),
            "gil_enabled": bool(is_enabled()) if is_enabled else True,
            "enabled_by": _enabled_by,
        }
        with open(_PATH, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    atexit.register(_report)
