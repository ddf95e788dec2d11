"""``wellforge merge-reports``: the JSON reports of the slices of one run (``validate
--slice I/N``) joined into the report of the whole run.

The file findings come from the slices as they are (already filtered by each slice's
baseline and per-path ignores). The dataset checks (L5) run here, once per dataset, from
the entry each slice left for each of its files (layout facts; content hashes, moments
and frame RMS from the streaming pass): no data file is read again. What the dataset
checks read besides is small: ``stats.yaml``, ``<name>.yaml``, the split directories,
and for WF530 the metadata (not the data) of the valid split's files.

Every slice 1..N of one run must be given once, made by the same wellforge with the same
settings, on the same tree; anything else is a usage error (exit 2). Reports of whole
runs (no ``--slice``) are joined by concatenating their findings.
"""

from __future__ import annotations

import json

from wellforge.errors import ConfigError

from .context import Options
from .findings import Finding, Severity
from .registry import REGISTRY
from .runner import Report, dataset_findings, finish, selected_rules
from .slices import options_from_record
from .summaries import decode_value


def _load(path: str) -> dict:
    try:
        with open(path) as fh:
            doc = json.load(fh)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    except ValueError as e:
        raise ConfigError(f"{path}: not a JSON report ({str(e).splitlines()[0]}); make it "
                          "with 'wellforge validate --format json'") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list) \
            or "summary" not in doc:
        raise ConfigError(f"{path}: not a wellforge JSON report (no findings and summary)")
    return doc


def _findings(doc: dict, path: str) -> list[Finding]:
    out = []
    try:
        for d in doc["findings"]:
            f = Finding.from_dict(d)
            rule = REGISTRY.get(f.code)
            f.refused = bool(rule is not None and rule.refuses)
            out.append(f)
    except (TypeError, ValueError, KeyError) as e:
        raise ConfigError(f"{path}: a finding that is not wellforge's ({e})") from None
    return out


def _check_slices(docs: list[tuple[str, dict]]) -> int:
    """The slice count; a ConfigError unless every slice 1..N of one run is here once."""
    first_path, first = docs[0]
    n = first["slice"]["count"]
    seen: dict[int, str] = {}
    for path, doc in docs:
        s = doc["slice"]
        if s["count"] != n:
            raise ConfigError(f"{path}: slice {s['index']}/{s['count']}, but {first_path} is "
                              f"a slice of {n}")
        for key, what in (("options", "settings"), ("groups", "files or directories")):
            if s[key] != first["slice"][key]:
                raise ConfigError(f"{path}: another run than {first_path} (its {what} "
                                  "differ); merge the slices of one run")
        if doc.get("wellforge_version") != first.get("wellforge_version"):
            raise ConfigError(f"{path}: made by wellforge {doc.get('wellforge_version')}, "
                              f"{first_path} by {first.get('wellforge_version')}")
        if s["index"] in seen:
            raise ConfigError(f"{path}: slice {s['index']}/{n} given twice (also "
                              f"{seen[s['index']]})")
        seen[s["index"]] = path
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        raise ConfigError(f"slice(s) {', '.join(f'{i}/{n}' for i in missing)} missing: give "
                          "the report of every slice of the run")
    return n


def _names(docs) -> list[str]:
    """The files the reports validated (their ``validated`` lists), once each, in order."""
    seen: dict[str, None] = {}
    for _, d in docs:
        for n in d.get("validated") or []:
            if isinstance(n, str):
                seen.setdefault(n, None)
    return list(seen)


def merge(paths: list[str]) -> tuple[Report, Options]:
    """The report of the whole run, and the run's options (for rendering, exit code)."""
    docs = [(p, _load(p)) for p in paths]
    sliced = [isinstance(d.get("slice"), dict) for _, d in docs]
    findings = [f for p, d in docs for f in _findings(d, p)]
    notes = [n for _, d in docs for n in d.get("notes") or [] if isinstance(n, dict)]
    files = sum(int(d["summary"].get("files", 0)) for _, d in docs)
    suppressed = sum(int(d["summary"].get("suppressed", 0)) for _, d in docs)
    if not any(sliced):
        fail_on = min(Severity.parse(d.get("fail_on", "error")) for _, d in docs)
        level = max(max(d.get("levels") or [5]) for _, d in docs)
        rep = Report(sorted(findings, key=Finding.sort_key), files, suppressed, notes,
                     names=_names(docs))
        return rep, Options(level=level, fail_on=fail_on)
    if not all(sliced):
        bad = next(p for (p, _), s in zip(docs, sliced) if not s)
        raise ConfigError(f"{bad}: not the report of a slice (--slice I/N), unlike the others")
    _check_slices(docs)
    s0 = docs[0][1]["slice"]
    try:
        opts = options_from_record(s0["options"])
        entries = sorted((decode_value(f) for _, d in docs for f in d["slice"]["files"]),
                         key=lambda f: f["index"])
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"{docs[0][0]}: a damaged slice section ({e})") from None
    ds_rules = selected_rules(opts, "dataset")
    for gi, g in enumerate(s0["groups"]):
        mine = [f for f in entries if f["group"] == gi]
        if len(mine) != g["n_files"]:
            raise ConfigError(f"{g['display']}: {len(mine)} of its {g['n_files']} files are in "
                              "these slices: was the tree changed between slices?")
        if g["dataset_checks"]:
            findings += dataset_findings(g, mine, opts, ds_rules, notes)
    order = {f["display"]: f["index"] for f in entries}  # notes in the run's file order
    notes.sort(key=lambda n: order.get(n.get("file"), len(order)))
    rep = finish(findings, opts, files, notes, names=[f["display"] for f in entries])
    rep.suppressed += suppressed
    return rep, opts
