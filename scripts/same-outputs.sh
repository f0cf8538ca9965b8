#!/usr/bin/env bash
# Do two ftbench binaries write the same outputs for every committed results file?
#
#   scripts/same-outputs.sh OLD_BINARY NEW_BINARY
#
# For a refactoring that must not change what users see: each results file under bench/results/
# goes through `report` (report.html, report.md, the CSV, every figure, the
# terminal's tables) and `report --wide` with both binaries; any byte that differs is shown.
# Only the line with the render time and the output folder is left out. Exit 1 on a difference.
set -euo pipefail
old=$1
new=$2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=("$root"/bench/results/*.json)
for side in old new; do
  binary=${!side}
  for file in "${files[@]}"; do
    name=$(basename "$file" .json)
    out="$work/$side/$name"
    mkdir -p "$out"
    # Not every JSON file there is a results file (a saved `ftbench check`): its error is output.
    COLUMNS=100 "$binary" report "$file" --out "$out/report" >"$out/stdout.txt" 2>"$out/stderr.txt" || true
    COLUMNS=100 "$binary" report "$file" --no-files --wide >"$out/wide.txt" 2>&1 || true
    sed -i -e '/^Report (.* files, rendered in /d' "$out/stderr.txt"
  done
done
if diff -r "$work/old" "$work/new"; then
  echo "same outputs for ${#files[@]} files"
else
  exit 1
fi
