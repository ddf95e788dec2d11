"""Report formats: text, JSON (stable, versioned; schema in ``schemas/report.schema.json``),
JUnit XML, SARIF 2.1.0 and GitHub workflow commands.

Every string in a finding was sanitised when the finding was made (no control
characters); each format escapes what its syntax needs on top of that.
"""

from __future__ import annotations

import json
import platform
from xml.etree import ElementTree as ET

from wellforge import __version__

from .findings import Finding, Severity, format_region
from .registry import LEVELS, REGISTRY

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _environment() -> dict:
    import h5py
    import numpy

    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version}


def to_dict(report, opts) -> dict:
    from .runner import REPORT_SCHEMA_VERSION

    return {
        "wellforge_version": __version__,
        "schema_version": REPORT_SCHEMA_VERSION,
        "levels": [lv for lv in LEVELS if lv <= opts.level],
        "fail_on": opts.fail_on.label,
        "environment": _environment(),
        "summary": report.summary(),
        "findings": [f.to_dict() for f in report.findings],
        **({"notes": _notes(report)} if report.notes else {}),
        # every file validated, with findings or not (JUnit's suites, merged reports)
        **({"validated": list(report.names)} if getattr(report, "names", None) else {}),
        **({"slice": _slice(report)} if getattr(report, "slice", None) else {}),
    }


def _slice(report) -> dict:
    """A slice's part for ``merge-reports``: its index, the run's settings and groups, and
    each file's entry (layout facts, reducer summaries) as plain JSON."""
    from .summaries import encode_value

    return encode_value(report.slice)


def _notes(report) -> list[dict]:
    from .findings import sanitize

    return [{"file": sanitize(n["file"]), "note": sanitize(n["note"], 600)}
            for n in report.notes]


def render_json(report, opts) -> str:
    return json.dumps(to_dict(report, opts), indent=2, sort_keys=False) + "\n"


def render_text(report, opts) -> str:
    lines = []
    for f in report.findings:
        reg = format_region(f.region)
        where = f"{f.file}:{f.object}" + (f" [{reg}]" if reg else "")
        lines.append(f"{where}: {f.code} {f.severity.label}: {f.message}")
        if f.fix:
            lines.append(f"    fix: {f.fix}")
    seen = set()
    notes = _notes(report)
    for n in notes:
        key = n["note"]
        if key in seen:  # the same note for many files of a dataset: once
            continue
        seen.add(key)
        count = sum(1 for m in notes if m["note"] == key)
        lines.append(f"note: {n['note']}" + (f" ({count} files)" if count > 1
                                              else f" ({n['file']})"))
    s = report.summary()
    lines.append(f"{s['files']} file(s): {s['errors']} error(s), {s['warnings']} warning(s), "
                 f"{s['infos']} info(s)"
                 + (f", {s['suppressed']} suppressed" if s["suppressed"] else "")
                 + (" — input refused (exit 3)" if s["refused"] else ""))
    return "\n".join(lines) + "\n"


def render_junit(report, opts) -> str:
    """One <testsuite> per file, one <testcase> per finding (a <failure> when at or above
    --fail-on), and one passing test case for a file without findings (every file
    validated has its suite, with findings or not; dataset-level findings add the suites
    of the files they name, e.g. stats.yaml)."""
    by_file: dict[str, list[Finding]] = {n: [] for n in getattr(report, "names", [])}
    for f in report.findings:
        by_file.setdefault(f.file, []).append(f)
    root = ET.Element("testsuites", name="wellforge validate")
    total = fails = 0
    for file, items in sorted(by_file.items()):
        suite = ET.SubElement(root, "testsuite", name=file)
        nf = 0
        for f in items:
            tc = ET.SubElement(suite, "testcase", classname=file,
                               name=f"{f.code} {f.object} {format_region(f.region)}".strip())
            text = f"{f.message}\nexpected: {f.expected}\nobserved: {f.observed}\nfix: {f.fix}"
            if f.severity >= opts.fail_on or f.refused:
                el = ET.SubElement(tc, "failure", message=f.message, type=f.severity.label)
                el.text = text
                nf += 1
            else:
                ET.SubElement(tc, "system-out").text = f"{f.severity.label}: {text}"
        if not items:
            ET.SubElement(suite, "testcase", classname=file, name="all checks")
        suite.set("tests", str(max(1, len(items))))
        suite.set("failures", str(nf))
        suite.set("errors", "0")
        total += max(1, len(items))
        fails += nf
    if not by_file:
        suite = ET.SubElement(root, "testsuite", name="wellforge validate", tests="1",
                              failures="0", errors="0")
        ET.SubElement(suite, "testcase", classname="wellforge", name="all checks")
        total = 1
    root.set("tests", str(total))
    root.set("failures", str(fails))
    root.set("errors", "0")
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render_sarif(report, opts) -> str:
    rules = sorted(REGISTRY.values(), key=lambda r: r.code)
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for f in report.findings:
        res = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
            "locations": [{
                # a region on every result (GitHub code scanning asks for one): a finding
                # names an HDF5 object, not a line, so line 1 of the file
                "physicalLocation": {"artifactLocation": {"uri": f.file.replace("\\", "/")},
                                     "region": {"startLine": 1}},
                "logicalLocations": [{"fullyQualifiedName": f.object, "kind": "member"}],
            }],
            "partialFingerprints": {"wellforge/v1": f.fingerprint},
            "properties": {"region": f.region, "expected": f.expected,
                           "observed": f.observed},
        }
        results.append(res)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "wellforge",
                "version": __version__,
                "rules": [{
                    "id": r.code,
                    "name": r.name,
                    "shortDescription": {"text": r.summary},
                    "fullDescription": {"text": r.doc or r.summary},
                    "help": {"text": r.fix or r.summary},
                    "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
                    "properties": {"level": r.level, "levelName": LEVELS[r.level]},
                } for r in rules],
            }},
            "results": results,
            "properties": {"summary": report.summary()},
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


_GH_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(report, opts) -> str:
    """GitHub Actions workflow commands: ``::error file=F,title=T::message``."""
    lines = []
    for f in report.findings:
        reg = format_region(f.region)
        title = f"{f.code} {f.object}" + (f" [{reg}]" if reg else "")
        msg = f.message + (f" — fix: {f.fix}" if f.fix else "")
        lines.append(f"::{_GH_LEVEL[f.severity]} file={_gh_prop(f.file)},"
                     f"title={_gh_prop(title)}::{_gh_data(msg)}")
    return "\n".join(lines) + ("\n" if lines else "")


RENDERERS = {"text": render_text, "json": render_json, "junit": render_junit,
             "sarif": render_sarif, "github": render_github}


def render(fmt: str, report, opts) -> str:
    return RENDERERS[fmt](report, opts)
