"""Check that ftbench's modules import downwards only: each top-level module of `src/` may use
the modules listed before it in LAYERS (and itself), never one after it, so the pipeline reads
top to bottom and has no import cycles. Run by .ci/run; prints each import that goes upwards.

Test code may reach any layer (a test of the whole pipeline): a file's `#[cfg(test)]` part and
files named `tests.rs` are not checked. Every module lib.rs declares must have its layer here.

    python3 scripts/layers.py [SRC_DIR]
"""

import os
import re
import sys

# Low to high: plain helpers, the machine and the interpreters, the tests and their results
# schema, the configuration, the measuring, the numbers derived from it, and what shows them.
LAYERS = [
    "files",
    "dirs",
    "output",
    "secrets",
    "stats",
    "interrupt",
    "process",
    "workloads",
    "format",
    "machine",
    "interpreter",
    "results",
    "cli",
    "config",
    "runner",
    "audit",
    "analysis",
    "report",
    "compare",
    "store",
    "commands",
]

USE = re.compile(r"\bcrate::(?:\{([^}]*)\}|([a-z_][a-z0-9_]*))")


def code_lines(path):
    """The file's lines up to its test part, with comments blanked (numbered from 1)."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip().startswith("#[cfg(test)]"):
                return
            yield number, line.split("//", 1)[0]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
    rank = {name: i for i, name in enumerate(LAYERS)}
    problems = []
    with open(os.path.join(src, "lib.rs"), encoding="utf-8") as f:
        declared = re.findall(r"^(?:pub )?mod ([a-z_]+);", f.read(), re.M)
    for module in declared:
        if module not in rank:
            problems.append("src/lib.rs: module `%s` has no layer in scripts/layers.py" % module)
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".rs") or name == "tests.rs":
                continue
            path = os.path.join(root, name)
            parts = os.path.relpath(path, src).split(os.sep)
            module = parts[0][:-3] if len(parts) == 1 else parts[0]
            if module in ("lib", "main") or "tests" in parts[1:-1]:
                continue
            for number, line in code_lines(path):
                for group, single in USE.findall(line):
                    used = (
                        [single] if single else re.findall(r"(?:^|,)\s*([a-z_][a-z0-9_]*)", group)
                    )
                    for target in used:
                        if target not in rank or target == module:
                            continue  # an item of lib.rs itself (EXIT_INTERRUPTED, ...)
                        if rank[target] > rank[module]:
                            problems.append(
                                "%s:%d: `%s` uses `%s`, a layer above it"
                                % (
                                    os.path.relpath(path, os.path.dirname(src)),
                                    number,
                                    module,
                                    target,
                                )
                            )
    for problem in problems:
        print(problem)
    if problems:
        print(
            "%d import(s) go upwards; the layers, low to high: %s"
            % (len(problems), ", ".join(LAYERS))
        )
        return 1
    print("layers: %d modules, every import goes downwards" % len(LAYERS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
