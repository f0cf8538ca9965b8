"""Regular tests: single-threaded workloads that cover ordinary Python, one per `params.bench`.

Each benchmark is a function `one()` doing one fixed piece of work and returning a result that is
checked against a known value when the module loads the benchmark, so a wrong interpreter (or a
broken port) fails instead of being timed. One unit is one call; the checksum is the number of
calls whose result was right. The suite measures single-thread speed, so only the serial
baseline (no threads) is run.
"""

KIND = "threads"

# The modules only some benchmarks use are imported by those benchmarks' `_prepare_*` (run by
# `State` before the first call): importing all of them cost every regular worker ~10 ms of
# start-up (dataclasses alone pulls in inspect), for one benchmark each.
copy = dataclasses = json = re = None
CALIBRATION_START = 1


# --- float arithmetic: an n-body simulation (the classic 5-body solar system) -----------------

_PI = 3.14159265358979323
_SOLAR_MASS = 4 * _PI * _PI
_DAYS_PER_YEAR = 365.24
_BODIES = [
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], _SOLAR_MASS),
    (
        [4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01],
        [
            1.66007664274403694e-03 * _DAYS_PER_YEAR,
            7.69901118419740425e-03 * _DAYS_PER_YEAR,
            -6.90460016972063023e-05 * _DAYS_PER_YEAR,
        ],
        9.54791938424326609e-04 * _SOLAR_MASS,
    ),
    (
        [8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01],
        [
            -2.76742510726862411e-03 * _DAYS_PER_YEAR,
            4.99852801234917238e-03 * _DAYS_PER_YEAR,
            2.30417297573763929e-05 * _DAYS_PER_YEAR,
        ],
        2.85885980666130812e-04 * _SOLAR_MASS,
    ),
    (
        [1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01],
        [
            2.96460137564761618e-03 * _DAYS_PER_YEAR,
            2.37847173959480950e-03 * _DAYS_PER_YEAR,
            -2.96589568540237556e-05 * _DAYS_PER_YEAR,
        ],
        4.36624404335156298e-05 * _SOLAR_MASS,
    ),
    (
        [1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01],
        [
            2.68067772490389322e-03 * _DAYS_PER_YEAR,
            1.62824170038242295e-03 * _DAYS_PER_YEAR,
            -9.51592254519715870e-05 * _DAYS_PER_YEAR,
        ],
        5.15138902046611451e-05 * _SOLAR_MASS,
    ),
]


def _energy(bodies):
    e = 0.0
    for i, (r1, v1, m1) in enumerate(bodies):
        e += 0.5 * m1 * (v1[0] * v1[0] + v1[1] * v1[1] + v1[2] * v1[2])
        for r2, _, m2 in bodies[i + 1 :]:
            dx, dy, dz = r1[0] - r2[0], r1[1] - r2[1], r1[2] - r2[2]
            e -= m1 * m2 / (dx * dx + dy * dy + dz * dz) ** 0.5
    return e


def nbody():
    bodies = [([*r], [*v], m) for r, v, m in _BODIES]
    px = py = pz = 0.0
    for _, v, m in bodies:
        px += v[0] * m
        py += v[1] * m
        pz += v[2] * m
    sun_v = bodies[0][1]
    sun_v[0], sun_v[1], sun_v[2] = -px / _SOLAR_MASS, -py / _SOLAR_MASS, -pz / _SOLAR_MASS
    pairs = [(bodies[i], bodies[j]) for i in range(5) for j in range(i + 1, 5)]
    dt = 0.01
    for _ in range(200):
        for (r1, v1, m1), (r2, v2, m2) in pairs:
            dx, dy, dz = r1[0] - r2[0], r1[1] - r2[1], r1[2] - r2[2]
            mag = dt * (dx * dx + dy * dy + dz * dz) ** -1.5
            b1, b2 = m1 * mag, m2 * mag
            v1[0] -= dx * b2
            v1[1] -= dy * b2
            v1[2] -= dz * b2
            v2[0] += dx * b1
            v2[1] += dy * b1
            v2[2] += dz * b1
        for r, v, _ in bodies:
            r[0] += dt * v[0]
            r[1] += dt * v[1]
            r[2] += dt * v[2]
    return round(_energy(bodies), 9)


