#!/usr/bin/env bash
# Issue 21's benchmark: parallel_compute at 2 threads on 3.13t, five `--quick` runs and three
# default runs, each with its speedup, verdict and where the threads' time went; then the CPU
# probe. Usage: bench/unequal.sh [FTBENCH] (default target/release/ftbench). Prints Markdown rows.
set -euo pipefail
ftbench=${1:-target/release/ftbench}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
row() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
mode, path, wall = sys.argv[1], sys.argv[2], float(sys.argv[3])
r = json.load(open(path))
p = [d for d in r["results"]["scaling_tests"]["parallel_compute"]["3.13.15t"]["scaling_data"] if d["thread_count"] == 2][0]
m, t = p["metrics"], p.get("time") or {}
pct = lambda k: "-" if t.get(k) is None else "%.0f" % (100 * t[k])
print("| %s | %.2fx [%.2f, %.2f] | %s | %.2f | %s/%s/%s/%s/%s | %.2f | %d | %.1f s |" % (
    mode, m["speedup"], m["speedup_ci_low"], m["speedup_ci_high"], p.get("verdict"),
    m["parallelism"], pct("running"), pct("cpu_wait"), pct("blocked"), pct("late"), pct("idle"),
    t.get("imbalance", 0), p.get("unequal_samples", 0), wall))
PY
}
echo "| mode | speedup at 2 | verdict | parallelism | time % run/wait/blocked/late/idle | imbalance | unequal samples | wall |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for mode in quick quick quick quick quick default default default; do
  flags=(--no-native --no-store --no-report --tests parallel_compute --threads 1,2 --python 3.13t)
  [[ $mode == quick ]] && flags+=(--quick)
  start=$(date +%s%N)
  "$ftbench" run "${flags[@]}" -o "$dir/r.json" --force >/dev/null 2>&1
  end=$(date +%s%N)
  row "$mode" "$dir/r.json" "$(( (end - start) / 1000000 )).0e-3"
done
"$ftbench" check --seconds 1 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("\nCPU probe:", ", ".join("CPU %d %.2f (loaded %.2f, drift %+.0f%%)" % (c["cpu"], c["relative_speed"], c.get("loaded_speed") or 0, 100*c["drift"]) for c in d["cpus"]))'
