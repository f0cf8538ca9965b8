#!/usr/bin/env bash
# Issue 35's acceptance benchmark: the scaling gate on this machine, A/A and A/B.
#
#   bash bench/gate.sh FT_PYTHON [RUNS_AA] [RUNS_AB]
#
# A library `mylib.work` in five versions: base; the same code (A/A); a lock held around the
# whole hot loop; 15% more work; a lock held over 60% of each call (costs nothing on one thread,
# caps two threads at 1/0.6 = 1.67x); and the base plus an import of MarkupSafe 2.0.1's
# speedups (they turn the GIL back on in a free-threaded 3.13). Each head is gated against base
# in one interleaved run (`scale --base`, threads 1,2, --budget 120s), and, for comparison, run
# as two separate `scale` runs judged by `compare --fail-on-regression 10`. One line per run on
# stdout (TSV): experiment, kind, run, exit status, wall seconds, gate outcomes, reasons.
set -uo pipefail
ft=${1:?usage: bench/gate.sh FT_PYTHON [RUNS_AA] [RUNS_AB]}
runs_aa=${2:-12}
runs_ab=${3:-6}
ftbench=${FTBENCH:-$(dirname "$0")/../target/release/ftbench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

lib() { # NAME LOCKED FREE [PRELUDE]
  mkdir -p "$work/$1"
  cat >"$work/$1/mylib.py" <<PY
${4:-}import threading

_lock = threading.Lock()


def work():
    total = 0
    with _lock:
        for i in range($2):
            total += i * i % 7
    for i in range($3):
        total += i * i % 7
    return total
PY
  printf 'from mylib import work\n\n\ndef run():\n    return work()\n' >"$work/$1/bench.py"
}
lib base 0 20000
lib same 0 20000
lib lock_all 20000 0
lib slower 0 23000
lib lock60 12000 8000
lib gil 0 20000 'import markupsafe._speedups  # noqa: F401
'
"$ft" -m pip install -q --target "$work/gil" 'markupsafe==2.0.1' >&2 || echo "markupsafe 2.0.1 did not install" >&2

gate() { # HEAD RUN
  local start end status
  start=$(date +%s.%N)
  "$ftbench" scale "$work/$1/bench.py:run" --base "$work/base" --threads 1,2 --quick \
    --python "$ft" --no-store --no-report -o "$work/$1-$2.json" --force \
    --fail-if 'regression > 10%' --fail-if 'efficiency@2 < 0.6' --fail-if gil \
    --budget 120s --gates-json >"$work/out.json" 2>/dev/null
  status=$?
  end=$(date +%s.%N)
  python3 - "$1" "$2" "$status" "$start" "$end" "$work/out.json" <<'PY'
import json, sys
name, run, status, start, end, path = sys.argv[1:]
try:
    gates = json.load(open(path))["gates"]
except Exception:
    gates = []
outcomes = ",".join(g["outcome"] for g in gates)
reasons = " | ".join(g["expression"] + ": " + g["reason"] for g in gates if g["outcome"] != "passed")
print(f"{name}\tgate\t{run}\t{status}\t{float(end) - float(start):.1f}\t{outcomes}\t{reasons}")
PY
}

separate() { # HEAD RUN: base and head as two runs, then compare
  local start end status
  start=$(date +%s.%N)
  for side in base "$1"; do
    "$ftbench" scale "$work/$side/bench.py:run" --threads 1,2 --quick --python "t=$ft" \
      --no-store --no-report -o "$work/sep-$side.json" --force >/dev/null 2>&1
  done
  "$ftbench" compare "$work/sep-base.json" "$work/sep-$1.json" --fail-on-regression 10 \
    >"$work/compare.txt" 2>&1
  status=$?
  end=$(date +%s.%N)
  printf '%s\tseparate\t%s\t%s\t%.1f\t\t\n' "$1" "$2" "$status" "$(echo "$end - $start" | bc)"
}

for run in $(seq "$runs_aa"); do gate same "$run"; separate same "$run"; done
for head in lock_all slower lock60 gil; do
  for run in $(seq "$runs_ab"); do gate "$head" "$run"; separate "$head" "$run"; done
done
