"""Unit tests of worker.py, the process that runs each workload in the interpreter under test:
its import has no side effect, its JSON matches the json module's, its work is split evenly, and
its clocks time what they should.

    python -m unittest discover -s tests/python      # any CPython 3.9+, GIL or free-threaded
"""

import json
import math
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "src", "workloads"))

stdout_before = sys.stdout
import worker  # noqa: E402


class Sleeper:
    """A workload whose every unit takes a millisecond of sleep, with a checksum of its units."""

    @staticmethod
    def setup(threads):
        return {"threads": threads}

    @staticmethod
    def serial(state, start, count):
        time.sleep(count / 1000)
        return count

    @staticmethod
    def run_part(state, start, count):
        time.sleep(count / 1000)
        return (start, count)

    @staticmethod
    def combine(state, partials):
        return sum(count for _, count in partials)


class ImportTest(unittest.TestCase):
    def test_importing_the_worker_changes_nothing(self):
        self.assertIs(sys.stdout, stdout_before)
        self.assertIsNone(worker._protocol_out)
        self.assertIsNone(worker.ACCOUNTING)
        self.assertEqual(worker.PROTOCOL, 1)


class JsonTest(unittest.TestCase):
    VALUES = [
        None,
        True,
        False,
        0,
        -7,
        2**100,
        1.5,
        -0.0,
        1e-310,
        1e300,
        "",
        "plain",
        'quote " backslash \\ newline \n tab \t',
        "\x00\x1b[31m control",
        "é ü 中文 \U0001f600",
        [],
        {},
        [1, [2, [3, {"a": None}]]],
        {"type": "sample", "threads": [{"cpu_ns": 5, "cpus": [0, 1]}], "extra": None},
        (1, 2),
    ]

    def test_dumps_writes_what_json_writes(self):
        for value in self.VALUES:
            with self.subTest(value=value):
                self.assertEqual(worker.dumps(value), json.dumps(value, separators=(",", ":")))

    def test_non_finite_numbers_are_written_as_json_module_writes_them(self):
        for value in (math.nan, math.inf, -math.inf):
            self.assertEqual(worker.dumps(value), json.dumps(value))

    def test_other_types_are_refused(self):
        with self.assertRaises(TypeError):
            worker.dumps({1, 2})

    def test_loads_reads_what_dumps_wrote(self):
        for value in self.VALUES:
            with self.subTest(value=value):
                expected = list(value) if isinstance(value, tuple) else value
                self.assertEqual(worker.loads(worker.dumps(value)), expected)
        self.assertEqual(worker.loads('  {"a": [1, 2.5, "x"]}\n'), {"a": [1, 2.5, "x"]})

    def test_loads_refuses_what_is_not_one_json_value(self):
        for text in ("", "{", '{"a": 1} extra', "nope"):
            with self.subTest(text=text), self.assertRaises(ValueError):
                worker.loads(text)


class SplitTest(unittest.TestCase):
    def test_parts_are_contiguous_and_within_one_of_each_other(self):
        for total in (0, 1, 7, 100, 1001):
            for parts in (1, 2, 3, 8, 16):
                ranges = worker.split(total, parts)
                self.assertEqual(len(ranges), parts)
                self.assertEqual(sum(count for _, count in ranges), total)
                starts = [start for start, _ in ranges]
                self.assertEqual(starts, [sum(c for _, c in ranges[:i]) for i in range(parts)])
                counts = [count for _, count in ranges]
                self.assertLessEqual(max(counts) - min(counts), 1)


class TimingTest(unittest.TestCase):
    def setUp(self):
        worker.ACCOUNTING = worker.Accounting()

    def tearDown(self):
        worker.ACCOUNTING = None

    def test_a_serial_sample_times_its_work_and_its_cpu(self):
        wall, checksum, (before, after, cpu), threads = worker.run_serial(Sleeper, {}, 30)
        self.assertEqual(checksum, 30)
        self.assertGreaterEqual(wall, 30_000_000)
        self.assertLess(wall, 5_000_000_000)
        # Sleeping is no CPU time.
        self.assertLess(cpu, wall / 2)
        self.assertEqual(len(threads), 1)
        self.assertEqual(threads[0]["wall_ns"], wall)
        self.assertGreater(after[0], before[0])

    def test_a_team_times_first_start_to_last_end_and_each_part(self):
        team = worker.Team(Sleeper, {}, worker.split(40, 2))
        try:
            wall, checksum, _, threads = team.run()
            # Again: the threads are reused by every sample.
            wall, checksum, _, threads = team.run()
        finally:
            team.close()
        self.assertEqual(checksum, 40)
        self.assertEqual(len(threads), 2)
        for entry in threads:
            self.assertGreaterEqual(entry["wall_ns"], 20_000_000)
            self.assertLessEqual(entry["offset_ns"] + entry["wall_ns"], wall)
        self.assertEqual(min(entry["offset_ns"] for entry in threads), 0)
        self.assertFalse(any(t.is_alive() for t in team.threads))

    def test_a_part_that_raises_is_raised_by_the_sample(self):
        class Broken(Sleeper):
            @staticmethod
            def run_part(state, start, count):
                raise RuntimeError("part %d" % start)

        team = worker.Team(Broken, {}, worker.split(2, 2))
        with self.assertRaisesRegex(RuntimeError, "part"):
            team.run()
        team.close()

    def test_thread_time_takes_differences_where_both_reads_have_them(self):
        entry = worker.thread_time((100, (1, 2), 3), (250, (4, 2), 5), 7, 1000, 400)
        self.assertEqual(
            entry,
            {
                "offset_ns": 7,
                "wall_ns": 1000,
                "cpu_ns": 400,
                "runq_ns": 150,
                "switches": [3, 0],
                "cpus": [3, 5],
            },
        )
        bare = worker.thread_time((None, None, None), (None, None, None), 0, 10, 5)
        self.assertEqual(bare, {"offset_ns": 0, "wall_ns": 10, "cpu_ns": 5, "runq_ns": None})


class GilTest(unittest.TestCase):
    def test_the_gil_state_is_what_the_interpreter_says(self):
        probe = getattr(sys, "_is_gil_enabled", None)
        self.assertEqual(worker.gil_enabled(), True if probe is None else probe())
        self.assertEqual(worker.free_threaded_build(), "t" in getattr(sys, "abiflags", ""))


if __name__ == "__main__":
    unittest.main()
