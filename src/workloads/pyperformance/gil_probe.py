"""Record whether the GIL was on in each process of a pyperformance benchmark.

ftbench puts this module and a `.pth` line into each venv pyperformance makes, and sets
FTBENCH_GIL_PROBE to a file for the benchmark it runs (pyperf's workers inherit it through
`--inherit-environ`). The `.pth` line imports this module only when the variable is set, so
pip, or any other use of the venv, pays nothing.

It must not change what the benchmark measures, and `python_startup` measures exactly the
start-up this runs in. So it imports nothing (`os` and `sys` are loaded before any `.pth`
file), writes with `os`-level calls, and does its work at two moments only:
- at start, one line: the process's pid and whether the GIL is on already (`PYTHON_GIL=1`, a
  GIL build);
- when an extension module's creation turns the GIL on, one line naming that module, written at
  that moment. A `multiprocessing` fork child that ends with `os._exit` never runs `atexit`
  hooks, so a probe that waited for the exit would miss it. The hook is on the class of the
  loader every extension module goes through (`ExtensionFileLoader.create_module`, where
  CPython's `_imp.create_dynamic` checks the module's `Py_mod_gil` slot), so it costs one
  function call per extension module and nothing per benchmark loop.
"""

import os
import sys

_PATH = os.environ.get("FTBENCH_GIL_PROBE")


def _quote(text):
    """`text` as a JSON string (module names may hold anything a file name can)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char < " " or "\x7f" <= char <= "\x9f":
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _write(enabled, module):
    line = '{"pid": %d, "gil_enabled": %s, "enabled_by": [%s]}\n' % (
        os.getpid(),
        "true" if enabled else "false",
        _quote(module) if module else "",
    )
    try:
        fd = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError:
        return
    try:
        # One write of a short line to an O_APPEND file: lines of concurrent processes never mix.
        os.write(fd, line.encode("utf-8", "backslashreplace"))
    finally:
        os.close(fd)


def _install():
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_enabled is None:
        # A CPython before 3.13: the GIL is always on.
        _write(True, None)
        return
    _write(is_enabled(), None)
    bootstrap = sys.modules.get("_frozen_importlib_external")
    loader = getattr(bootstrap, "ExtensionFileLoader", None)
    create = getattr(loader, "create_module", None)
    if create is None:
        return

    def create_module(self, spec):
        before = is_enabled()
        module = create(self, spec)
        if not before and is_enabled():
            _write(True, getattr(spec, "name", None) or "?")
        return module

    loader.create_module = create_module


if _PATH:
    _install()
