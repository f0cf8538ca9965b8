"""Import one module in this fresh process and record whether the GIL stays off, for
`ftbench audit`.

    python -B -P -X faulthandler imports.py OUT MODULE [EXTENSION...]

MODULE is imported first; then each EXTENSION (the extension modules its distribution ships
under it) that the import did not load, while the GIL is still off, so that an extension
imported lazily is judged too. Each step is written to OUT at once, one JSON object per line,
with this process's pid (a child the import forks runs the rest of this script too, and its
lines are told apart by their pid):

    {"event": "start", "gil": false}
    {"event": "importing", "module": "markupsafe", "direct": false}
    {"event": "created", "module": "markupsafe._speedups", "declares": false}
    {"event": "imported", "module": "markupsafe", "error": null, "gil": true, "seconds": 0.01}
    {"event": "done", "gil": true}

`created` is written when an extension module is created (`ExtensionFileLoader.create_module`,
where CPython checks its `Py_mod_gil` slot): `declares` is true when the GIL stayed off (the
module says it runs without it), false when its creation turned the GIL on, null when the GIL
was on already (nothing can be read then). A process that dies mid-way (a crash, `os._exit`, the
deadline) leaves the lines written so far: the last `importing` says where.
"""

import json
import os
import sys
import time

_OUT = sys.argv[1]


def _write(event, **fields):
    fields = {"event": event, "pid": os.getpid(), **fields}
    line = json.dumps(fields, ensure_ascii=True) + "\n"
    fd = os.open(_OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # One short write to an O_APPEND file: lines of a forked child and its parent never mix.
        os.write(fd, line.encode("ascii", "backslashreplace"))
    finally:
        os.close(fd)


def _text(value):
    """`value` as text JSON can carry (a name's undecodable bytes written as escapes)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _watch_extensions(is_enabled):
    bootstrap = sys.modules.get("_frozen_importlib_external")
    loader = getattr(bootstrap, "ExtensionFileLoader", None)
    create = getattr(loader, "create_module", None)
    if create is None:
        return

    def create_module(self, spec):
        before = is_enabled()
        module = create(self, spec)
        name = _text(getattr(spec, "name", None) or "?")
        _write("created", module=name, declares=None if before else not is_enabled())
        return module

    loader.create_module = create_module


def _import(name, direct, is_enabled):
    _write("importing", module=_text(name), direct=direct)
    started = time.perf_counter()
    error = None
    try:
        __import__(name)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are data too
        import traceback

        lines = traceback.format_exception_only(type(exc), exc)
        error = _text(lines[-1].strip() if lines else type(exc).__name__)
    _write(
        "imported",
        module=_text(name),
        error=error,
        gil=is_enabled(),
        seconds=time.perf_counter() - started,
    )


def main():
    is_enabled = getattr(sys, "_is_gil_enabled", lambda: True)
    _write("start", gil=is_enabled())
    _watch_extensions(is_enabled)
    module, extensions = sys.argv[2], sys.argv[3:]
    _import(module, False, is_enabled)
    for extension in extensions:
        if is_enabled():
            break
        if extension not in sys.modules:
            _import(extension, True, is_enabled)
    _write("done", gil=is_enabled())


if __name__ == "__main__":
    main()
    # Not the interpreter's shutdown: threads the import started, or its atexit hooks, could
    # hang or print; what was to be recorded is written.
    os._exit(0)