# --- integer and big-integer arithmetic: digits of pi by a spigot ------------------------------


def bigint_pi():
    q, r, t, k, n, ll = 1, 0, 1, 1, 3, 3
    digits = []
    while len(digits) < 120:
        if 4 * q + r - t < n * t:
            digits.append(n)
            q, r, n = 10 * q, 10 * (r - n * t), (10 * (3 * q + r)) // t - 10 * n
        else:
            q, r, t, k, n, ll = (
                q * k,
                (2 * q + r) * ll,
                t * ll,
                k + 1,
                (q * (7 * k + 2) + r * ll) // (t * ll),
                ll + 2,
            )
    return int("".join(map(str, digits[:20])))


def int_arith():
    acc = 0
    for i in range(1, 3000):
        acc = (acc * 31 + i * i) % 1_000_000_007
        acc ^= i << 3
    return acc


# --- object-oriented method calls: a small task scheduler (richards-like) ----------------------


class _Task:
    def __init__(self, name, work):
        self.name = name
        self.work = work
        self.done = 0

    def step(self):
        if self.work > 0:
            self.work -= 1
            self.done += 1
            return True
        return False


class _Scheduler:
    def __init__(self, tasks):
        self.tasks = tasks
        self.switches = 0

    def run(self):
        active = list(self.tasks)
        while active:
            still = []
            for task in active:
                self.switches += 1
                if task.step():
                    still.append(task)
            active = still
        return self.switches


def oop_scheduler():
    tasks = [_Task("t%d" % i, 20 + i % 13) for i in range(40)]
    return _Scheduler(tasks).run() + sum(t.done for t in tasks)


# --- function calls and recursion ---------------------------------------------------------------


def _fib(n):
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


