"""List the pyperformance benchmarks a selection names, as one JSON object on stdout.

Run by ftbench with the Python of its pyperformance install:
`python plan.py SELECTION [MANIFEST]`. SELECTION is pyperformance's `-b` syntax (names and
groups, `-name` to leave one out, `all`, `default`). For each benchmark: its name, tags, and
the text of its requirements, so that ftbench gives benchmarks with different requirements
venvs of their own (one shared venv lets one benchmark's pins replace another's).
"""

import json
import os
import sys

from pyperformance import __version__, _manifest
from pyperformance.cli import _select_benchmarks


def requirements(bench):
    path = bench.requirements_lockfile
    if not path or not os.path.isfile(path):
        return ""
    with open(path, encoding="utf-8") as f:
        lines = [line.split("#", 1)[0].strip() for line in f]
    return "\n".join(sorted(line for line in lines if line))


def main():
    selection = sys.argv[1]
    manifest = _manifest.load_manifest(sys.argv[2] if len(sys.argv) > 2 else None)
    try:
        selected = _select_benchmarks(selection, manifest)
    except ValueError as err:
        print(json.dumps({"error": str(err)}))
        return
    by_name = {b.name: b for b in manifest.benchmarks}
    known = set(by_name) | set(manifest.groups) | {"all", "default", "<default>"}
    named = [s.strip() for s in selection.split(",") if s.strip()]
    unknown = [s.lstrip("-") for s in named if s.lstrip("-") not in known]
    # Named benchmarks this Python cannot run (pyperformance drops them without a word).
    chosen = {b.name for b in selected}
    excluded = [
        {"name": s, "requires_python": str(by_name[s].python)}
        for s in named
        if s in by_name and s not in chosen
    ]
    benchmarks = [
        {"name": b.name, "tags": list(b.tags or ()), "requirements": requirements(b)}
        for b in sorted(selected, key=lambda b: b.name)
    ]
    print(
        json.dumps(
            {
                "version": __version__,
                "benchmarks": benchmarks,
                "unknown": unknown,
                "excluded": excluded,
            }
        )
    )


main()
