#!/usr/bin/env bash
# Issue 33's acceptance benchmark: `ftbench audit` of an environment holding the requirements of
# pyperformance 1.14.0's default benchmarks, on a free-threaded 3.13.
#
#   bash bench/audit.sh FT_PYTHON [VENV]
#
# Makes VENV (default: a temporary folder) with FT_PYTHON and installs the benchmarks' pinned
# requirements (fastapi is left out: its pydantic-core needs a Rust build that fails on 3.13t),
# then audits it with 1 and 2 imports at a time, three times each. Prints the audit's table
# once and one line per run: jobs, wall seconds, distributions that turn the GIL on.
set -euo pipefail
ft=${1:?usage: bench/audit.sh FT_PYTHON [VENV]}
venv=${2:-$(mktemp -d)/venv}
ftbench=${FTBENCH:-$(dirname "$0")/../target/release/ftbench}
if [[ ! -x $venv/bin/python ]]; then
  "$ft" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    websockets==11.0.3 greenlet==3.2.4 sqlalchemy==1.4.19 sqlglot==4.6.0 tomli==2.0.1 \
    chameleon==4.6.0 coverage==7.3.2 docutils==0.18.1 mpmath==1.2.1 sympy==1.8 mako==1.1.4 \
    markupsafe==2.0.1 xdsl==0.54.3 httpx==0.28.1 uvicorn==0.38.0 networkx==3.4.2 \
    asgiref==3.3.4 django==3.2.4 pytz==2021.1 sqlparse==0.4.1 legacy-cgi==2.6 tornado==6.5.2 \
    'dask[distributed]==2024.10.0' genshi==0.7.7 six==1.16.0 pyaes==1.6.1 html5lib==1.1 \
    webencodings==0.5.1 certifi==2021.5.30 dulwich==0.20.23 urllib3==1.26.5 sphinx==7.3.7 \
    python-docs-theme==2024.6 pyperf==2.11.0 pyperformance==1.14.0
fi
"$ftbench" audit --python "pyperformance=$venv/bin/python"
for jobs in 1 2 1 2 1 2; do
  start=$(date +%s.%N)
  json=$("$ftbench" -q audit --json -j "$jobs" --python "$venv/bin/python")
  end=$(date +%s.%N)
  on=$(printf '%s' "$json" | python3 -c 'import json, sys; a = json.load(sys.stdin)["interpreters"][0]; print(len(a["distributions"]), ",".join(d["name"] for d in a["distributions"] if d["verdict"] == "gil_on"))')
  printf 'jobs=%s\t%.2f s\t%s\n' "$jobs" "$(echo "$end - $start" | bc)" "$on"
done
