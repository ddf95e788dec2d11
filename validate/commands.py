"""CLI: ``wellforge validate PATH...`` and ``wellforge rules [CODE]``.

Exit codes of ``validate``: 0 clean, 1 findings at or above ``--fail-on``, 2 usage or
config error, 3 an input refused or unreadable. Never a count, never 0 on failure.
Heavy modules (h5py, numpy, the checks) are imported inside the run functions.
"""

from __future__ import annotations

import argparse
import sys

HELP = {
    "validate": "validate Well files or dataset directories (exit 0 clean, 1 findings, "
                "2 usage, 3 refused input)",
    "rules": "list the validator's rules, or explain one",
    "check-card": "check a system card (YAML), and optionally files against it",
    "merge-reports": "join the JSON reports of the slices of one run (validate --slice I/N) "
                     "and run the dataset checks on them (exit codes as validate's)",
}

FORMATS = ("text", "json", "junit", "sarif", "github")


def add_validate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a .h5/.hdf5 file, or a dataset directory (<name>/data/{train,valid,"
                        "test}, stats.yaml, <name>.yaml), or a directory of files")
    p.add_argument("--format", action="append", choices=FORMATS, metavar="FMT",
                   help="report format: text (default), json, junit, sarif, github; repeat "
                        "for several, each with its own --output")
    p.add_argument("--output", "-o", action="append", metavar="FILE",
                   help="write the report of the matching --format here (default stdout)")
    p.add_argument("--fail-on", choices=("error", "warning"),
                   help="exit 1 when a finding is at or above this severity (default error)")
    p.add_argument("--select", action="append", metavar="CODES",
                   help="only these rule codes or prefixes (e.g. WF1,WF300)")
    p.add_argument("--ignore", action="append", metavar="CODES",
                   help="skip these rule codes or prefixes")
    p.add_argument("--config", metavar="FILE", help="wellforge.toml or .yaml with the same "
                   "keys, per-path ignores (with a reason), severities, limits")
    p.add_argument("--baseline", metavar="FILE", help="a JSON report whose findings are "
                   "grandfathered (matched by fingerprint)")
    p.add_argument("--card", metavar="CARD.yaml", help="the system card to check every file "
                   "against (default: each file's own: @wellforge_system or @dataset_name; "
                   "see 'wellforge check-card')")
    p.add_argument("--level", type=int, metavar="N", choices=range(6),
                   help="run levels 0..N (0 safe open, 1 structure, 2 units and cards, "
                        "3 data sanity, 4 physics, 5 dataset; default 5)")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="files validated in parallel")
    p.add_argument("--timeout", type=float, metavar="S",
                   help="refuse a file whose validation takes longer (seconds; default none)")
    p.add_argument("--cache", metavar="DIR", help="the result cache: a file unchanged since "
                   "a run with the same validator and settings is not read again (default "
                   "$WELLFORGE_CACHE_DIR, else $XDG_CACHE_HOME/wellforge/validate, else "
                   "~/.cache/wellforge/validate)")
    p.add_argument("--no-cache", action="store_true", help="validate every file afresh, "
                   "and store nothing")
    p.add_argument("--slice", metavar="I/N", help="validate only slice I of N (files cut "
                   "by size, the same cut in every task; for a job array): the dataset checks "
                   "wait for 'wellforge merge-reports' of the slices' JSON reports")
    p.add_argument("--changed-only", action="store_true",
                   help="only files changed since --base (git); skips dataset-level checks")
    p.add_argument("--base", default=None, metavar="REF",
                   help="git base for --changed-only (default origin/main)")


def _split_codes(values):
    if not values:
        return None
    return [c for v in values for c in v.replace(",", " ").split() if c]


def run_validate(args) -> int:
    import logging
    import os

    from .config import build_options, load_file
    from .reports import render
    from .runner import validate

    if args.jobs is not None and args.jobs < 1:
        from wellforge.errors import ConfigError

        raise ConfigError("--jobs must be >= 1")
    file_cfg = load_file(args.config) if args.config else None
    cli = {"level": args.level, "jobs": args.jobs, "timeout": args.timeout,
           "fail_on": args.fail_on, "select": _split_codes(args.select),
           "ignore": _split_codes(args.ignore), "baseline": args.baseline,
           "card": args.card,
           "format": args.format, "output": args.output}
    opts, pairs = build_options(cli, file_cfg)
    if not args.no_cache:
        from .cache import default_dir

        opts.cache = args.cache or default_dir()
    only = None
    if args.changed_only:
        from .changes import changed_files

        only = changed_files(args.base or os.environ.get("WELLFORGE_BASE", "origin/main"))
        logging.getLogger("wellforge.validate").info(
            "--changed-only: %d changed file(s); dataset-level checks (L5) skipped", len(only))
    part = None
    if args.slice:
        from .slices import parse

        part = parse(args.slice)
    report = validate(args.paths, opts, only=only, dataset_checks=not args.changed_only,
                      part=part)
    for fmt, out in pairs:
        text = render(fmt, report, opts)
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            with open(out, "w") as fh:
                fh.write(text)
    return report.exit_code(opts.fail_on)


