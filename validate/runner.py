"""Orchestration: find the files, validate each in an isolated child process (L0-L4,
one streaming pass), then each dataset (L5); filter the findings (select/ignore,
per-path ignores, baseline) and decide the exit code.

Each file is validated in a forked child process: a crash of the HDF5 library on a
malformed file, or a hang (with ``timeout``), becomes a WF001 finding for that file
instead of taking the run down. ``jobs`` children run at once.
"""

from __future__ import annotations

import fnmatch
import glob
import logging
import multiprocessing as mp
import multiprocessing.connection
import os
import signal
import time
from dataclasses import dataclass, field

from wellforge.schema.spec import SPLITS

from wellforge.errors import ConfigError

from .checks import load_all
from .context import DatasetContext, FileContext, Options
from .findings import Finding, Issue, Severity
from .registry import INTERNAL_CODE, REGISTRY, Rule, matches, run_check
from .safe_open import first_line, open_file, preflight, walk
from .stream import run_stream

REPORT_SCHEMA_VERSION = "1.0"


@dataclass
class Target:
    path: str
    display: str
    logical: str
    root: str
    split: str | None


@dataclass
class Group:
    root: str
    display: str
    is_dataset_dir: bool
    targets: list[Target]


@dataclass
class Report:
    findings: list[Finding]
    files: int
    suppressed: int = 0
    #: {"file", "note"}: what a run could not check or assumed (no card, checks skipped)
    notes: list[dict] = field(default_factory=list)
    #: the files validated, as displayed (a JUnit test suite each)
    names: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return any(f.refused for f in self.findings)

    def count(self, sev: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == sev)

    def exit_code(self, fail_on: Severity) -> int:
        if self.refused:
            return 3
        if any(f.severity >= fail_on for f in self.findings):
            return 1
        return 0

    def summary(self) -> dict:
        return {"files": self.files, "errors": self.count(Severity.ERROR),
                "warnings": self.count(Severity.WARNING), "infos": self.count(Severity.INFO),
                "suppressed": self.suppressed, "refused": self.refused}


# -- discovery --------------------------------------------------------------------------

def _data_files(d: str, recursive: bool = False) -> list[str]:
    pat = "**/*" if recursive else "*"
    out = glob.glob(os.path.join(d, pat + ".h5"), recursive=recursive)
    out += glob.glob(os.path.join(d, pat + ".hdf5"), recursive=recursive)
    return sorted(out)


def _split_of(path: str) -> tuple[str | None, str]:
    """(split, dataset root) when ``path`` is ``<root>/data/<split>/<file>``."""
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.basename(parent) in SPLITS and \
            os.path.basename(os.path.dirname(parent)) == "data":
        return os.path.basename(parent), os.path.dirname(os.path.dirname(parent))
    return None, os.path.dirname(os.path.abspath(path))


def discover(paths: list[str], only: set[str] | None = None) -> list[Group]:
    """Groups of files to validate; a path that does not exist is a usage error."""
    groups = []
    for p in paths:
        if not os.path.lexists(p):
            raise ConfigError(f"{p}: no such file or directory")
        if os.path.isdir(p):
            if os.path.isdir(os.path.join(p, "data")):
                targets = []
                for s in SPLITS:
                    for fp in _data_files(os.path.join(p, "data", s)):
                        rel = os.path.relpath(fp, p)
                        targets.append(Target(fp, os.path.join(p, rel), rel, p, s))
                groups.append(Group(p, p, True, targets))
            else:
                files = _data_files(p, recursive=True)
                if not files:
                    raise ConfigError(f"{p}: no .h5/.hdf5 files in this directory")
                targets = []
                for fp in files:
                    rel = os.path.relpath(fp, p)
                    split, _ = _split_of(fp)
                    targets.append(Target(fp, os.path.join(p, rel), rel, p, split))
                groups.append(Group(p, p, False, targets))
        else:
            split, root = _split_of(p)
            logical = os.path.relpath(os.path.abspath(p), root) if split else \
                os.path.basename(p)
            groups.append(Group(os.path.dirname(os.path.abspath(p)), p, False,
                                [Target(p, p, logical, root, split)]))
    if only is not None:
        for g in groups:
            g.targets = [t for t in g.targets if os.path.realpath(t.path) in only]
        groups = [g for g in groups if g.targets]
    return groups


# -- selection --------------------------------------------------------------------------

def selected_rules(opts: Options, scope: str) -> list[Rule]:
    load_all()
    out = []
    for r in REGISTRY.values():
        if r.scope != scope or r.code == INTERNAL_CODE:
            continue
        if r.refuses:  # L0 refusals always run and cannot be switched off
            out.append(r)
            continue
        if r.level > opts.level:
            continue
        if opts.select and not matches(r.code, opts.select):
            continue
        if matches(r.code, opts.ignore):
            continue
        out.append(r)
    return sorted(out, key=lambda r: (r.level, r.code))


