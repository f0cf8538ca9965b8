"""user: the user's own function, run like any built-in test (`ftbench scale FILE:FUNCTION`).

params: path (the .py file), function, args (JSON: a list of positional arguments or an object
of keyword arguments), check ("1": compare every call's result with the serial one), executor
("thread" or "process"), fixed (a work size instead of calibration), env (JSON object: variables
inherited from ftbench's environment, `--inherit-env`; PYTHONPATH entries join sys.path, since
the worker runs isolated), user_site ("1": add the user site-packages, as `python FILE` would).

One unit is one call. `setup()` in the same file, if present, runs once per process and its
return value is passed to the function as its first argument. Imports that turn the GIL back on
are recorded by the warning CPython gives, so ftbench can name the extension.
"""

import concurrent.futures
import importlib.util
import inspect
import json
import multiprocessing
import os
import pickle
import site
import sys
import warnings

KIND = "threads"
CALIBRATION_START = 1


class UserError(Exception):
    """A mistake in the user's file, reported as it is."""


class State:
    def __init__(self, threads, params):
        path = params["path"]
        name = params["function"]
        self.executor_kind = params.get("executor", "thread")
        self.check = params.get("check") == "1"
        self.workers = threads
        self.pool = None
        self.gil_warnings = []
        arguments = json.loads(params.get("args") or "[]")
        inherit(params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = load(path)
            function = getattr(module, name, None)
            if function is None or not callable(function):
                defined = sorted(
                    n
                    for n, v in vars(module).items()
                    if inspect.isfunction(v) and v.__module__ == module.__name__
                )
                raise UserError(
                    "%s has no function `%s`; it defines: %s"
                    % (path, name, ", ".join(defined) or "no functions")
                )
            setup = getattr(module, "setup", None)
            prefix = (setup(),) if callable(setup) else ()
        self.gil_warnings = [str(w.message) for w in caught if "GIL" in str(w.message)]
        if isinstance(arguments, dict):
            self.call = lambda: function(*prefix, **arguments)
        else:
            self.call = lambda: function(*prefix, *arguments)
        self.function = function
        self.reference = self.call() if self.check else None
        self.mismatch = None
        if self.executor_kind == "process":
            try:
                pickle.dumps(function)
            except Exception as exc:  # noqa: BLE001 - any pickling failure means the same
                raise UserError(
                    "`%s` in %s cannot be pickled, so it cannot run in processes: %s: %s"
                    % (name, path, type(exc).__name__, exc)
                ) from None


def inherit(params):
    """What `python FILE` would have that an isolated worker lacks: inherited variables,
    PYTHONPATH on sys.path, the user site-packages."""
    for name, value in json.loads(params.get("env") or "{}").items():
        os.environ[name] = value
        if name == "PYTHONPATH":
            for entry in reversed([e for e in value.split(os.pathsep) if e]):
                if entry not in sys.path:
                    sys.path.insert(0, entry)
    if params.get("user_site") == "1":
        user_site = site.getusersitepackages()
        if os.path.isdir(user_site) and user_site not in sys.path:
            site.addsitedir(user_site)


def load(path):
    directory = os.path.dirname(os.path.abspath(path))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    # `scale --base`: the code before the change comes first, ahead of the file's own folder
    # (the working tree), so that the same FILE:FUNCTION imports the base's modules.
    first = os.environ.get("FTBENCH_SYS_PATH_FIRST")
    if first:
        sys.path.insert(0, first)
    spec = importlib.util.spec_from_file_location("ftbench_user_module", path)
    if spec is None or spec.loader is None:
        raise UserError("%s is not a Python file" % path)
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, so pickling (process mode) finds the module by name.
    sys.modules["ftbench_user_module"] = module
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        raise UserError(
            "%s: %s. ftbench runs your file in an isolated interpreter: PYTHONPATH and the user "
            "site-packages are passed on, other variables with --inherit-env NAME,...; or install "
            "the module for this interpreter" % (type(exc).__name__, exc)
        ) from exc
    return module


def setup(threads, params):
    return State(threads, params)


def calls(state, count):
    call, check, reference = state.call, state.check, state.reference
    right = 0
    for _ in range(count):
        result = call()
        if not check or result == reference:
            right += 1
        elif state.mismatch is None:
            state.mismatch = result
    return right


def run_part(state, start, count):
    return calls(state, count)


def combine(state, partials):
    if state.mismatch is not None:
        mismatch, state.mismatch = state.mismatch, None
        raise UserError(
            "likely race: a thread's call returned %r, the serial call returned %r"
            % (mismatch, state.reference)
        )
    return sum(partials)


def serial(state, start, count):
    return combine(state, [calls(state, count)])


def _call_in_process(count):
    state = _PROCESS_STATE
    return calls(state, count), state.mismatch


_PROCESS_STATE = None


def parallel(state, start, count):
    global _PROCESS_STATE
    if state.executor_kind != "process":
        raise UserError("parallel() is for process mode")
    if state.pool is None:
        _PROCESS_STATE = state  # inherited by the forked workers
        state.pool = concurrent.futures.ProcessPoolExecutor(
            state.workers, mp_context=multiprocessing.get_context("fork")
        )
        list(state.pool.map(_call_in_process, [0] * state.workers))
    base, extra = divmod(count, state.workers)
    sizes = [base + (1 if i < extra else 0) for i in range(state.workers)]
    total = 0
    for right, mismatch in state.pool.map(_call_in_process, sizes):
        total += right
        if mismatch is not None and state.mismatch is None:
            state.mismatch = mismatch
    return combine(state, [total])


def expected(state, start, count):
    return count


def sample_extra(state):
    return {"gil_enabled_by": state.gil_warnings} if state.gil_warnings else None


def teardown(state):
    if state.pool is not None:
        state.pool.shutdown(wait=True)