def add_merge_reports_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("reports", nargs="+", metavar="REPORT.json",
                   help="the JSON reports of every slice of one run (validate --slice I/N "
                        "--format json)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="format of the joined report (default text)")
    p.add_argument("--output", "-o", metavar="FILE", help="write it here (default stdout)")
    p.add_argument("--fail-on", choices=("error", "warning"),
                   help="exit 1 at or above this severity (default: the run's)")


def run_merge_reports(args) -> int:
    from .findings import Severity
    from .merge import merge
    from .reports import render

    report, opts = merge(args.reports)
    if args.fail_on:
        opts.fail_on = Severity.parse(args.fail_on)
    text = render(args.format, report, opts)
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return report.exit_code(opts.fail_on)


def add_rules_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("code", nargs="?", help="a rule code (WF112) or prefix (WF1)")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")


def run_rules(args) -> int:
    import json

    from wellforge.errors import ConfigError

    from .checks import load_all
    from .registry import LEVELS

    rules = load_all()
    chosen = sorted(rules.values(), key=lambda r: r.code)
    if args.code:
        code = args.code.strip().upper()
        chosen = [r for r in chosen if r.code.startswith(code)]
        if not chosen:
            raise ConfigError(f"unknown rule code or prefix {args.code!r} "
                              "(see 'wellforge rules')")
    if args.format == "json":
        sys.stdout.write(json.dumps([{
            "code": r.code, "name": r.name, "level": r.level, "level_name": LEVELS[r.level],
            "severity": r.severity.label, "severities": [v.label for v in r.severities],
            "severity_text": r.severity_text, "scope": r.scope, "refuses": r.refuses,
            "summary": r.summary, "doc": r.doc, "fix": r.fix} for r in chosen], indent=2) + "\n")
        return 0
    if args.format == "markdown":
        lines = ["| code | level | severity | rule |", "|---|---|---|---|"]
        lines += [f"| `{r.code}` | L{r.level} {LEVELS[r.level]} | {r.severity_text} | "
                  f"{r.summary.replace('|', chr(92) + '|')} |" for r in chosen]
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    if args.code and len(chosen) == 1:
        r = chosen[0]
        sys.stdout.write(
            f"{r.code} {r.name}\n"
            f"level {r.level} ({LEVELS[r.level]}), severity {r.severity_text}"
            + (", refuses the file (exit 3)" if r.refuses else "") + "\n\n"
            f"{r.doc}\n" + (f"\nFix: {r.fix}\n" if r.fix else ""))
        return 0
    for r in chosen:
        sys.stdout.write(f"{r.code}  L{r.level}  {r.severity.label:<7}  {r.summary}\n")
    return 0


def add_check_card_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("card", metavar="CARD.yaml", help="a system card (see 'Writing a card' in "
                   "validate/README.md)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or dataset directories to "
                   "validate against the card (L0-L4)")
    p.add_argument("--level", type=int, default=4, choices=range(6), metavar="N",
                   help="levels to run on the files (default 4: up to the physics checks)")
    p.add_argument("--format", choices=FORMATS, default="text", help="report format for the "
                   "files (default text)")


def run_check_card(args) -> int:
    """Exit 0: the card is valid, has no warnings and the files (if any) pass; 1: card
    warnings or findings; 2: the card is invalid (one line on stderr); 3: a file refused."""
    from .cards import lint, load_card_file

    card = load_card_file(args.card)  # ConfigError: exit 2
    c = card.card
    out = [f"{args.card}: card {c.name!r} — {c.title}"]
    out.append("  fields: " + ", ".join(f"{f.name} (t{f.order}, {f.units!r})" for f in c.fields))
    out.append("  parameters: " + (", ".join(f"{p.name} ({p.units!r})" for p in c.parameters)
                                   or "none"))
    for a in c.axes:
        bounds = "unknown" if a.name in card.unknown_bounds else f"[{a.bounds[0]:g}, " \
            f"{a.bounds[1]:g}]"
        vals = "".join(f", {k} = {v[0]:g} / {v[1]:g}" for k, v in a.bc_values.items())
        out.append(f"  axis {a.name}: {a.kind} on {bounds} ({a.units!r}), {a.bc}"
                   + (f" {a.bc_variant}" if a.bc_variant else "") + vals)
    for v in c.invariants:
        out.append(f"  invariant {v.kind} {v.field}"
                   + (f" = {v.equals}" if getattr(v, "equals", None) else "")
                   + f" (tolerance {v.tolerance:g}"
                   + (f", bounds {list(v.bounds)}" if v.bounds is not None else "") + ")")
    problems = lint(card)
    out += [f"{lvl}: {msg}" for lvl, msg in problems]
    warned = any(lvl == "warning" for lvl, _ in problems)
    if not args.paths:
        out.append("card OK" + (" (with warnings)" if warned else ""))
        sys.stdout.write("\n".join(out) + "\n")
        return 1 if warned else 0
    from .context import Options
    from .reports import render
    from .runner import validate

    sys.stderr.write("\n".join(out) + "\n")
    opts = Options(level=args.level, card=card)
    report = validate(args.paths, opts)
    sys.stdout.write(render(args.format, report, opts))
    rc = report.exit_code(opts.fail_on)
    return rc if rc else (1 if warned else 0)
