"""The import graph of the ``wellforge`` package: layers, not circles (issue 13).

Imports go one way (``/work/shared/DESIGN.md``, "Layers"): inside each package a floor of
data types and helpers, then the machinery, then the plug-ins (the validator's checks),
then the runners and the CLI. Here the graph is read from the sources with ``ast``:
every ``import`` and ``from ... import`` statement, those inside functions included
(a lazy import is still an arrow), relative imports resolved against the module's
package. A strongly connected component of two or more modules is a circle: none of
them can be read, tested or changed without the others.
"""

from __future__ import annotations

import ast
import os
from functools import cache, lru_cache

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: import name -> folder in the repository (pyproject.toml's package-dir); sub-packages
#: (folders with an ``__init__.py``) are found below each folder
FOLDERS = {
    "wellforge": "wellforge",
    "wellforge.schema": "schema",
    "wellforge.generators": "generators",
    "wellforge.validate": "validate",
}

#: the packages whose modules must form no circle (one line per package)
ACYCLIC = [
    "wellforge.validate",
    "wellforge.generators",
    "wellforge.schema",
]

#: the packages where no module takes a private (``_name``) name from another module
NO_PRIVATE_IMPORTS = ["wellforge.validate", "wellforge.generators", "wellforge.schema",
                      "wellforge"]

#: plug-in packages: their modules import downward only, never each other
PLUGINS = ["wellforge.validate.checks"]


@lru_cache(maxsize=1)
def modules() -> dict[str, tuple[str, bool]]:
    """Module name -> (source path, is a package's ``__init__``)."""
    out = {}
    for pkg, folder in FOLDERS.items():
        top = os.path.join(ROOT, folder)
        for dirpath, dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, top)
            parts = [] if rel == "." else rel.split(os.sep)
            if parts and not os.path.isfile(os.path.join(dirpath, "__init__.py")):
                dirnames[:] = []  # not a package (templates, data)
                continue
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            base = ".".join([pkg, *parts])
            for fn in filenames:
                if fn.endswith(".py"):
                    init = fn == "__init__.py"
                    out[base if init else f"{base}.{fn[:-3]}"] = (
                        os.path.join(dirpath, fn), init)
    return out


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(mod: str, is_init: bool, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import ...`` in ``mod``."""
    if level == 0:
        return target or ""
    package = mod if is_init else mod.rpartition(".")[0]
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _known(name: str) -> str | None:
    """The longest prefix of ``name`` that is a module of the package, or None."""
    mods = modules()
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        head = ".".join(parts[:i])
        if head in mods:
            return head
    return None


@cache
def imports(mod: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """(modules that ``mod`` imports, private names it takes from other modules)."""
    path, is_init = modules()[mod]
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), path)
    mods = modules()
    edges: set[str] = set()
    private: list[str] = []
    bound: dict[str, str] = {}  # local name -> module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                hit = _known(a.name)
                if hit:
                    edges.add(hit)
                    if a.asname:
                        bound[a.asname] = hit
                    else:
                        bound[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            src = _resolve(mod, is_init, node.level, node.module)
            for a in node.names:
                sub = f"{src}.{a.name}"
                if sub in mods:  # from package import module
                    edges.add(sub)
                    bound[a.asname or a.name] = sub
                    continue
                hit = _known(src)
                if hit:
                    edges.add(hit)
                    if _private(a.name) and hit != mod:
                        private.append(f"{mod}: from {src} import {a.name}")
    for node in ast.walk(tree):  # module._name through a bound module
        if isinstance(node, ast.Attribute) and _private(node.attr):
            chain, v = [node.attr], node.value
            while isinstance(v, ast.Attribute):
                chain.append(v.attr)
                v = v.value
            if isinstance(v, ast.Name) and v.id in bound:
                dotted = ".".join([bound[v.id], *reversed(chain[1:])])
                if dotted in mods and dotted != mod:
                    private.append(f"{mod}: {dotted}.{node.attr}")
    edges.discard(mod)
    return frozenset(edges), tuple(private)


def components() -> list[list[str]]:
    """Strongly connected components of the import graph (Tarjan, iterative)."""
    graph = {m: sorted(imports(m)[0]) for m in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on.add(v)
            succ = graph[v]
            if i < len(succ):
                work.append((v, i + 1))
                w = succ[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _inside(mod: str, pkg: str) -> bool:
    return mod == pkg or mod.startswith(pkg + ".")


def test_the_graph_is_read():
    """The reader finds the modules and the arrows it should (a guard for the tests
    below: an empty graph has no circles)."""
    mods = modules()
    assert "wellforge.validate.runner" in mods and "wellforge.validate.checks" in mods
    assert "wellforge.validate.findings" in imports("wellforge.validate.runner")[0]
    # a lazy import inside a function is an arrow too
    assert "wellforge.validate.cards" in imports("wellforge.validate.config")[0]


@pytest.mark.parametrize("pkg", ACYCLIC)
def test_no_import_circle(pkg):
    """No strongly connected component of the import graph that holds a module of
    ``pkg`` has two or more modules."""
    circles = [c for c in components() if len(c) > 1 and any(_inside(m, pkg) for m in c)]
    assert circles == [], "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


@pytest.mark.parametrize("pkg", PLUGINS)
def test_plugins_do_not_import_each_other(pkg):
    """A check module imports the floor and the machinery below it, never another check
    module (nor the package that registers them all)."""
    bad = [f"{m} -> {t}" for m in modules() if m.startswith(pkg + ".")
           for t in sorted(imports(m)[0]) if _inside(t, pkg)]
    assert bad == []


@pytest.mark.parametrize("pkg", NO_PRIVATE_IMPORTS)
def test_no_private_name_crosses_a_module(pkg):
    """A name with a leading underscore is used only in the module that defines it: a
    helper that two modules need moves down to the floor, under a public name."""
    pkgs = [p for p in NO_PRIVATE_IMPORTS if p != pkg and _inside(p, pkg)]
    bad = [x for m in sorted(modules()) if _inside(m, pkg)
           and not any(_inside(m, p) for p in pkgs) for x in imports(m)[1]]
    assert bad == []
