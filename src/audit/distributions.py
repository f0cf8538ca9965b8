"""List the distributions of an environment for `ftbench audit`, and see whether start-up alone
turns the GIL on.

Run as `python -S -B -P distributions.py OUT`: with `-S`, `site` has not run yet, so the hook
on extension modules is in place before the `.pth` files and `sitecustomize` are processed
(`site.main()` below), and an extension that one of them imports is named. One JSON object is
written to OUT (stdout is left to whatever the environment prints):

    {"result": "success", "gil_at_start": false, "started_by": null,
     "distributions": [{"name", "version", "path", "modules", "extensions", "tags",
                        "installer"}, ...]}

`modules` are the top-level modules to import, from `top_level.txt` (as listed: a hostile name is
data too), else from `RECORD` (names that are identifiers);
`extensions` the extension modules the distribution ships (dotted names); `tags` the wheel tags
of its `WHEEL` file (empty where it has none).
"""

import json
import os
import sys

EXTENSION_SUFFIXES = []


def _watch_extensions():
    """Name the extension module whose creation turns the GIL on, if one does."""
    found = {"by": None}
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    bootstrap = sys.modules.get("_frozen_importlib_external")
    loader = getattr(bootstrap, "ExtensionFileLoader", None)
    create = getattr(loader, "create_module", None)
    if is_enabled is None or create is None:
        return found, lambda: None

    def create_module(self, spec):
        before = is_enabled()
        module = create(self, spec)
        if not before and is_enabled() and found["by"] is None:
            found["by"] = getattr(spec, "name", None) or "?"
        return module

    loader.create_module = create_module
    return found, lambda: setattr(loader, "create_module", create)


def _extension_name(parts):
    """The dotted module name of an extension file's path parts, or None (a shared library in
    a folder that is no package, like numpy's `numpy.libs`, is not a module)."""
    last = parts[-1]
    for suffix in EXTENSION_SUFFIXES:
        if last.endswith(suffix):
            names = list(parts[:-1]) + [last[: -len(suffix)]]
            return ".".join(names) if all(n.isidentifier() for n in names) else None
    return None


def _skipped(first):
    """Whether a path's first part is outside the importable tree."""
    return (
        first in ("..", "__pycache__", "")
        or first.endswith((".dist-info", ".egg-info", ".data", ".pth"))
        or first.startswith("__editable__")
    )


def _modules_and_extensions(dist):
    modules = []
    extensions = []
    files = dist.files or []
    for path in files:
        parts = path.parts
        if not parts or _skipped(parts[0]):
            continue
        extension = _extension_name(parts)
        if extension is not None:
            extensions.append(extension)
        if len(parts) == 1:
            name = parts[0]
            if name.endswith(".py") and name[:-3].isidentifier():
                modules.append(name[:-3])
            elif extension is not None:
                modules.append(extension)
        elif (parts[-1].endswith(".py") or extension is not None) and parts[0].isidentifier():
            modules.append(parts[0])
    listed = dist.read_text("top_level.txt")
    if listed is not None:
        modules = [line.strip().replace("/", ".") for line in listed.splitlines()]
    unique = []
    for name in modules:
        if name and name not in unique:
            unique.append(name)
    return unique, sorted(set(extensions))


def _text(value):
    """`value` as text JSON can carry: a file name's undecodable bytes are written as escapes."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _tags(dist):
    text = dist.read_text("WHEEL") or ""
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]


def _normalized(name):
    out = []
    for char in name.lower():
        out.append("-" if char in "-_." else char)
    text = "".join(out)
    while "--" in text:
        text = text.replace("--", "-")
    return text


def main():
    out = sys.argv[1]
    is_enabled = getattr(sys, "_is_gil_enabled", lambda: True)
    gil_at_start = is_enabled()
    found, unhook = _watch_extensions()
    import site

    site.main()
    unhook()
    import importlib.machinery
    import importlib.metadata

    EXTENSION_SUFFIXES.extend(importlib.machinery.EXTENSION_SUFFIXES)
    seen = set()
    distributions = []
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata is not None else None
        if not name or _normalized(name) in seen:
            # The first on sys.path is the one imported; the others are shadowed.
            continue
        seen.add(_normalized(name))
        modules, extensions = _modules_and_extensions(dist)
        distributions.append(
            {
                "name": _text(name),
                "version": _text(dist.version or ""),
                "path": _text(str(getattr(dist, "_path", ""))),
                "modules": [_text(m) for m in modules],
                "extensions": [_text(e) for e in extensions],
                "tags": _tags(dist),
                "installer": (dist.read_text("INSTALLER") or "").strip(),
            }
        )
    result = {
        "result": "success",
        "gil_at_start": gil_at_start,
        "gil_after_site": is_enabled(),
        "started_by": found["by"],
        "distributions": distributions,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
    os._exit(0)
