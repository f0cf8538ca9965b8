#!/usr/bin/env bash
# Issue 34's benchmark: the differential profile (`--profile`) of the seven scaling tests at
# threads 1,2 on a free-threaded build, and what the two recordings per point cost.
#
#   bash bench/mechanism.sh FT_PYTHON
#
# Runs the seven tests quick, once without --profile and once with it; prints both wall times,
# the cost per profiled point, and each point's mechanism line.
set -euo pipefail
ft=${1:?usage: bench/mechanism.sh FT_PYTHON}
ftbench=${FTBENCH:-$(dirname "$0")/../target/release/ftbench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tests=parallel_compute,lock_contention,ref_counting_shared,ref_counting_local,memory_bandwidth,np_column_compute_thread,np_column_compute_mp
run() {
  local start end
  start=$(date +%s.%N)
  "$ftbench" run --tests "$tests" --threads 1,2 --quick --python "3.13t=$ft" --no-store \
    --no-report -o "$work/$1.json" "${@:2}" >"$work/$1.txt" 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
plain=$(run plain)
profiled=$(run profiled --profile)
printf 'without --profile: %.1f s\nwith --profile: %.1f s\nper profiled point: %.1f s\n' \
  "$plain" "$profiled" "$(echo "($profiled - $plain) / 7" | bc -l)"
grep '^What grew' "$work/profiled.txt"
