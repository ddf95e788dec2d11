"""Orchestration: find the files, validate each in an isolated child process (L0-L4,
one streaming pass), then each dataset (L5); filter the findings (select/ignore,
per-path ignores, baseline) and decide the exit code.

Files are validated in a pool of forked worker processes (``validate.pool``): a crash
of the HDF5 library on a malformed file, a hang (with ``timeout``) or a file that needs
more than the memory bound becomes a WF001 refusal of that file instead of taking the
run down. ``jobs`` workers run at once.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import logging
import os
from dataclasses import dataclass, field

from wellforge.schema.spec import SPLITS

from wellforge.errors import ConfigError

from .checks import load_all
from .context import DatasetContext, FileContext, Options
from .attrs import one_file
from .findings import Finding, Issue, Severity
from .pool import default_memory, run_pool
from .remote import is_url
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
    #: a slice of a run (``--slice``): index, count, groups and each file's entry for
    #: the dataset checks that ``merge-reports`` runs; None for a whole run
    slice: dict | None = None
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


def _url_group(url: str) -> Group:
    """One remote file (``validate.remote``); its split from ``.../data/<split>/<file>``."""
    if not url.lower().endswith((".h5", ".hdf5")):
        raise ConfigError(f"{url}: a URL must name one .h5/.hdf5 file (directories are "
                          "read from a local or mounted path)")
    parts = url.split("?")[0].rstrip("/").split("/")
    split = parts[-2] if len(parts) > 3 and parts[-2] in SPLITS and parts[-3] == "data" \
        else None
    root = "/".join(parts[:-3] if split else parts[:-1])
    logical = "/".join(parts[-3:]) if split else parts[-1]
    return Group(root, url, False, [Target(url, url, logical, root, split)])


def discover(paths: list[str], only: set[str] | None = None) -> list[Group]:
    """Groups of files to validate; a path that does not exist is a usage error."""
    groups = []
    for p in paths:
        if is_url(p):
            groups.append(_url_group(p))
            continue
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
    with one_file():  # each attribute read from HDF5 once
        return _validate_file(t, opts, dataset_needs, rules, ctx, out)


def _validate_file(t: Target, opts: Options, dataset_needs: tuple[str, ...],
                   rules: list[Rule], ctx: FileContext, out: dict) -> dict:
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

    source, why = _source(t, opts)
    if why is None:
        try:
            ctx.h5 = open_file(source, opts.limits)
        except Exception as e:  # noqa: BLE001 - truncated, corrupt, not HDF5
            why = f"cannot open as HDF5: {first_line(e)}"
    if why is None:
        try:
            ctx.inventory = walk(ctx.h5, opts.limits,
                                 None if source is t.path else source.size)
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
        if source is not None and source is not t.path:
            ctx.note(f"read {source.bytes_read} of the file's {source.size} bytes over "
                     "the network")
            source.close()


def _source(t: Target, opts: Options):
    """What h5py opens (the path, or a file object for a URL: ``validate.remote``) and
    why it cannot be HDF5 (None when it may be), before any HDF5 call."""
    if not is_url(t.path):
        return t.path, preflight(t.path)
    from .remote import open_url
    from .remote import preflight as remote_preflight

    try:
        fh = open_url(t.path, opts.level)
        return fh, remote_preflight(fh)
    except OSError as e:
        return None, f"cannot read: {e}"


def _work(t: Target, needs: tuple[str, ...], opts: Options) -> dict:
    """``validate_file`` in a worker: what escapes the checks becomes an internal finding
    (a MemoryError goes up to the pool, which refuses the file)."""
    try:
        return validate_file(t, opts, needs)
    except MemoryError:
        raise
    except BaseException as e:  # noqa: BLE001
        return {"findings": [_internal(f"validator failed: {type(e).__name__}: {e}", opts,
                                       t.display, t.logical)],
                "facts": None, "summary": {}, "refused": False, "notes": []}


def _refused_result(t: Target, opts: Options, msg: str, lost: bool = False) -> dict:
    f = _finding(REGISTRY["WF001"], Issue("/", msg), opts, t.display, t.logical)
    return {"findings": [f], "facts": None, "summary": {}, "refused": True, "lost": lost}


def run_files(targets: list[Target], opts: Options, needs: list[tuple[str, ...]]
              ) -> list[dict]:
    """Validate files (``needs[i]``: reducers the dataset checks want from file i), in a
    pool of ``opts.jobs`` worker processes (``validate.pool``) unless ``opts.isolate`` is
    off."""
    if not opts.isolate:
        return [validate_file(t, opts, n) for t, n in zip(targets, needs)]
    if not targets:
        return []
    _warm(opts, len(targets))
    jobs = max(1, min(opts.jobs, len(targets)))
    memory = opts.limits.memory_bytes or default_memory(jobs)
    return run_pool(functools.partial(_work, opts=opts), list(zip(targets, needs)),
                    lambda i, why: _refused_result(targets[i], opts, why + "; refused", True),
                    jobs=jobs, timeout=opts.timeout, memory_bytes=memory)


def _cached_run_files(targets: list[Target], opts: Options, needs: list[tuple[str, ...]]
                      ) -> list[dict]:
    """``run_files`` for the files the result cache (``opts.cache``) does not hold."""
    if not opts.cache:
        return run_files(targets, opts, needs)
    from .cache import ResultCache, run_key

    cache = ResultCache(opts.cache, run_key(opts, selected_rules(opts, "file")))
    keys = [cache.key(t, n) for t, n in zip(targets, needs)]
    results: list[dict | None] = [cache.get(k) for k in keys]
    todo = [i for i, r in enumerate(results) if r is None]
    fresh = run_files([targets[i] for i in todo], opts, [needs[i] for i in todo])
    for i, res in zip(todo, fresh):
        results[i] = res
        cache.put(keys[i], res)
    logging.getLogger("wellforge.validate").debug(
        "result cache %s: %d of %d file(s) unchanged", opts.cache, cache.hits, len(targets))
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


def _prepare(opts: Options) -> None:
    """Load the --card (a bad card is a usage error, exit 2)."""
    if opts.level < 2:
        return
    from .cards import Card, load_card_file

    if opts.card is not None and not isinstance(opts.card, Card):
        opts.card = load_card_file(str(opts.card))


def _warm(opts: Options, n_files: int) -> None:
    """Before the workers fork, for runs of several files: load the system cards (the
    shipped YAML cards need pint, ~0.3 s to import), once in the parent rather than once
    per worker."""
    if opts.level >= 2 and n_files > 1:
        from .cards import preload

        preload()


def dataset_findings(group: dict, files: list[dict], opts: Options,
                     rules: list[Rule], notes: list[dict]) -> list[Finding]:
    """The dataset checks (L5) of one group (``root``, ``display``, ``dataset_dir``) from
    its files' entries (path, display, logical, split, facts, summary, refused): the
    file results of this run, or of the slices ``merge-reports`` joins. The checks'
    notes are added to ``notes``."""
    ds = DatasetContext(group["root"], group["display"], opts, files, group["dataset_dir"])
    out = []
    for r in rules:
        issues, err = run_check(r, ds)
        for where, issue in issues:
            if isinstance(where, dict):
                file, logical = where["display"], where["logical"]
            elif isinstance(where, str):
                file, logical = os.path.join(group["display"], where), where
            else:
                file, logical = group["display"], "."
            out.append(_finding(r, issue, opts, file, logical))
        if err:
            out.append(_internal(err, opts, group["display"], "."))
    notes += [{"file": group["display"], "note": n} for n in ds.notes]
    return out


def finish(findings: list[Finding], opts: Options, files: int, notes: list[dict],
           **extra) -> Report:
    """The report: findings filtered (baseline, per-path ignores) and sorted."""
    kept = [f for f in findings if not _suppressed(f, opts)]
    kept.sort(key=Finding.sort_key)
    return Report(kept, files=files, suppressed=len(findings) - len(kept), notes=notes,
                  **extra)


def validate(paths: list[str], opts: Options, *, only: set[str] | None = None,
             dataset_checks: bool = True, part: tuple[int, int] | None = None) -> Report:
    """Validate files and dataset directories; the API behind ``wellforge validate``.

    ``part`` (I, N): only slice I of N (``validate.slices``); the dataset checks are left
    to ``merge-reports``, and the report carries each file's entry for them
    (``Report.slice``)."""
    load_all()
    groups = discover(paths, only)
    _prepare(opts)
    ds_rules = selected_rules(opts, "dataset") if dataset_checks else []
    needs = tuple(sorted({n for r in ds_rules for n in r.needs}))
    all_targets = [t for g in groups for t in g.targets]
    group_of = [gi for gi, g in enumerate(groups) for _ in g.targets]
    # reducers for dataset checks only where dataset checks will run
    per_target = [needs if _dataset_group(g) else () for g in groups for _ in g.targets]
    chosen = list(range(len(all_targets)))
    if part is not None:
        from .slices import assign, options_record

        cut = assign([t.path for t in all_targets], part[1])
        chosen = [i for i in chosen if cut[i] == part[0]]
    results = dict(zip(chosen, _cached_run_files([all_targets[i] for i in chosen], opts,
                                                 [per_target[i] for i in chosen])))
    findings: list[Finding] = [f for i in chosen for f in results[i]["findings"]]
    notes = [{"file": all_targets[i].display, "note": n} for i in chosen
             for n in results[i].get("notes") or []]
    entries = {}
    for i in chosen:
        t, res = all_targets[i], results[i]
        entries[i] = {"path": t.path, "display": t.display, "logical": t.logical,
                      "split": t.split, "facts": res["facts"], "summary": res["summary"],
                      "refused": res["refused"]}
    infos = [{"root": g.root, "display": g.display, "dataset_dir": g.is_dataset_dir,
              "n_files": len(g.targets), "dataset_checks": bool(ds_rules) and
              _dataset_group(g)} for g in groups]
    if part is not None:
        return finish(findings, opts, len(chosen), notes,
                      names=[all_targets[i].display for i in chosen], slice={
            "index": part[0], "count": part[1], "options": options_record(opts),
            "groups": infos,
            "files": [{"index": i, "group": group_of[i], **entries[i]} for i in chosen]})
    for gi, g in enumerate(groups):
        if infos[gi]["dataset_checks"]:
            files = [entries[i] for i in chosen if group_of[i] == gi]
            findings += dataset_findings(infos[gi], files, opts, ds_rules, notes)
    return finish(findings, opts, len(all_targets), notes,
                  names=[t.display for t in all_targets])
