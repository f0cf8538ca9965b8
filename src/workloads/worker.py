"""ftbench worker: runs one workload in the interpreter under test and reports over JSON lines.

Run by ftbench as `python -I -B worker.py` in a directory that also holds the workload modules.
It reads one JSON request on stdin and writes JSON lines on the real stdout; everything else the
process prints goes to stderr, because stdout belongs to the protocol.

Messages (each one JSON object with a "type"):
  hello        {"protocol", "pid", "version", "free_threaded", "gil_enabled"}
  calibration  {"work_size", "wall_ns"}
  sample       {"index", "warmup", "wall_ns", "work_units", "checksum", "expected",
                "gil_enabled_before", "gil_enabled_after", "extra",
                "cpu_ns", "window_ns", and where /proc has them "cpu_wait_ns", "busy_ns",
                "steal_ns", "own_ns" (see Accounting); where `resource` exists
                "voluntary_switches", "involuntary_switches", "max_rss_kb", "rss_kb"
                (see Accounting.memory); for a team of threads or a serial run, "threads":
                one object per thread (see ThreadClock)}
  error        {"kind", "message", "traceback"}
  done         {}

A workload is a module beside this file. What the worker reads from it:
  setup(threads) -> state         required: everything a sample needs, made once per process
  run_part(state, start, count)   required for threads: one thread's part of a sample, the units
                                  [start, start + count); returns its partial result
  combine(state, partials)        required for threads: the sample's checksum from the parts
  serial(state, start, count)     required: the whole sample on the calling thread (serial runs
                                  and calibration); returns the checksum
  expected(state, start, count)   required: the checksum a correct sample has
  parallel(state, start, count)   for pools (KIND "pool", or state.executor_kind "process"):
                                  the whole sample through the module's own executor
  KIND                            "threads" (default) or "pool"
  FIXED_WORK                      a fixed work size: no calibration
  CALIBRATION_START               the first work size calibration tries (default 64)
  reset(state)                    called before each sample, when present
  sample_extra(state) -> dict     extra fields for each sample (`extra`), when present
  teardown(state)                 called once after the last sample, when present

Importing this module does nothing else: a worker process calls `run_main()` (start_worker.py),
which takes stdout for the protocol, ties the process to ftbench and reads the machine's
counters first (`start()`), so tests can import it and call its functions.
"""

import os
import sys

try:
    import resource
except ImportError:  # not on Windows: no switches and no memory, the rest still works
    resource = None
import threading
import time

# Bump for any change ftbench cannot ignore; src/runner/protocol.rs states the same number.
PROTOCOL = 1

# The real stdout, kept for the protocol once `claim_stdout()` has run.
_protocol_out = None


def claim_stdout():
    """Keep the real stdout for the protocol and point everything else at stderr, so a workload
    (or a sitecustomize, or a C extension writing to fd 1) cannot corrupt the message stream."""
    global _protocol_out
    _protocol_out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def _format_exc():
    # traceback is imported only when there is one to format: it costs a worker ~4 ms to start.
    import traceback

    return traceback.format_exc()


def import_cached(name):
    """Import one of ftbench's workload modules, its bytecode cached in ftbench's script folder
    for the run's later workers (the interpreter's -B holds for everything else)."""
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        return __import__(name)
    finally:
        sys.dont_write_bytecode = dont_write


def free_threaded_build():
    """Whether this is a free-threaded build: `t` in the ABI flags (POSIX), else sysconfig.

    sysconfig's build data costs every worker a few ms to load; the ABI flags say the same.
    """
    abiflags = getattr(sys, "abiflags", None)
    if abiflags is not None:
        return "t" in abiflags
    return bool(__import__("sysconfig").get_config_var("Py_GIL_DISABLED") or False)


def die_with_ftbench():
    """Have the kernel kill this worker when ftbench dies, even by SIGKILL (Linux).

    ftbench passes its pid; if it is already gone (it died between starting us and now), exit.
    """
    parent = os.environ.get("FTBENCH_PARENT_PID")
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig, sigkill = 1, 9
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, sigkill)
    except (ImportError, OSError, AttributeError):
        return
    if os.getppid() != int(parent):
        os._exit(1)


