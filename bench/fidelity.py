"""Fidelity benchmark of ftbench itself (not a test): does the harness measure the interpreter?

usage: python3 bench/fidelity.py [--runs 5] [--skip-pyperf]

1. Harness overhead: the share of a run's wall time spent inside the workers' timed sections,
   the time per worker process outside them, and the CPU the ftbench process itself used.
2. Repeatability: the --quick suite on 3.13t, N times; per point the spread of the medians
   ((max - min) / median) and the share of points whose 95% intervals all overlap.
3. Time to a result: for one micro-workload (parallel_compute, serial), the wall time ftbench needs
   for a 95% interval half-width of 1%, against pyperf on the same interpreter (in a venv from
   PyPI): its default settings, then settings tuned to the same precision.

Prints a summary table and writes bench/RESULTS.md with the date, machine and interpreters.
"""

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FTBENCH = ROOT / "target" / "release" / "ftbench"


def sh(*args, **kwargs):
    return subprocess.run(
        [str(a) for a in args], check=True, capture_output=True, text=True, **kwargs
    )


def ftbench_run(out, *flags):
    start = time.perf_counter()
    sh(FTBENCH, "run", "-q", "--no-report", "--no-store", "-o", out, *flags)
    wall = time.perf_counter() - start
    return json.loads(Path(out).read_text()), wall


def overhead(results, wall):
    timed_ns = sum(s["wall_ns"] for p in results["points"] for s in p["samples"])
    settings = results["settings"]
    per_sample = settings["samples"]
    workers = sum(len(p["samples"]) for p in results["points"]) / per_sample
    warm_share = settings["warmup"] / per_sample  # warm-ups are timed too but not kept
    timed = timed_ns / 1e9 * (1 + warm_share)
    return {
        "timed_share": timed / wall,
        "outside_per_worker_ms": (wall - timed) / workers * 1000,
        "harness_cpu_share": results["harness"]["cpu_share"],
    }


def repeatability(ft, runs, tmp):
    medians = {}
    intervals = {}
    walls = []
    for i in range(runs):
        results, wall = ftbench_run(
            tmp / f"rep{i}.json", "--quick", "--suite", "scaling", "--python", f"ft={ft}"
        )
        walls.append(wall)
        for p in results["points"]:
            key = (p["test"], p["label"], p["thread_count"])
            medians.setdefault(key, []).append(p["throughput"]["median"])
            intervals.setdefault(key, []).append(
                (p["throughput"]["ci_low"], p["throughput"]["ci_high"])
            )
    spreads = {
        k: (max(v) - min(v)) / statistics.median(v) for k, v in medians.items() if len(v) == runs
    }
    overlap = sum(
        1 for k, ivs in intervals.items() if max(lo for lo, _ in ivs) <= min(hi for _, hi in ivs)
    )
    return {
        "points": len(spreads),
        "median_spread": statistics.median(spreads.values()),
        "p90_spread": sorted(spreads.values())[int(0.9 * (len(spreads) - 1))],
        "within_3pct": sum(1 for s in spreads.values() if s <= 0.03) / len(spreads),
        "ci_overlap": overlap / len(intervals),
        "wall_per_run": statistics.mean(walls),
        "worst": sorted(spreads.items(), key=lambda kv: -kv[1])[:3],
    }


def ftbench_time_to_precision(ft, tmp, target=0.01):
    """Raise the process count until the serial point's CI half-width is within target."""
    processes = 2
    total = 0.0
    while True:
        results, wall = ftbench_run(
            tmp / "ttr.json",
            "--tests",
            "parallel_compute",
            "--threads",
            "1",
            "--no-native",
            "--target-ms",
            "20",
            "--processes",
            str(processes),
            "--samples",
            "5",
            "--python",
            f"ft={ft}",
        )
        total = wall
        serial = next(p for p in results["points"] if p["thread_count"] == 0)["throughput"]
        half = (serial["ci_high"] - serial["ci_low"]) / 2 / serial["median"]
        if half <= target or processes >= 64:
            return {"wall": total, "half_width": half, "processes": processes}
        processes *= 2


