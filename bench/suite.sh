#!/usr/bin/env bash
# Benchmark of ftbench itself (not a test): how long `ftbench run --quick` and the default suite
# take on two variants (3.13t and 3.13t+gil, threads 1,2,4), and how much CPU the harness
# process used while its workers measured (its share of wall time; goal <= 1%).
#
#   bench/suite.sh            # both modes
#   bench/suite.sh quick      # --quick only
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
ftbench=$PWD/target/release/ftbench
out=$(mktemp -d)
modes=${1:-quick default}
printf '%-8s %10s %12s %12s %8s %s\n' mode wall_s harness_cpu_s cpu_share points failed
for mode in $modes; do
  flags=(--threads 1,2,4 --python 3.13t --python 3.13t+gil -q -o "$out/$mode.json")
  [[ $mode == quick ]] && flags+=(--quick)
  start=$(date +%s.%N)
  "$ftbench" run "${flags[@]}" >/dev/null || true
  end=$(date +%s.%N)
  python3 - "$out/$mode.json" "$mode" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
h = r["harness"]
wall = float(sys.argv[4]) - float(sys.argv[3])
print("%-8s %10.1f %12.2f %11.2f%% %8d %d" % (
    sys.argv[2], wall, h["cpu_s"], 100 * h["cpu_share"], len(r["points"]), len(r["errors"])))
PY
done
echo "results in $out"
