"""``wellforge new-system NAME``: a ready plugin package for a new system, from a template.

The package (``generators/templates/system/``) runs as written — 2-D periodic diffusion of
a random smooth field — and holds the three things a system needs: a module with the
physics (``<package>/system.py``), its card (``<package>/card.yaml``) and a test that
generates a tiny dataset and validates it. Its ``pyproject.toml`` registers the system in
the entry point group ``wellforge.systems``, so after ``pip install -e DIR`` it is listed by
``wellforge systems`` without any edit to wellforge.
"""

from __future__ import annotations

import os
import re

from wellforge.errors import ConfigError

HELP = {
    "new-system": "write a ready plugin package for a new system (module, card, test, "
                  "pyproject with the wellforge.systems entry point)",
}

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates", "system")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{[A-Z_]+\}\}")


def add_new_system_arguments(p):
    p.add_argument("name", help="system name: lower case letters, digits, underscores "
                   "(e.g. heat_2d); also the name in 'wellforge generate NAME'")
    p.add_argument("--out", help="project directory to create (default ./NAME)")
    p.add_argument("--title", help="one-line description (default: derived from NAME)")
    p.add_argument("--field", default="concentration",
                   help="name of the stored scalar field in the template (default "
                   "concentration)")


def substitutions(name: str, title: str | None = None, field: str = "concentration"
                  ) -> dict[str, str]:
    """Placeholder -> text for a system ``name``."""
    if not _NAME.match(name or ""):
        raise ConfigError(f"system name {name!r}: use lower case letters, digits and "
                          "underscores, starting with a letter (e.g. heat_2d)")
    if not _NAME.match(field or ""):
        raise ConfigError(f"--field {field!r}: use lower case letters, digits and underscores")
    return {
        "{{NAME}}": name,
        "{{CLASS}}": "".join(w.capitalize() for w in name.split("_") if w),
        "{{PACKAGE}}": subs_package(name),
        "{{DIST}}": "wellforge-" + name.replace("_", "-"),
        "{{TITLE}}": (title or f"{name.replace('_', ' ').capitalize()} (2-D periodic "
                      "diffusion template)").replace('"', "'"),
        "{{FIELD}}": field,
    }


def render(text: str, subs: dict[str, str]) -> str:
    for k, v in subs.items():
        text = text.replace(k, v)
    left = _PLACEHOLDER.search(text)
    if left:  # a template bug, not a user error
        raise RuntimeError(f"template placeholder {left.group(0)} has no value")
    return text


def target_path(rel: str, subs: dict[str, str]) -> str:
    """Template path -> project path (``package/`` -> the package, ``*.tmpl`` stripped)."""
    parts = rel.split(os.sep)
    if parts[0] == "package":
        parts[0] = subs["{{PACKAGE}}"]
    if parts[-1] == "test_system.py.tmpl":
        parts[-1] = f"test_{subs['{{NAME}}']}.py.tmpl"
    parts[-1] = parts[-1].removesuffix(".tmpl")
    return os.path.join(*parts)


def new_system(name: str, out: str | None = None, title: str | None = None,
               field: str = "concentration") -> list[str]:
    """Write the plugin project for ``name`` into ``out``; return the files written."""
    from .registry import available

    subs = substitutions(name, title, field)
    if name in available():
        raise ConfigError(f"system {name!r} already exists ({available()[name]}); choose "
                          "another name")
    out = out or name
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        raise ConfigError(f"{out}: exists and is not an empty directory; choose another "
                          "--out")
    written = []
    for d, _, files in sorted(os.walk(TEMPLATE)):
        for fn in sorted(files):
            if not fn.endswith(".tmpl"):
                continue
            src = os.path.join(d, fn)
            dst = os.path.join(out, target_path(os.path.relpath(src, TEMPLATE), subs))
            with open(src) as fh:
                text = render(fh.read(), subs)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "w") as fh:
                fh.write(text)
            written.append(dst)
    return written


def subs_package(name: str) -> str:
    return f"wellforge_{name}"


def run_new_system(args) -> int:
    files = new_system(args.name, args.out, args.title, args.field)
    out = args.out or args.name
    print(f"created {out}/:")
    for f in files:
        print(f"  {os.path.relpath(f, out)}")
    steps = [
        (f"pip install -e {out}", f"registers '{args.name}' (entry point wellforge.systems)"),
        ("wellforge systems", "lists it"),
        (f"wellforge generate {args.name} --preset tiny --out out", "a tiny dataset"),
        (f"wellforge validate out/{args.name}", "exit 0: valid"),
        (f"pytest {out}/tests", "the same, as a test"),
    ]
    width = max(len(c) for c, _ in steps) + 2
    print("next:")
    for cmd, why in steps:
        print(f"  {cmd:<{width}}# {why}")
    print(f"then edit {os.path.join(out, subs_package(args.name), 'system.py')} (physics) and "
          "card.yaml (fields, parameters, axes); see docs/tutorial.md")
    return 0