def _finding(rule: Rule, issue, opts: Options, file: str, logical: str) -> Finding:
    # only a severity the rules table lists for the rule (``Rule.severities``)
    sev = issue.severity if issue.severity in rule.severities else rule.severity
    if not rule.refuses:
        for pat, s in opts.severity.items():
            if rule.code.startswith(pat):
                sev = s
    return Finding(code=rule.code, severity=sev, file=file, object=issue.object,
                   region=issue.region, message=issue.message, expected=issue.expected,
                   observed=issue.observed, fix=issue.fix or rule.fix,
                   refused=rule.refuses, logical_path=logical,
                   curve=getattr(issue, "curve", None))


def _internal(msg: str, opts, file: str, logical: str, obj: str = "/") -> Finding:
    return _finding(REGISTRY[INTERNAL_CODE], Issue(obj, msg), opts, file, logical)


# -- one file ---------------------------------------------------------------------------

def validate_file(t: Target, opts: Options, dataset_needs: tuple[str, ...]) -> dict:
    """L0-L4 for one file. Returns findings, layout facts and the reducer results that
    dataset checks need."""
    rules = selected_rules(opts, "file")
    ctx = FileContext(t.path, display=t.display, logical=t.logical, root=t.root,
                      split=t.split, options=opts)
    out = {"findings": [], "facts": None, "summary": {}, "refused": False, "notes": ctx.notes}

    def run(level_lo, level_hi):
        for r in rules:
            if level_lo <= r.level <= level_hi:
                issues, err = run_check(r, ctx)
                out["findings"] += [_finding(r, i, opts, t.display, t.logical) for i in issues]
                if err:
                    out["findings"].append(_internal(err, opts, t.display, t.logical))

    def refused():
        out["refused"] = any(f.refused for f in out["findings"])
        return out["refused"]

    why = preflight(t.path)
    if why is None:
        try:
            ctx.h5 = open_file(t.path, opts.limits)
        except Exception as e:  # noqa: BLE001 - truncated, corrupt, not HDF5
            why = f"cannot open as HDF5: {first_line(e)}"
    if why is None:
        try:
            ctx.inventory = walk(ctx.h5, opts.limits)
        except Exception as e:  # noqa: BLE001
            why = f"corrupt HDF5 metadata: {first_line(e)}"
    try:
        if why is not None:
            ctx.open_error = why
            rule = REGISTRY["WF001"]
            issues, _ = run_check(rule, ctx)
            out["findings"] += [_finding(rule, i, opts, t.display, t.logical) for i in issues]
            refused()
            return out
        run(0, 0)
        if refused():
            return out
        run(1, 2)
        needs = {n for r in rules if r.level >= 3 for n in r.needs} | set(dataset_needs)
        if needs:
            try:
                run_stream(ctx, sorted(needs))
            except Exception as e:  # noqa: BLE001
                out["findings"].append(_internal(
                    f"streaming pass failed: {type(e).__name__}: {e}", opts, t.display,
                    t.logical))
        if ctx.stream_errors:
            rule = REGISTRY["WF001"]
            out["findings"] += [_finding(rule, Issue(o, m, region=reg), opts, t.display,
                                         t.logical) for o, reg, m in ctx.stream_errors]
        run(3, 4)
        try:
            out["facts"] = ctx.layout.facts()
        except Exception:  # noqa: BLE001
            out["facts"] = None
        out["summary"] = {n: ctx.results.get(n) for n in dataset_needs}
        refused()
        return out
    finally:
        if ctx.h5 is not None:
            try:
                ctx.h5.close()
            except Exception as e:  # noqa: BLE001 - nothing left to report on this file
                logging.getLogger(__name__).debug("closing %s: %s", t.path, e)


def _child(conn, t, opts, needs):
    import faulthandler

    faulthandler.disable()  # a crash is reported by the parent as a WF001 finding
    for var in ("HDF5_VDS_PREFIX", "HDF5_EXT_PREFIX"):
        os.environ.pop(var, None)
    try:
        res = validate_file(t, opts, needs)
    except BaseException as e:  # noqa: BLE001
        res = {"findings": [_internal(f"validator failed: {type(e).__name__}: {e}", opts,
                                      t.display, t.logical)],
               "facts": None, "summary": {}, "refused": False, "notes": []}
    try:
        conn.send(res)
    finally:
        conn.close()


def _refused_result(t: Target, opts: Options, msg: str) -> dict:
    f = _finding(REGISTRY["WF001"], Issue("/", msg), opts, t.display, t.logical)
    return {"findings": [f], "facts": None, "summary": {}, "refused": True}