# The protocol's JSON without the json package: `import json` pulls in re and enum, a quarter of
# a worker's start-up (10 of 40 ms), paid by every worker process. CPython's _json has the two
# pieces that matter (string quoting, and the scanner json.loads uses); elsewhere, json itself.
try:
    from _json import encode_basestring_ascii as _quote
    from _json import make_scanner as _make_scanner
except ImportError:  # not CPython
    _quote = _make_scanner = None


def dumps(value):
    """`value` (None, bool, int, float, str, list, tuple, dict) as JSON, as json.dumps writes it
    but without spaces."""
    if _quote is None:
        import json

        return json.dumps(value, separators=(",", ":"))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, dict):
        return "{%s}" % ",".join("%s:%s" % (_quote(str(k)), dumps(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[%s]" % ",".join(dumps(v) for v in value)
    raise TypeError("%s is not JSON serializable" % type(value).__name__)


class _Scanning:
    """What _json's scanner reads from a json.JSONDecoder: its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity


def loads(text):
    """One JSON value (the request line)."""
    if _make_scanner is None:
        import json

        return json.loads(text)
    text = text.strip()
    try:
        value, end = _make_scanner(_Scanning())(text, 0)
    except StopIteration:
        raise ValueError("not a JSON value: %r" % text[:80]) from None
    if end != len(text):
        raise ValueError("extra data after the JSON value at %d" % end)
    return value


def emit(message_type, **fields):
    fields["type"] = message_type
    _protocol_out.write(dumps(fields) + "\n")
    _protocol_out.flush()


def gil_enabled():
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def split(total, parts):
    """Split `total` units into `parts` contiguous (start, count) ranges, sizes within 1."""
    base, extra = divmod(total, parts)
    ranges, start = [], 0
    for i in range(parts):
        count = base + (1 if i < extra else 0)
        ranges.append((start, count))
        start += count
    return ranges


class Accounting:
    """The machine's CPU accounting around a timed section (Linux /proc; absent elsewhere).

    Read just before the section starts and just after it ends:
      psi_us     /proc/pressure/cpu "some" total: time during which some runnable task waited for a
                 CPU (microseconds, precise).
      busy_ticks /proc/stat: CPU time of every CPU that was not idle (clock ticks, 10 ms).
      steal      /proc/stat: time the hypervisor ran something else on our virtual CPUs (ticks).
      own_ns     this process's CPU time, all threads (`time.process_time_ns`), plus its child
                 processes' (ticks from /proc/PID/stat: process pools), plus ftbench's (its
                 parent, ticks), so that "everything else" is what is left.
    """

    def __init__(self):
        self.tick_ns = 1e9 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 1e7
        self.parent = os.getppid()
        self.has_psi = self._psi() is not None
        self.has_stat = self._stat() is not None

    @staticmethod
    def _psi():
        try:
            with open("/proc/pressure/cpu") as f:
                return int(f.readline().split("total=")[1])
        except (OSError, IndexError, ValueError):
            return None

    @staticmethod
    def _stat():
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        # user nice system idle iowait irq softirq steal ...
        busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]
        return busy, fields[7] if len(fields) > 7 else 0

    def _task_ticks(self, pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            return 0

    def read(self):
        children = 0
        if "multiprocessing" in sys.modules:
            for child in sys.modules["multiprocessing"].active_children():
                children += self._task_ticks(child.pid)
        stat = self._stat() if self.has_stat else None
        return (
            time.perf_counter_ns(),
            self._psi() if self.has_psi else None,
            stat,
            time.process_time_ns(),
            (children + self._task_ticks(self.parent)) * self.tick_ns,
            self._switches(),
        )

    def _switches(self):
        """(voluntary, involuntary) context switches of this process's threads and its child
        processes: a thread that blocks (a lock, I/O, a queue, a sleep) switches voluntarily; one
        the scheduler takes off a CPU for another task, involuntarily."""
        if resource is None:
            return None
        own = resource.getrusage(resource.RUSAGE_SELF)
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        voluntary = own.ru_nvcsw + reaped.ru_nvcsw
        involuntary = own.ru_nivcsw + reaped.ru_nivcsw
        if "multiprocessing" in sys.modules:
            for child in sys.modules["multiprocessing"].active_children():
                status = _proc_status(child.pid)
                voluntary += status.get("voluntary_ctxt_switches", 0)
                involuntary += status.get("nonvoluntary_ctxt_switches", 0)
        return voluntary, involuntary

    @staticmethod
    def memory():
        """(max_rss_kb, rss_kb): the peak resident memory of this process, or of its largest
        child process if that is larger (process pools), and the resident memory now, with live
        child processes' added. RSS counts pages in RAM: memory an allocator keeps after `free`
        (mimalloc in free-threaded builds, pymalloc's arenas) still counts."""
        if resource is None:
            return None
        own = _proc_status(os.getpid())
        # Linux keeps `ru_maxrss` across exec: a worker started by posix_spawn (vfork) inherits
        # the harness's own peak, so a 136 MiB harness made every worker read 136 MiB. VmHWM
        # belongs to this process's address space, which exec made new. Reaped children's
        # `ru_maxrss` is theirs (forked from this process, they can only inherit its peak).
        peak = own.get("VmHWM")
        if peak is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            if sys.platform == "darwin":
                peak //= 1024  # macOS reports bytes, Linux kilobytes
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if sys.platform == "darwin":
            children //= 1024
        peak = max(peak, children)
        now = own.get("VmRSS")
        if "multiprocessing" in sys.modules:
            for child in sys.modules["multiprocessing"].active_children():
                status = _proc_status(child.pid)
                peak = max(peak, status.get("VmHWM", 0))
                if now is not None:
                    now += status.get("VmRSS", 0)
        return peak, now

    def between(self, before, after, cpu_ns):
        """The sample's fields: `cpu_ns` of the timed threads, and the machine's accounting."""
        fields = {"cpu_ns": int(cpu_ns), "window_ns": after[0] - before[0]}
        if before[1] is not None and after[1] is not None:
            fields["cpu_wait_ns"] = (after[1] - before[1]) * 1000
        if before[2] is not None and after[2] is not None:
            fields["busy_ns"] = int((after[2][0] - before[2][0]) * self.tick_ns)
            fields["steal_ns"] = int((after[2][1] - before[2][1]) * self.tick_ns)
            fields["own_ns"] = int((after[3] - before[3]) + (after[4] - before[4]))
        if before[5] is not None and after[5] is not None:
            fields["voluntary_switches"] = after[5][0] - before[5][0]
            fields["involuntary_switches"] = after[5][1] - before[5][1]
        memory = self.memory()
        if memory is not None:
            fields["max_rss_kb"] = memory[0]
            if memory[1] is not None:
                fields["rss_kb"] = memory[1]
        return fields


def _proc_status(pid):
    """/proc/PID/status's numeric fields (kB values as numbers); empty where /proc is missing."""
    fields = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                name, _, value = line.partition(":")
                parts = value.split()
                if parts and parts[0].isdigit():
                    fields[name] = int(parts[0])
    except OSError:
        pass
    return fields


# Made by `start()`: reading the machine's counters is a worker process's business, not an
# import's.
ACCOUNTING = None


def _cpu_probe():
    """`sched_getcpu()` through ctypes where the C library has it (Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function = ctypes.CDLL(None).sched_getcpu
    except (ImportError, OSError, AttributeError):
        return None
    function.restype = ctypes.c_int
    return function


_SCHED_GETCPU = None  # `sched_getcpu`, found by `start()`
_RUSAGE_THREAD = getattr(resource, "RUSAGE_THREAD", None) if resource else None


class ThreadClock:
    """One thread's own accounting, made by that thread and read around its part:

      runq_ns   /proc/self/task/TID/schedstat, second field: time the thread was runnable but
                waited for a CPU (nanoseconds; absent where the kernel has no schedstat), from
                before the sample's gate opens to the end of its part, so a late start counts.
      switches  getrusage(RUSAGE_THREAD): voluntary (it blocked) and involuntary (the scheduler
                took its CPU) context switches.
      cpus      the CPU it was on when its part started and when it ended (sched_getcpu).

    With the part's wall and CPU time, what is neither running nor waiting for a CPU is time the
    thread was blocked. The file stays open and is read with pread: a read costs about 1.5 µs,
    all of it outside the timed part.
    """

    def __init__(self):
        self.fd = None
        try:
            self.fd = os.open(
                "/proc/self/task/%d/schedstat" % threading.get_native_id(), os.O_RDONLY
            )
        except (OSError, AttributeError):
            pass

    def read(self):
        runq = None
        if self.fd is not None:
            try:
                runq = int(os.pread(self.fd, 128, 0).split()[1])
            except (OSError, IndexError, ValueError):
                runq = None
        switches = None
        if _RUSAGE_THREAD is not None:
            usage = resource.getrusage(_RUSAGE_THREAD)
            switches = (usage.ru_nvcsw, usage.ru_nivcsw)
        cpu = _SCHED_GETCPU() if _SCHED_GETCPU is not None else None
        return runq, switches, cpu if cpu is None or cpu >= 0 else None

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def thread_time(before, after, offset_ns, wall_ns, cpu_ns):
    """One thread's entry of a sample's "threads" (ThreadClock reads around its part)."""
    entry = {"offset_ns": offset_ns, "wall_ns": wall_ns, "cpu_ns": cpu_ns, "runq_ns": None}
    if before[0] is not None and after[0] is not None:
        entry["runq_ns"] = max(after[0] - before[0], 0)
    if before[1] is not None and after[1] is not None:
        entry["switches"] = [after[1][0] - before[1][0], after[1][1] - before[1][1]]
    if before[2] is not None and after[2] is not None:
        entry["cpus"] = [before[2], after[2]]
    return entry


_MAIN_CLOCK = []


def main_clock():
    """The main thread's clock, made on first use (serial runs)."""
    if not _MAIN_CLOCK:
        _MAIN_CLOCK.append(ThreadClock())
    return _MAIN_CLOCK[0]


class Team:
    """One thread per part, started once per worker process and reused by every sample.

    Each sample opens every thread's gate; each thread reads the clock itself right after
    its gate opens and right after its part, and the section is first start to last end. The main
    thread takes no part in the timing: on a busy machine it may not run again until the
    workers are done. Threads live as long as the process's samples (as in ftbench's native
    kernels): new threads for every sample would each be placed by the scheduler afresh, and on
    a small machine two of them can share one CPU for the first milliseconds of a sample while
    another CPU stays idle, which shows up as a sample that did not scale.
    """

    def __init__(self, module, state, ranges):
        self.module = module
        self.state = state
        self.ranges = ranges
        n = len(ranges)
        self.partials = [None] * n
        self.starts = [0] * n
        self.ends = [0] * n
        self.cpu = [0] * n
        self.marks = [None] * n
        self.errors = []
        self.closing = False
        # Each thread waits at its own gate, which the main thread opens for a sample: the
        # wake-ups happen in parallel. (A Barrier wakes its waiters through one Condition lock,
        # one after the other: on 16 cores the last thread started ~0.3 ms after the first,
        # a quarter of a --quick part.)
        self.gates = [threading.Lock() for _ in range(n)]
        for gate in self.gates:
            gate.acquire()
        self.end = threading.Barrier(n + 1)
        self.threads = [
            threading.Thread(target=self._body, args=(i,), daemon=True) for i in range(n)
        ]
        for thread in self.threads:
            thread.start()

    def _body(self, i):
        clock = ThreadClock()
        try:
            while True:
                # Read before the gate: a thread released but left waiting for a CPU starts
                # late, and that wait belongs to the sample (the gate's sleep is no run-queue
                # wait, so it adds nothing).
                mark = clock.read()
                self.gates[i].acquire()
                if self.closing:
                    return
                try:
                    self.starts[i] = time.perf_counter_ns()
                    cpu_start = time.thread_time_ns()
                    self.partials[i] = self.module.run_part(
                        self.state, self.ranges[i][0], self.ranges[i][1]
                    )
                    self.cpu[i] = time.thread_time_ns() - cpu_start
                    self.ends[i] = time.perf_counter_ns()
                    self.marks[i] = (mark, clock.read())
                except BaseException as exc:  # noqa: BLE001 - re-raised by the main thread
                    self.errors.append(exc)
                self.end.wait()
        finally:
            clock.close()

    def run(self):
        """One sample: (wall_ns, checksum, accounting, threads)."""
        before = ACCOUNTING.read()
        for gate in self.gates:
            gate.release()
        self.end.wait()
        after = ACCOUNTING.read()
        if self.errors:
            raise self.errors[0]
        first = min(self.starts)
        wall = max(self.ends) - first
        threads = [
            thread_time(
                self.marks[i][0],
                self.marks[i][1],
                self.starts[i] - first,
                self.ends[i] - self.starts[i],
                self.cpu[i],
            )
            for i in range(len(self.threads))
        ]
        checksum = self.module.combine(self.state, self.partials)
        return wall, checksum, (before, after, sum(self.cpu)), threads

    def close(self):
        """Let the threads end (after an error too, unless a part still runs: they are daemons,
        and the worker leaves with os._exit)."""
        if self.errors or self.end.broken:
            return
        self.closing = True
        for gate in self.gates:
            gate.release()
        for thread in self.threads:
            thread.join()


def run_serial(module, state, total):
    clock = main_clock()
    before = ACCOUNTING.read()
    mark = clock.read()
    start = time.perf_counter_ns()
    cpu_start = time.thread_time_ns()
    checksum = module.serial(state, 0, total)
    cpu = time.thread_time_ns() - cpu_start
    wall = time.perf_counter_ns() - start
    threads = [thread_time(mark, clock.read(), 0, wall, cpu)]
    return wall, checksum, (before, ACCOUNTING.read(), cpu), threads


def is_pool(module, state):
    """Whether the test runs its own pool (threads or processes) instead of a team of threads."""
    kind = getattr(state, "executor_kind", None) or getattr(module, "KIND", "threads")
    return kind in ("executor", "process")


def run_pool(module, state, total):
    """One sample of a test that runs its own pool: timed as a whole; its CPU is this process's
    (all threads) plus its child processes'."""
    before = ACCOUNTING.read()
    start = time.perf_counter_ns()
    checksum = module.parallel(state, 0, total)
    wall = time.perf_counter_ns() - start
    after = ACCOUNTING.read()
    cpu = (after[3] - before[3]) + (after[4] - before[4])
    return wall, checksum, (before, after, cpu), None


def setup(module, request, threads):
    params = request.get("params")
    return module.setup(threads, params) if params else module.setup(threads)


def calibrate(module, request):
    """Find the work size whose serial run takes about target_ns (pyperf-style calibration)."""
    fixed = (request.get("params") or {}).get("fixed") or getattr(module, "FIXED_WORK", None)
    if fixed is not None:  # the work size is part of the test's definition
        emit("calibration", work_size=int(fixed), wall_ns=0)
        return
    target = int(request["target_ns"])
    state = setup(module, request, 1)
    try:
        units = int(getattr(module, "CALIBRATION_START", 64))
        while True:
            reset = getattr(module, "reset", None)
            if reset:
                reset(state)
            wall_ns = run_serial(module, state, units)[0]
            if wall_ns >= target // 4 or units >= 1 << 40:
                break
            units *= 4 if wall_ns < target // 40 else 2
        work_size = max(int(units * target / max(wall_ns, 1)), 1)
        emit("calibration", work_size=work_size, wall_ns=wall_ns)
    finally:
        teardown = getattr(module, "teardown", None)
        if teardown:
            teardown(state)


def measure(module, request):
    threads = int(request["threads"])
    work_size = int(request["work_size"])
    weak = request.get("scaling") == "weak"
    state = setup(module, request, max(threads, 1))
    team = None
    try:
        if threads == 0:
            total = work_size
            ranges = None
        else:
            total = work_size * threads if weak else work_size
            ranges = split(total, threads)
            if weak:
                ranges = [(i * work_size, work_size) for i in range(threads)]
        expected = module.expected(state, 0, total)
        if threads > 0 and not is_pool(module, state):
            team = Team(module, state, ranges)
        warmup = int(request.get("warmup", 1))
        samples = int(request.get("samples", 5))
        for index in range(warmup + samples):
            reset = getattr(module, "reset", None)
            if reset:
                reset(state)
            before = gil_enabled()
            if team is not None:
                wall_ns, checksum, accounting, per_thread = team.run()
            elif threads == 0:
                wall_ns, checksum, accounting, per_thread = run_serial(module, state, total)
            else:
                wall_ns, checksum, accounting, per_thread = run_pool(module, state, total)
            after = gil_enabled()
            extra = getattr(module, "sample_extra", None)
            accounting_fields = ACCOUNTING.between(*accounting)
            if per_thread is not None:
                accounting_fields["threads"] = per_thread
            emit(
                "sample",
                index=index,
                warmup=index < warmup,
                wall_ns=wall_ns,
                work_units=total,
                checksum=str(checksum),
                expected=str(expected),
                gil_enabled_before=before,
                gil_enabled_after=after,
                extra=extra(state) if extra else None,
                **accounting_fields,
            )
    finally:
        if team is not None:
            team.close()
        teardown = getattr(module, "teardown", None)
        if teardown:
            teardown(state)


def where(exc):
    """` (at FILE:LINE: code)` for the deepest frame outside ftbench's own scripts: the line of
    the user's (or a library's) code that failed; empty when ftbench's own code raised."""
    here = os.path.dirname(os.path.abspath(__file__))
    chain = exc
    while chain is not None:
        frames = [
            f
            for f in __import__("traceback").extract_tb(chain.__traceback__)
            if not os.path.abspath(f.filename).startswith(here + os.sep)
            and not f.filename.startswith("<")
        ]
        if frames:
            frame = frames[-1]
            return " (at %s:%d: %s)" % (frame.filename, frame.lineno, (frame.line or "").strip())
        chain = chain.__cause__
    return ""


def main():
    emit(
        "hello",
        protocol=PROTOCOL,
        pid=os.getpid(),
        version=sys.version.split()[0],
        free_threaded=free_threaded_build(),
        gil_enabled=gil_enabled(),
    )
    try:
        request = loads(sys.stdin.readline())
    except ValueError as exc:
        emit("error", kind="bad_request", message=str(exc), traceback="")
        return 2
    if request.get("protocol") != PROTOCOL:
        emit(
            "error",
            kind="protocol_mismatch",
            message="worker speaks protocol %d, request has %r"
            % (PROTOCOL, request.get("protocol")),
            traceback="",
        )
        return 2
    cpus = request.get("cpus")
    if cpus and hasattr(os, "sched_setaffinity"):
        # `--cpus`: before the workload starts any thread or process, which inherit the set.
        os.sched_setaffinity(0, [int(cpu) for cpu in cpus])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        module = import_cached(request["module"])
    except ImportError as exc:
        emit(
            "error",
            kind="missing_dependency",
            message="%s: %s" % (type(exc).__name__, exc),
            traceback=_format_exc(),
        )
        return 0
    try:
        if request["mode"] == "calibrate":
            calibrate(module, request)
        else:
            measure(module, request)
    except Exception as exc:  # noqa: BLE001 - reported over the protocol with its traceback
        emit(
            "error",
            kind="exception",
            message="%s: %s%s" % (type(exc).__name__, exc, where(exc)),
            traceback=_format_exc(),
        )
        return 1
    emit("done")
    return 0


def start():
    """What a worker process does before it answers, in this order: stdout for the protocol,
    death with ftbench, the machine's counters, the CPU probe."""
    global ACCOUNTING, _SCHED_GETCPU
    claim_stdout()
    die_with_ftbench()
    ACCOUNTING = Accounting()
    _SCHED_GETCPU = _cpu_probe()


def run_main():
    """Answer the request on stdin, then exit (start_worker.py starts here, with bytecode)."""
    start()
    code = main()
    # Exit now: a thread the workload started and never joined (or an atexit hook) must not keep
    # the process alive after `done`. ftbench kills a worker that outlives its deadline anyway,
    # but then its samples are lost.
    sys.stderr.flush()
    _protocol_out.flush()
    os._exit(code)


if __name__ == "__main__":
    run_main()
