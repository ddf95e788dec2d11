#!/usr/bin/env python3
"""Mutation testing of wellforge's core with mutmut 3 (``make mutation``; not run in CI).

Why a staging tree: mutmut 3 copies the sources into ``mutants/`` and derives a module's
name from its path there (``schema/stats.py`` -> ``schema.stats``), while this repository
maps ``schema/``, ``generators/`` and ``validate/`` onto ``wellforge.schema`` ... with
setuptools' package-dir. Run on the repository as it is, every mutant is "not covered"
(the tests import ``wellforge.schema.stats``, a name mutmut never sees). So this script
lays the installed package out as a ``src/wellforge/...`` tree in ``build/mutation/``
(with the tests), where the paths are the module names, and runs mutmut there; the
editable install's finder comes after ``sys.path``, so the tests import the mutants.

Two rewrites of the staged copy (semantics unchanged), because mutmut 3 does not mutate
decorated functions: ``@check(...)``-registered checks and ``@property`` methods are
turned into plain definitions followed by ``f = check(...)(f)`` / ``f = property(f)``.
The staged tests validate in-process (see CONFTEST_EXTRA). Outside the listed modules
nothing is mutated.

Usage:  scripts/mutation.py [--max-children N] [CAMPAIGN ...] [--only MODULE ...]
        scripts/mutation.py --report     (summary of the last run, per module)
Results: ``build/mutation/<campaign>/mutants/`` (mutmut's cache: a rerun only retests
mutants of changed functions; ``mutmut show NAME`` there prints a mutant's diff).
Equivalent mutants, with their reasons: ``tests/MUTATION.md`` (the score leaves them out).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "build" / "mutation"

#: staged path (under src/wellforge) -> repository path
PACKAGES = {"": "wellforge", "schema": "schema", "generators": "generators",
            "validate": "validate"}

#: campaigns: the modules mutated together (staged paths) and the fast tests they are
#: run against (mutmut then picks, per mutated function, the tests that call it). One
#: staging tree per campaign: each keeps its own cache in build/mutation/<name>/mutants.
CAMPAIGNS = {
    "schema": (["schema/stats.py", "schema/writer.py"],
               ["tests/test_stats.py", "tests/test_schema_spec.py", "tests/test_disk_full.py",
                "tests/test_pin_schema.py"]),
    "generators": (["generators/config.py", "generators/resample.py",
                    "generators/clock.py", "generators/pack.py", "schema/grids.py"],
                   ["tests/test_resample.py", "tests/test_cli_generate.py",
                    "tests/test_generate.py::test_plan_counts_and_disk_size",
                    "tests/test_pin_generators.py"]),
    # L0 and L1: every validation calls every one of their checks, so a survivor reruns
    # every test that validates anything; these run against the fast harness files only
    "validate-l0l1": (["validate/checks/structure.py", "validate/checks/safety.py",
                       "validate/safe_open.py"],
                      ["tests/test_validate_mutations.py", "tests/test_validate_levels.py",
                       "tests/test_pin_validate.py", "tests/test_pin_checks.py"]),
    "validate": (["validate/quadrature.py", "validate/robust.py", "validate/unit_algebra.py",
                  "validate/checks/sanity.py",
                  "validate/checks/boundaries.py", "validate/checks/cards.py",
                  "validate/checks/dataset.py", "validate/checks/invariants.py",
                  "validate/checks/units.py"],
                 ["tests/test_quadrature.py", "tests/test_validate_mutations.py",
                  "tests/test_validate_levels.py", "tests/test_validate_physics.py",
                  "tests/test_pin_validate.py", "tests/test_pin_checks.py"]),
}
#: tests left out of a campaign: each generates datasets with Dedalus in a fixture, and
#: a surviving mutant reruns the fixture (minutes per mutant); the pin tests cover them
DESELECT = {
    "validate": ["test_clean_generated_data_fires_nothing", "test_mutation_of_generated_data",
                 "test_wall_finding_says_where", "test_tracer_drift_reports",
                 "test_energy_growth_against", "test_check_card",
                 "test_a_well_style_file_is_checked"],
}
MODULES = [m for mods, _ in CAMPAIGNS.values() for m in mods]
#: only these classes/functions of a module are mutated (the rest is left alone)
ONLY: dict[str, set[str]] = {}

#: --baseline: the score before this suite's pins (tests/MUTATION.md's "before"): the
#: tests of the merge base with BASELINE_REF, without the pin files
BASELINE_SKIP = "tests/test_pin_"
BASELINE_REF = os.environ.get("WELLFORGE_MUTATION_BASE", "main")

#: appended to the staged tests/conftest.py: the validator checks each file in a forked
#: child by default, where mutmut's record of which test calls which function is lost
#: (every check would be "not covered"); the staged tests validate in-process unless a
#: test asks for isolation explicitly
CONFTEST_EXTRA = """