def run_files(targets: list[Target], opts: Options, needs: list[tuple[str, ...]]
              ) -> list[dict]:
    """Validate files (``needs[i]``: reducers the dataset checks want from file i)."""
    if not opts.isolate:
        return [validate_file(t, opts, n) for t, n in zip(targets, needs)]
    mpc = mp.get_context("fork")
    results: list[dict | None] = [None] * len(targets)
    pending = list(enumerate(targets))
    running: dict = {}
    while pending or running:
        while pending and len(running) < max(1, opts.jobs):
            i, t = pending.pop(0)
            r, w = mpc.Pipe(duplex=False)
            p = mpc.Process(target=_child, args=(w, t, opts, needs[i]), daemon=True)
            p.start()
            w.close()
            running[r] = (i, p, time.monotonic())
        ready = mp.connection.wait(list(running), timeout=0.5)
        for r in ready:
            i, p, _ = running.pop(r)
            try:
                results[i] = r.recv()
            except (EOFError, OSError):
                p.join(5)
                code = p.exitcode
                how = (f"signal {signal.Signals(-code).name}" if code is not None and code < 0
                       else f"exit status {code}")
                results[i] = _refused_result(targets[i], opts, "the validator's process for "
                                             f"this file died ({how}) while reading it; "
                                             "refused")
            finally:
                r.close()
            p.join(5)
        if opts.timeout:
            now = time.monotonic()
            for r, (i, p, t0) in list(running.items()):
                if now - t0 > opts.timeout:
                    p.kill()
                    p.join(5)
                    r.close()
                    running.pop(r)
                    results[i] = _refused_result(targets[i], opts, "validation timed out "
                                                 f"after {opts.timeout:g} s; refused")
    return results  # type: ignore[return-value]


# -- a run ------------------------------------------------------------------------------

def _dataset_group(g: Group) -> bool:
    return g.is_dataset_dir or len(g.targets) > 1


def _suppressed(f: Finding, opts: Options) -> bool:
    if f.refused:
        return False  # refusals cannot be suppressed: the file was not validated
    if f.fingerprint in opts.baseline:
        return True
    for pat, codes, _reason in opts.per_path_ignores:
        if matches(f.code, codes) and (fnmatch.fnmatch(f.logical_path, pat)
                                       or fnmatch.fnmatch(f.file, pat)):
            return True
    return False


def _prepare(opts: Options, n_files: int) -> None:
    """Before the workers fork: load the --card, and for runs of several files the system
    cards (the shipped YAML cards need pint, ~0.3 s to import: once in the parent rather
    than once per file)."""
    if opts.level < 2:
        return
    from .cards import Card, load_card_file, preload

    if opts.card is not None and not isinstance(opts.card, Card):
        opts.card = load_card_file(str(opts.card))  # a bad card is a usage error (exit 2)
    if n_files > 1:
        preload()


def validate(paths: list[str], opts: Options, *, only: set[str] | None = None,
             dataset_checks: bool = True) -> Report:
    """Validate files and dataset directories; the API behind ``wellforge validate``."""
    load_all()
    groups = discover(paths, only)
    _prepare(opts, sum(len(g.targets) for g in groups))
    ds_rules = selected_rules(opts, "dataset") if dataset_checks else []
    needs = tuple(sorted({n for r in ds_rules for n in r.needs}))
    all_targets = [t for g in groups for t in g.targets]
    # reducers for dataset checks only where dataset checks will run
    per_target = [needs if _dataset_group(g) else () for g in groups for _ in g.targets]
    results = run_files(all_targets, opts, per_target)
    findings: list[Finding] = [f for res in results for f in res["findings"]]
    notes = []
    for t, res in zip(all_targets, results):
        for n in res.get("notes") or []:
            notes.append({"file": t.display, "note": n})
    k = 0
    for g in groups:
        files = []
        for t in g.targets:
            res = results[k]
            k += 1
            files.append({"path": t.path, "display": t.display, "logical": t.logical, "split": t.split,
                              "facts": res["facts"], "summary": res["summary"],
                              "refused": res["refused"]})
        if not ds_rules or not _dataset_group(g):
            continue
        ds = DatasetContext(g.root, g.display, opts, files, g.is_dataset_dir)
        for r in ds_rules:
            issues, err = run_check(r, ds)
            for where, issue in issues:
                if isinstance(where, dict):
                    file, logical = where["display"], where["logical"]
                elif isinstance(where, str):
                    file, logical = os.path.join(g.display, where), where
                else:
                    file, logical = g.display, "."
                findings.append(_finding(r, issue, opts, file, logical))
            if err:
                findings.append(_internal(err, opts, g.display, "."))
        notes += [{"file": g.display, "note": n} for n in ds.notes]
    kept = [f for f in findings if not _suppressed(f, opts)]
    kept.sort(key=Finding.sort_key)
    return Report(kept, files=len(all_targets), suppressed=len(findings) - len(kept),
                  notes=notes, names=[t.display for t in all_targets])