def pyperf_time(venv_python, flags, tmp):
    out = tmp / "pyperf.json"
    if out.exists():
        out.unlink()
    stmt = "acc = 0\nfor i in range(20000):\n    acc += i * i"
    start = time.perf_counter()
    sh(venv_python, "-m", "pyperf", "timeit", "-q", "-o", out, *flags, stmt)
    wall = time.perf_counter() - start
    data = json.loads(out.read_text())
    values = [v for b in data["benchmarks"] for r in b["runs"] for v in r.get("values", [])]
    mean = statistics.mean(values)
    half = 1.96 * statistics.stdev(values) / math.sqrt(len(values)) / mean
    return {"wall": wall, "half_width": half, "values": len(values)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-pyperf", action="store_true")
    args = parser.parse_args()
    sh("cargo", "build", "--release", "--locked", "-q", cwd=ROOT)
    pythons = json.loads(sh(FTBENCH, "pythons", "--json").stdout)
    ft = next(p["path"] for p in pythons if p["free_threaded"] and p["source"] == "ftbench")
    sysinfo = json.loads(sh(FTBENCH, "sysinfo", "--json").stdout)
    tmp = Path(tempfile.mkdtemp(prefix="ftbench-fidelity"))

    print("1/3 harness overhead (--quick suite, 3.13t and 3.13t+gil) ...", flush=True)
    results, wall = ftbench_run(
        tmp / "overhead.json",
        "--quick",
        "--suite",
        "scaling",
        "--python",
        f"ft={ft}",
        "--python",
        f"gil={ft}+gil",
    )
    cost = overhead(results, wall)
    print(f"2/3 repeatability ({args.runs} x --quick on 3.13t) ...", flush=True)
    rep = repeatability(ft, args.runs, tmp)
    print("3/3 time to a 1% interval ...", flush=True)
    ours = ftbench_time_to_precision(ft, tmp)
    theirs_default = theirs_tuned = None
    if not args.skip_pyperf:
        venv = tmp / "pyperf-venv"
        sh(ft, "-m", "venv", venv)
        sh(venv / "bin" / "python", "-m", "pip", "install", "-q", "pyperf")
        py = venv / "bin" / "python"
        theirs_default = pyperf_time(py, [], tmp)
        processes = 2
        while True:
            theirs_tuned = pyperf_time(py, ["--processes", str(processes), "--values", "5"], tmp)
            if theirs_tuned["half_width"] <= 0.01 or processes >= 20:
                break
            processes *= 2
        theirs_tuned["processes"] = processes

    rows = [
        ("share of wall time inside timed sections", f"{cost['timed_share']:.1%}", "high is good"),
        (
            "time outside timed sections per worker process",
            f"{cost['outside_per_worker_ms']:.0f} ms",
            "start-up, imports, calibration",
        ),
        (
            "ftbench's own CPU while workers run",
            f"{cost['harness_cpu_share']:.2%} of one core",
            "goal <= 1%",
        ),
        ("points measured 5 times (--quick, 3.13t)", str(rep["points"]), ""),
        (
            "median spread of the medians across runs",
            f"{rep['median_spread']:.1%}",
            "goal <= 3% on idle cores",
        ),
        ("90th percentile spread", f"{rep['p90_spread']:.1%}", ""),
        ("points within 3%", f"{rep['within_3pct']:.0%}", ""),
        ("points whose 95% intervals all overlap", f"{rep['ci_overlap']:.0%}", ""),
        (
            "ftbench: wall time to a 1% interval",
            f"{ours['wall']:.1f} s",
            f"{ours['processes']} processes, half-width {ours['half_width']:.2%}",
        ),
    ]
    if theirs_default:
        rows += [
            (
                "pyperf default: wall time",
                f"{theirs_default['wall']:.1f} s",
                f"half-width {theirs_default['half_width']:.2%} ({theirs_default['values']} values)",
            ),
            (
                "pyperf tuned to 1%: wall time",
                f"{theirs_tuned['wall']:.1f} s",
                f"{theirs_tuned['processes']} processes x 5 values, half-width {theirs_tuned['half_width']:.2%}",
            ),
            (
                "time ratio ftbench / pyperf (tuned)",
                f"{ours['wall'] / theirs_tuned['wall']:.2f}",
                "below 1: ftbench is faster to the same precision"
                if theirs_tuned["half_width"] <= 0.01
                else "pyperf did not reach 1%: the ratio is an upper bound",
            ),
        ]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>22}  {note}")
    print("noisiest points:", ", ".join(f"{k[0]}@{k[2]} {v:.0%}" for k, v in rep["worst"]))

    lines = [
        "# ftbench fidelity benchmark",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python3 bench/fidelity.py` on "
        f"{sysinfo['cpu_model']}, {sysinfo['logical_cores']} logical cores, {sysinfo['os']}; "
        f"interpreter `{ft}` ({results['variants'][0]['info']['version']}t).",
        "",
        "| measure | value | note |",
        "| --- | ---: | --- |",
        *[f"| {n} | {v} | {note} |" for n, v, note in rows],
        "",
        "Noisiest points: "
        + ", ".join(f"{k[0]} at {k[2]} threads ({v:.0%})" for k, v in rep["worst"])
        + ".",
        "",
    ]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines))
    print(f"\nwritten to {ROOT / 'bench' / 'RESULTS.md'}")


if __name__ == "__main__":
    sys.exit(main())