# -- added by scripts/mutation.py (staging tree only) --
def _in_process_validation():
    import wellforge.validate.context as _c

    init = _c.Options.__init__

    def __init__(self, *args, **kw):
        kw.setdefault("isolate", False)
        init(self, *args, **kw)

    _c.Options.__init__ = __init__


_in_process_validation()
"""

#: files some tests read by their repository path (copied beside the staged tests)
REPO_FILES = ["schema/FORMAT.md", "validate/README.md", "validate/schemas"]

PYTEST_ARGS = ["-m", "not slow and not mpi", "-p", "no:cacheprovider", "-x", "-q",
               "--timeout=300"]


def _rewrite_decorators(src: str, only: set[str] | None) -> str:
    """Decorated defs -> plain defs + call-form decoration (mutmut skips decorated defs);
    with ``only``, pragma out every top-level statement not named in it."""
    import libcst as cst

    class Undecorate(cst.CSTTransformer):
        def __init__(self):
            self.depth = 0

        def visit_ClassDef(self, node):
            self.depth += 1

        def leave_ClassDef(self, original, updated):
            self.depth -= 1
            return self._split_body(updated)

        def leave_Module(self, original, updated):
            return self._split_body(updated)

        def _split_body(self, node):
            body = node.body.body if isinstance(node, cst.ClassDef) else node.body
            out = []
            for stmt in body:
                if isinstance(stmt, cst.FunctionDef) and stmt.decorators and not (
                        len(stmt.decorators) == 1
                        and isinstance(stmt.decorators[0].decorator, cst.Name)
                        and stmt.decorators[0].decorator.value in ("staticmethod",
                                                                   "classmethod")):
                    expr: cst.BaseExpression = cst.Name(stmt.name.value)
                    for d in reversed(stmt.decorators):
                        expr = cst.Call(func=d.decorator, args=[cst.Arg(expr)])
                    # keep the decorators' own comments and blank lines before the def
                    lead = list(stmt.leading_lines)
                    for d in stmt.decorators:
                        lead += list(d.leading_lines)
                    out.append(stmt.with_changes(decorators=[], leading_lines=lead))
                    out.append(cst.SimpleStatementLine(
                        [cst.Assign([cst.AssignTarget(cst.Name(stmt.name.value))], expr)]))
                else:
                    out.append(stmt)
            if isinstance(node, cst.ClassDef):
                return node.with_changes(body=node.body.with_changes(body=out))
            return node.with_changes(body=out)

    mod = cst.parse_module(src).visit(Undecorate())
    if only:
        # '# pragma: no mutate start/end' around everything but the named statements
        body = list(mod.body)
        keep = [isinstance(s, (cst.ClassDef, cst.FunctionDef)) and s.name.value in only
                for s in body]
        new, open_ = [], False
        for s, k in zip(body, keep):
            if k == open_:  # open a region before a skipped stmt, close it before a kept one
                tok = "end" if open_ else "start"
                s = s.with_changes(leading_lines=[*s.leading_lines, cst.EmptyLine(
                    comment=cst.Comment(f"# pragma: no mutate {tok}"))])
                open_ = not open_
            new.append(s)
        if open_:  # close at the end: a last statement that mutates nothing
            new.append(cst.SimpleStatementLine([cst.Expr(cst.Name("None"))], leading_lines=[
                cst.EmptyLine(comment=cst.Comment("# pragma: no mutate end"))]))
        mod = mod.with_changes(body=new)
    return mod.code


def stage(name: str, modules: list[str], baseline: bool = False) -> Path:
    root = STAGE / (name + ("-baseline" if baseline else ""))
    src = root / "src" / "wellforge"
    for p in (root / "src", root / "tests"):
        if p.exists():
            shutil.rmtree(p)
    for sub, repo_dir in PACKAGES.items():
        shutil.copytree(ROOT / repo_dir, src / sub if sub else src, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for m in MODULES:
        p = src / m
        p.write_text(_rewrite_decorators(p.read_text(), ONLY.get(m)))
    if baseline:  # the tests as they were before the pins: BASELINE_REF's tests/
        (root / "tests").mkdir(parents=True)
        ref = subprocess.check_output(["git", "merge-base", "HEAD", BASELINE_REF], cwd=ROOT,
                                      text=True).strip()
        tar = subprocess.check_output(["git", "archive", ref, "tests"], cwd=ROOT)
        subprocess.run(["tar", "-x", "-C", str(root)], input=tar, check=True)
    else:
        shutil.copytree(ROOT / "tests", root / "tests",
                        ignore=shutil.ignore_patterns("__pycache__"))
    with open(root / "tests" / "conftest.py", "a") as fh:
        fh.write(CONFTEST_EXTRA)
    for rel in REPO_FILES:  # files some tests read by their repository path
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / rel).is_dir():
            shutil.copytree(ROOT / rel, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(ROOT / rel, dst)
    only = [f"src/wellforge/{m}" for m in modules]
    tests = [t for t in CAMPAIGNS[name][1] if (ROOT / t.split("::")[0]).exists()
             and not (baseline and t.startswith(BASELINE_SKIP))]
    args = PYTEST_ARGS + (["-k", " and ".join(f"not {k}" for k in DESELECT[name])]
                          if name in DESELECT else [])
    pyproject = f"""\
