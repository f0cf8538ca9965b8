"""Describe the running interpreter as one JSON object on stdout.

Run by ftbench as `python -I -B query.py`. It must stay importable by every Python ftbench
supports, and must reject the ones it does not with a known error instead of a traceback.
"""

import json
import os
import platform
import sys


def fail(kind, message):
    print(json.dumps({"result": "error", "kind": kind, "message": message}))
    sys.exit(0)


if sys.version_info < (3, 9):
    fail(
        "unsupported_version",
        "Python %d.%d is older than 3.9, the oldest ftbench supports" % sys.version_info[:2],
    )

import sysconfig


def config_flag(name):
    value = sysconfig.get_config_var(name)
    return bool(value) if value is not None else False


def numpy_version():
    # Importing numpy may re-enable the GIL on a free-threaded build (an old wheel), so look the
    # version up from the installed metadata instead of importing it.
    try:
        from importlib import metadata

        return metadata.version("numpy")
    except Exception:  # noqa: BLE001 - any failure means "no usable numpy"
        return None


def site_packages():
    try:
        import site

        return [p for p in site.getsitepackages() if os.path.isdir(p)]
    except Exception:  # noqa: BLE001 - venvs of old virtualenv lack getsitepackages
        return []


def main():
    config_args = sysconfig.get_config_var("CONFIG_ARGS") or ""
    gil_enabled = True
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_gil_enabled is not None:
        gil_enabled = bool(is_gil_enabled())
    jit = False
    jit_module = getattr(sys, "_jit", None)
    if jit_module is not None:
        jit = bool(getattr(jit_module, "is_available", lambda: False)())
    elif "--enable-experimental-jit" in config_args:
        jit = True
    info = {
        "result": "success",
        "version": platform.python_version(),
        "version_info": list(sys.version_info[:3]),
        "release_level": sys.version_info.releaselevel,
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "free_threaded": config_flag("Py_GIL_DISABLED"),
        "gil_enabled": gil_enabled,
        "jit": jit,
        "compiler": platform.python_compiler(),
        "pgo": "--enable-optimizations" in config_args,
        "lto": "--with-lto" in config_args,
        "config_args": config_args,
        "debug_build": hasattr(sys, "gettotalrefcount"),
        "architecture": platform.machine(),
        "platform": sys.platform,
        "pointer_bits": 64 if sys.maxsize > 2**32 else 32,
        "numpy": numpy_version(),
        "site_packages": site_packages(),
        "env_python_gil": os.environ.get("PYTHON_GIL"),
    }
    print(json.dumps(info))


main()
