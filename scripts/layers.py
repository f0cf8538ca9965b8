"""Check that ftbench's modules import downwards only: each top-level module of `src/` may use
the modules listed before it in LAYERS (and itself), never one after it, so the pipeline reads
top to bottom and has no import cycles; and within each folder, no file uses a file that uses it
back (directly or through others); and the analysis and the report hold no shared state (no
locks, once-cells or atomics: they compute from their input and return). Run by .ci/run;
prints each import that goes upwards, each circle and each piece of shared state.

Test code may reach any layer (a test of the whole pipeline): a file's `#[cfg(test)]` part and
files named `tests.rs` are not checked. Every module lib.rs declares must have its layer here.

    python3 scripts/layers.py [SRC_DIR]
"""

import os
import re
import sys

# Low to high: the model (what a results file holds, as data that imports nothing), plain
# helpers, the machine and the interpreters, the tests and their results schema, the
# configuration, the measuring, the numbers derived from it, and what shows them.
LAYERS = [
    "model",
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
    problems.extend(file_cycles(src))
    problems.extend(shared_state(src))
    for problem in problems:
        print(problem)
    if problems:
        print(
            "%d problem(s): imports that go upwards, files in a circle or shared state; the "
            "layers, low to high: %s" % (len(problems), ", ".join(LAYERS))
        )
        return 1
    print(
        "layers: %d modules, every import goes downwards; no files of a folder use each other "
        "in a circle; no shared state in %s" % (len(LAYERS), " or ".join(STATELESS))
    )
    return 0


PATH = r"(?:\{([^}]*)\}|(\w+))"

# Modules that derive and show, and keep nothing between calls: what they compute is data.
STATELESS = ["analysis", "report"]
STATE = re.compile(
    r"\b(Mutex|RwLock|OnceLock|OnceCell|LazyLock|RefCell|Cell|Atomic[A-Z]\w*"
    r"|thread_local!|static mut)\b"
)


def shared_state(src):
    """A problem for each lock, once-cell, cell or atomic in the stateless modules' code."""
    problems = []
    for module in STATELESS:
        for root, _, names in sorted(os.walk(os.path.join(src, module))):
            for name in sorted(names):
                if not name.endswith(".rs") or name == "tests.rs":
                    continue
                path = os.path.join(root, name)
                for number, line in code_lines(path):
                    for match in STATE.finditer(line):
                        where = os.path.relpath(path, os.path.dirname(src))
                        problems.append(
                            "%s:%d: `%s` in %s, which keeps no state"
                            % (where, number, match.group(1), module)
                        )
    return problems


def named(match):
    """The names a `path::{a, b}` or `path::a` match names."""
    group, single = match.groups()
    return [single] if single else re.findall(r"(?:^|,)\s*(\w+)", group)


def folder_graph(src, folder):
    """Which files of a folder module use which other files of it: `super::x`, `crate::m::x`,
    and in mod.rs `x::` for a child `x` (its `mod` and `pub use` lines declare, not use). A
    child folder (`x/mod.rs`) is one node: what any of its files uses (`super::super::y`,
    `crate::m::y`)."""
    files = sorted(n[:-3] for n in os.listdir(folder) if n.endswith(".rs") and n != "tests.rs")
    folders = sorted(
        n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n, "mod.rs"))
    )
    top = os.path.relpath(folder, src).split(os.sep)[0]
    children = (set(files) | set(folders)) - {"mod"}
    graph = {f: set() for f in files + folders}
    own = re.compile(r"\bcrate::%s::%s" % (re.escape(top), PATH))
    for f in folders:
        for root, _, names in os.walk(os.path.join(folder, f)):
            for name in sorted(n for n in names if n.endswith(".rs") and n != "tests.rs"):
                for _, line in code_lines(os.path.join(root, name)):
                    targets = set()
                    depth = os.path.relpath(root, folder).count(os.sep) + 1
                    up = re.compile(r"\b(?:super::){%d}%s" % (depth + (name != "mod.rs"), PATH))
                    for match in up.finditer(line):
                        targets.update(n if n in children else "mod" for n in named(match))
                    if os.path.dirname(folder) == os.path.normpath(src):
                        for match in own.finditer(line):
                            targets.update(n if n in children else "mod" for n in named(match))
                    targets.discard(f)
                    graph[f] |= targets & set(graph)
    for f in files:
        for _, line in code_lines(os.path.join(folder, f + ".rs")):
            stripped = line.strip()
            # mod.rs declares its children and re-exports what they define: not a use.
            declares = re.match(r"(pub(\(crate\))? )?mod \w+;|pub(\(crate\))? use ", stripped)
            if f == "mod" and declares:
                continue
            targets = set()
            for match in re.finditer(r"\bsuper::" + PATH, line):
                targets.update(n if n in children else "mod" for n in named(match))
            if os.path.dirname(folder) == os.path.normpath(src):
                for match in own.finditer(line):
                    targets.update(n if n in children else "mod" for n in named(match))
            if f == "mod":
                targets.update(c for c in children if re.search(r"(?<![\w:])%s::" % c, line))
            targets.discard(f)
            graph[f] |= targets & set(graph)
    return graph


def file_cycles(src):
    """A problem for each circle of files within a folder (a file that uses a file that uses it
    back, directly or through others)."""
    problems = []
    for root, _, names in sorted(os.walk(src)):
        if os.path.normpath(root) == os.path.normpath(src) or "mod.rs" not in names:
            continue
        graph = folder_graph(src, root)
        for component in strongly_connected(graph):
            if len(component) > 1:
                problems.append(
                    "%s: these files use each other in a circle: %s"
                    % (
                        os.path.relpath(root, os.path.dirname(src)),
                        ", ".join(
                            sorted(
                                c + ("/" if os.path.isdir(os.path.join(root, c)) else ".rs")
                                for c in component
                            )
                        ),
                    )
                )
    return problems


def strongly_connected(graph):
    """Tarjan's strongly connected components of `graph` (node -> set of nodes)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on.discard(top)
                component.append(top)
                if top == node:
                    break
            out.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


if __name__ == "__main__":
    sys.exit(main())
