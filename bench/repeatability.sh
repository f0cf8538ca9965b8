#!/usr/bin/env bash
# Benchmark of ftbench itself (not a test): how repeatable are the medians of the default
# settings? Runs the scaling suite N times on an idle machine (default settings, 3.13t, threads
# 1,2) and prints, per point, the spread of its median over the runs: (max - min) / median of
# the medians. Goal: <= 3% everywhere.
#
#   bench/repeatability.sh [RUNS] [extra ftbench run flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
ftbench=$PWD/target/release/ftbench
runs=${1:-5}
shift || true
out=$(mktemp -d)
for i in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  "$ftbench" run --suite scaling --threads 1,2 --python 3.13t --no-native --no-store --no-report \
    -q -o "$out/run-$i.json" "$@" >/dev/null || true
  echo "run $i: $(echo "$(date +%s.%N) - $start" | bc) s" >&2
done
python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
medians, disturbed = {}, 0
for i in range(1, runs + 1):
    for p in json.load(open("%s/run-%d.json" % (out, i)))["points"]:
        key = (p["test"], p["label"], p["thread_count"])
        medians.setdefault(key, []).append(p["throughput"]["median"])
        disturbed += any(s.get("disturbed") for s in p["samples"])
print("%-28s %-10s %7s %8s  %s" % ("test", "label", "threads", "spread", "medians (relative)"))
worst = 0.0
for (test, label, threads), values in sorted(medians.items()):
    mid = statistics.median(values)
    spread = (max(values) - min(values)) / mid
    worst = max(worst, spread)
    print("%-28s %-10s %7s %7.1f%%  %s" % (
        test, label, threads or "serial", 100 * spread,
        " ".join("%.3f" % (v / mid) for v in values)))
print("worst spread %.1f%% over %d runs; %d disturbed point(s)" % (100 * worst, runs, disturbed))
PY
echo "results in $out" >&2