[tool.mutmut]
source_paths = ["src/"]
only_mutate = {json.dumps(only)}
pytest_add_cli_args_test_selection = {json.dumps(tests)}
pytest_add_cli_args = {json.dumps(args)}
also_copy = {json.dumps(sorted({r.split("/")[0] for r in REPO_FILES}))}
use_git_change_detection = false
timeout_multiplier = 3.0
timeout_constant = 5.0

[tool.pytest.ini_options]
testpaths = ["tests"]
markers = ["slow: long", "mpi: mpirun", "well: the-well loader"]
timeout = 300
"""
    (root / "pyproject.toml").write_text(pyproject)
    # mutmut keeps its record of which test calls which function across runs, but only
    # functions mutated when it was taken have entries: retake it when the set changes
    # (and when the tests change: new tests must be mapped too)
    import hashlib

    digest = hashlib.sha1(b"".join(p.read_bytes() for p in sorted((root / "tests").rglob(
        "*.py")))).hexdigest()
    key = root / "campaign.json"
    if key.exists() and json.loads(key.read_text()) != [only, digest]:
        for stale in (root / "mutants").glob("mutmut-stats*.json"):
            stale.unlink()
    key.write_text(json.dumps([only, digest]))
    return root


def _env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
                OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", PYTHONDONTWRITEBYTECODE="1")


def sample_names(root: Path, modules: list[str], n: int, seed: int = 0) -> list[str]:
    """Generate the mutants (no test run) and draw ``n`` per module (seeded)."""
    import random

    subprocess.check_call([sys.executable, "-c", "from mutmut.__main__ import "
                           "create_mutants; create_mutants(1)"], cwd=root, env=_env(),
                          stdout=subprocess.DEVNULL)
    names = []
    for m in modules:
        meta = root / "mutants" / "src" / "wellforge" / (m + ".meta")
        keys = sorted(json.loads(meta.read_text())["exit_code_by_key"])
        names += sorted(random.Random(f"{seed}:{m}").sample(keys, min(n, len(keys))))
    return names


def run(root: Path, max_children: int, names: list[str] | None = None) -> int:
    mutmut = Path(sys.executable).parent / "mutmut"
    return subprocess.call([str(mutmut), "run", "--max-children", str(max_children),
                            *(names or [])], cwd=root, env=_env())




def equivalents() -> dict[str, str]:
    """Mutant name -> reason, from the table in tests/MUTATION.md."""
    out = {}
    doc = ROOT / "tests" / "MUTATION.md"
    if doc.exists():
        for line in doc.read_text().splitlines():
            m = re.match(r"\|\s*`([^`]+__mutmut_\d+)`\s*\|(.*)\|\s*$", line)
            if m:
                out[m.group(1)] = m.group(2).strip()
    return out


def report(modules: list[str], baseline: bool = False) -> dict:
    """Per module: total, killed, equivalent, survived (+ timeouts, not covered)."""
    from mutmut.stats import status_by_exit_code

    eq = equivalents()
    rows = {}
    survivors = {}
    pending = {}
    for m in modules:
        name = next(n for n, (mods, _) in CAMPAIGNS.items() if m in mods)
        meta = (STAGE / (name + ("-baseline" if baseline else "")) / "mutants" / "src"
                / "wellforge" / (m + ".meta"))
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        r = {"total": 0, "killed": 0, "equivalent": 0, "survived": 0, "timeout": 0,
             "no tests": 0, "not run": 0}
        for key, code in codes.items():
            r["total"] += 1
            st = "not run" if code is None else status_by_exit_code[code]
            if key in eq:
                r["equivalent"] += 1
            elif st in ("killed", "timeout", "segfault"):
                r["timeout" if st == "timeout" else "killed"] += 1
            elif st == "survived":
                r["survived"] += 1
                survivors.setdefault(m, []).append(key)
            elif st == "no tests":
                r["no tests"] += 1
                survivors.setdefault(m, []).append(key)
            else:
                r["not run"] += 1
                pending.setdefault(m, []).append(key)
        live = r["total"] - r["equivalent"] - r["not run"]
        r["score"] = round(100 * (r["killed"] + r["timeout"]) / live, 1) if live else None
        rows[m] = r
    return {"modules": rows, "survivors": survivors, "not_run": pending}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("campaigns", nargs="*", help=f"of {', '.join(CAMPAIGNS)} (default all)")
    ap.add_argument("--only", nargs="*", help="mutate only these modules of the campaign "
                    "(staged paths, e.g. schema/stats.py)")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--report", action="store_true", help="only summarise the last run")
    ap.add_argument("--baseline", action="store_true",
                    help=f"without the pin tests ({BASELINE_SKIP}*): the score before them")
    ap.add_argument("--json", help="write the summary (and survivors) to this file")
    ap.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    ap.add_argument("--survivors", action="store_true",
                    help="rerun only the mutants that survived the last run (after new tests)")
    ap.add_argument("--sample", type=int, default=0, metavar="N",
                    help="run a seeded random sample of N mutants per module (an estimate "
                    "of the score; the rest stay 'not run')")
    a = ap.parse_args()
    names = a.campaigns or list(CAMPAIGNS)
    bad = [n for n in names if n not in CAMPAIGNS] + [m for m in a.only or []
                                                      if m not in MODULES]
    if bad:
        ap.error(f"unknown: {bad}; campaigns {list(CAMPAIGNS)}, modules {MODULES}")
    rc = 0
    for n in names if not a.report else []:
        mods = [m for m in CAMPAIGNS[n][0] if not a.only or m in a.only]
        if mods:
            root = stage(n, mods, a.baseline)
            picked = sample_names(root, mods, a.sample) if a.sample else None
            if a.survivors:  # only those the last run left alive or did not reach
                last = report(mods, a.baseline)
                picked = [k for m in mods for k in last["survivors"].get(m, [])
                          + last["not_run"].get(m, []) if picked is None or k in picked]
                if not picked:
                    continue
            rc |= run(root, a.max_children, picked)
    rep = report([m for n in names for m in CAMPAIGNS[n][0]], a.baseline)
    print(f"{'module':32} {'total':>6} {'run':>6} {'killed':>6} {'equiv':>6} {'surv':>6} "
          f"{'t/o':>4} {'nocov':>5} {'score %':>7}")
    for m, r in rep["modules"].items():
        print(f"{m:32} {r['total']:6} {r['total'] - r['not run']:6} {r['killed']:6} "
              f"{r['equivalent']:6} {r['survived']:6} {r['timeout']:4} {r['no tests']:5} "
              f"{r['score']!s:>7}")
    print("score = (killed + timeout) / (run - equivalent); 'nocov': no selected test calls "
          "the mutated function (counts as not killed)")
    if a.markdown:
        print("\n| module | mutants | run | killed | equivalent | survived | score |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for m, r in rep["modules"].items():
            print(f"| {m} | {r['total']} | {r['total'] - r['not run']} | "
                  f"{r['killed'] + r['timeout']} | {r['equivalent']} | "
                  f"{r['survived'] + r['no tests']} | {r['score']} % |")
    if a.json:
        Path(a.json).write_text(json.dumps(rep, indent=1))
    return rc


if __name__ == "__main__":
    sys.exit(main())