def _ackermann(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return _ackermann(m - 1, 1)
    return _ackermann(m - 1, _ackermann(m, n - 1))


def recursion():
    return _fib(16) + _ackermann(2, 30)


# --- generators and closures --------------------------------------------------------------------


def _counter(start):
    def bump(step):
        nonlocal start
        start += step
        return start

    return bump


def generators():
    def evens(n):
        for i in range(n):
            if i % 2 == 0:
                yield i

    def squares(it):
        for i in it:
            yield i * i

    total = sum(squares(evens(4000)))
    bump = _counter(0)
    for i in range(1000):
        bump(i % 7)
    return total + bump(0)


# --- comprehensions and sorting -----------------------------------------------------------------


def comprehensions():
    data = [(i * 7919) % 1009 for i in range(2000)]
    squares = [x * x for x in data if x % 3]
    index = {x: i for i, x in enumerate(data)}
    unique = {x % 97 for x in data}
    ordered = sorted(data, key=lambda x: (x % 10, -x))
    return sum(squares) + len(index) + len(unique) + ordered[0] + ordered[-1]


# --- strings: building and formatting -----------------------------------------------------------


def strings():
    parts = []
    for i in range(600):
        parts.append(f"{i:05d}:{i * 1.5:.2f}|{'x' * (i % 7)}")
    text = ",".join(parts)
    upper = text.upper().replace("X", "y")
    return len(upper) + upper.count("Y") + len("%s-%d" % (text[:10], len(parts)))


# --- regular expressions ------------------------------------------------------------------------

_LOG = "\n".join(
    "2026-11-%02d 12:%02d:%02d host%d GET /api/v%d/items/%d 200 %dms"
    % (1 + i % 28, i % 60, (i * 7) % 60, i % 5, 1 + i % 3, i, 10 + i % 90)
    for i in range(300)
)
_PATTERN = None


def _prepare_regex():
    global re, _PATTERN
    import re

    _PATTERN = re.compile(r"host(\d) (GET|POST) /api/v(\d)/items/(\d+) (\d{3}) (\d+)ms")


def regex():
    total = 0
    for m in _PATTERN.finditer(_LOG):
        total += int(m.group(4)) + int(m.group(6))
    return total + len(re.findall(r"\b12:\d\d:\d\d\b", _LOG))


# --- json dumps and loads -----------------------------------------------------------------------

_DOC = {
    "items": [
        {"id": i, "name": "item-%d" % i, "tags": ["a", "b", str(i % 5)], "price": i * 0.25}
        for i in range(150)
    ],
    "meta": {"count": 150, "ok": True, "none": None},
}


def _prepare_json_roundtrip():
    global json
    import json


def json_roundtrip():
    text = json.dumps(_DOC, sort_keys=True)
    back = json.loads(text)
    return len(text) + len(back["items"]) + back["meta"]["count"]


# --- dataclasses and attribute access -----------------------------------------------------------


_Point = None


def _prepare_dataclass_attrs():
    global dataclasses, _Point
    import dataclasses

    @dataclasses.dataclass
    class _Point:
        x: float
        y: float
        label: str = "p"

        def norm2(self):
            return self.x * self.x + self.y * self.y


def dataclass_attrs():
    points = [_Point(i, i + 1) for i in range(500)]
    total = 0.0
    for p in points:
        p.x += 1
        total += p.norm2()
    return int(total) + len(dataclasses.asdict(points[0]))


# --- copy.deepcopy ------------------------------------------------------------------------------

_NESTED = {"a": [list(range(20)) for _ in range(20)], "b": {"c": {"d": [1, 2, {"e": "f"}]}}}


def _prepare_deepcopy():
    global copy
    import copy


def deepcopy():
    clone = copy.deepcopy(_NESTED)
    clone["a"][0][0] = 99
    return sum(map(sum, clone["a"])) + len(clone["b"]["c"]["d"])


# --- exceptions ---------------------------------------------------------------------------------


class _Oops(Exception):
    pass


def exceptions():
    caught = 0
    for i in range(1500):
        try:
            if i % 3 == 0:
                raise _Oops(i)
            if i % 3 == 1:
                {}["missing"]
            caught -= 1
        except _Oops:
            caught += 2
        except KeyError:
            caught += 3
        finally:
            caught += 1
    return caught


# name -> (function, its known result)
BENCHMARKS = {
    "nbody": (nbody, -0.169026909),
    "bigint_pi": (bigint_pi, 31415926535897932384),
    "int_arith": (int_arith, 464067987),
    "oop_scheduler": (oop_scheduler, 2108),
    "recursion": (recursion, 1050),
    "generators": (generators, 10658670997),
    "comprehensions": (comprehensions, 451483986),
    "strings": (strings, 10134),
    "regex": (regex, 60600),
    "json_roundtrip": (json_roundtrip, 11126),
    "dataclass_attrs": (dataclass_attrs, 83583503),
    "deepcopy": (deepcopy, 3902),
    "exceptions": (exceptions, 3500),
}


class State:
    def __init__(self, name):
        self.function, known = BENCHMARKS[name]
        prepare = globals().get("_prepare_" + name)
        if prepare is not None:
            prepare()
        result = self.function()
        if result != known:
            raise AssertionError("%s returned %r, expected %r" % (name, result, known))
        self.known = known


def setup(threads, params):
    return State(params["bench"])


def serial(state, start, count):
    function, known = state.function, state.known
    right = 0
    for _ in range(count):
        if function() == known:
            right += 1
    return right


def run_part(state, start, count):
    return serial(state, start, count)


def combine(state, partials):
    return sum(partials)


def expected(state, start, count):
    return count
