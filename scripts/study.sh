#!/usr/bin/env bash
# The whole study in one command, on a fresh machine too: build ftbench, provision a matched
# CPython 3.13 / 3.13t pair with numpy (built once from the same source, then cached under
# ~/.local/share/ftbench), and run the suite on every interpreter found. Extra arguments go to
# `ftbench run` (e.g. `--quick`, `--threads 1,2,4,8`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
ftbench=target/release/ftbench
for version in 3.13t 3.13; do
  "$ftbench" python install "$version" --with numpy --install-build-deps
done
"$ftbench" sysinfo
exec "$ftbench" run "$@"
