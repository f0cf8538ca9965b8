"""Benchmark of the fleet store (not a test): a generated store of RUNS runs of ~250 points on
SQLite and on PostgreSQL, then the time of `history` for one point's trend, of `publish`, and the
throughput of 8 concurrent writers.

    python3 bench/fleet.py POSTGRES_URL [RUNS]

POSTGRES_URL names a database this benchmark may fill (scripts/postgres.sh starts a throw-away
cluster); the runs are copies of the 16-core run in bench/results (265 points), spread over
4 machines and a year, each with its own run id.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
FTBENCH = ROOT / "target" / "release" / "ftbench"
SOURCE = ROOT / "bench" / "results" / "16-cores-run2-2026-11-26.json"
MACHINES = 4
WRITERS = 8
PER_WRITER = 10


def ftbench(*args, store):
    started = time.perf_counter()
    subprocess.run(
        [str(FTBENCH), *args, "--store", store],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def write_runs(directory, count, prefix, start_day=0):
    base = json.loads(SOURCE.read_text())
    paths = []
    for i in range(count):
        run = base
        run["run_id"] = f"{prefix}-{i}"
        run["system"]["machine"] = f"m{i % MACHINES}"
        day = start_day + i * 365 // max(count, 1)
        run["created"] = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_735_689_600 + day * 86_400 + i)
        )
        path = directory / f"{prefix}-{i}.json"
        path.write_text(json.dumps(run))
        paths.append(str(path))
    return paths


def bench(store, paths, extra, directory):
    started = time.perf_counter()
    for chunk in range(0, len(paths), 100):
        ftbench("history", "add", *paths[chunk : chunk + 100], store=store)
    fill = time.perf_counter() - started
    trend = min(
        ftbench(
            "history",
            "--test",
            "parallel_compute",
            "--label",
            "3.13.15t",
            "--threads",
            "16",
            "--machine",
            "m0",
            store=store,
        )
        for _ in range(5)
    )
    publish = ftbench("publish", "--out", str(directory / "site"), store=store)
    started = time.perf_counter()
    writers = [
        subprocess.Popen(
            [str(FTBENCH), "history", "add", *extra[w::WRITERS], "--store", store],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for w in range(WRITERS)
    ]
    for writer in writers:
        if writer.wait() != 0:
            raise SystemExit(f"a writer failed on {store}")
    concurrent = time.perf_counter() - started
    return fill, trend, publish, concurrent


def main():
    postgres = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        directory = pathlib.Path(tmp)
        paths = write_runs(directory, runs, "run")
        extra = write_runs(directory, WRITERS * PER_WRITER, "extra", start_day=366)
        rows = []
        for name, store in [("SQLite", str(directory / "fleet.sqlite")), ("PostgreSQL", postgres)]:
            fill, trend, publish, concurrent = bench(store, paths, extra, directory)
            rows.append(
                f"| {name} | {runs} | {runs / fill:.1f} runs/s | {trend * 1000:.0f} ms "
                f"| {publish:.1f} s | {len(extra) / concurrent:.1f} runs/s |"
            )
        print(f"{runs} runs of 265 points, {MACHINES} machines, {os.cpu_count()} CPUs")
        print(
            "| store | runs | history add (one writer) | trend of one point | publish "
            f"| {WRITERS} concurrent writers |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
