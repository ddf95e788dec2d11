"""Configuration of ``wellforge validate``: a ``wellforge.toml`` / ``.yaml`` file with the
same keys as the command line, merged with the command line (which wins), plus
per-path ignores (each with a reason) and a baseline of grandfathered fingerprints.

Example ``wellforge.toml``::

    [validate]
    level = 5
    fail_on = "error"
    select = ["WF"]
    ignore = ["WF121"]
    card = "cards/my_dataset.yaml"          # check every file against this system card
    severity = { WF301 = "error" }          # reclassify a rule
    allowed_filters = [1, 2, 32000]
    baseline = "validate-baseline.json"

    [validate.limits]
    block_bytes = 33554432

    [[validate.per_path_ignores]]
    path = "data/train/*_Rayleigh_1e10_*.hdf5"
    codes = ["WF303"]
    reason = "plumes at Ra=1e10 make frame means jump; checked by hand"

Every problem in a config (unknown key, wrong type, unknown rule code, missing
reason) is a ``ConfigError``: one line, exit 2.
"""

from __future__ import annotations

import dataclasses
import json
import os

from wellforge.errors import ConfigError

from .context import DEFAULT_FILTERS, Limits, Options
from .findings import Severity
from .registry import LEVELS, validate_patterns

FORMATS = ("text", "json", "junit", "sarif", "github")
KEYS = {"select", "ignore", "fail_on", "level", "jobs", "timeout", "format", "output",
        "baseline", "severity", "allowed_filters", "limits", "per_path_ignores", "card"}


def load_file(path: str) -> dict:
    """The validate settings of a config file (top level, [validate] or
    [tool.wellforge.validate])."""
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path} does not exist")
    try:
        if path.endswith(".toml"):
            import tomllib

            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        elif path.endswith((".yaml", ".yml")):
            import yaml

            with open(path) as fh:
                data = yaml.safe_load(fh) or {}
        else:
            raise ConfigError(f"config file {path}: expected a .toml, .yaml or .yml file")
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - TOMLDecodeError, YAMLError, OSError
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"config file {path}: cannot parse: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a table/mapping at the top")
    if isinstance(data.get("tool"), dict):
        data = data["tool"].get("wellforge", {}) or {}
    if isinstance(data.get("validate"), dict):
        data = data["validate"]
    data = {str(k).replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(KEYS))})")
    data["_dir"] = os.path.dirname(os.path.abspath(path))
    data["_path"] = path
    return data


def _list(v, what) -> list:
    if v is None:
        return []
    if isinstance(v, str):
        return [x for x in v.replace(",", " ").split() if x]
    if isinstance(v, (list, tuple)):
        return list(v)
    raise ConfigError(f"{what}: expected a list, got {type(v).__name__}")


def _int(v, what, lo=None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        try:
            if isinstance(v, str) and v.strip().lstrip("-").isdigit():
                v = int(v)
            else:
                raise ValueError
        except ValueError:
            raise ConfigError(f"{what}: expected an integer, got {v!r}") from None
    if lo is not None and v < lo:
        raise ConfigError(f"{what}: must be >= {lo}, got {v}")
    return v


def _severity(v, what) -> Severity:
    try:
        return Severity.parse(v)
    except ValueError as e:
        raise ConfigError(f"{what}: {e}") from None


def load_baseline(path: str) -> set[str]:
    """Fingerprints from a JSON report (or a JSON list of fingerprints)."""
    if not os.path.isfile(path):
        raise ConfigError(f"baseline file {path} does not exist")
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, ValueError) as e:
        raise ConfigError(f"baseline file {path}: not valid JSON ({str(e).splitlines()[0]})") \
            from None
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        items = [f.get("fingerprint") for f in data["findings"] if isinstance(f, dict)]
    elif isinstance(data, list):
        items = data
    else:
        raise ConfigError(f"baseline file {path}: expected a wellforge JSON report or a list "
                          "of fingerprints")
    if not all(isinstance(x, str) for x in items):
        raise ConfigError(f"baseline file {path}: fingerprints must be strings")
    return set(items)


def build_options(cli: dict, file_cfg: dict | None = None) -> tuple[Options, list[tuple]]:
    """Options for a run, and the (format, output) pairs of the reports.

    ``cli`` holds the command-line values (None where not given).
    """
    cfg = dict(file_cfg or {})
    where = f"config file {cfg['_path']}" if "_path" in cfg else "config"

    def pick(key):
        v = cli.get(key)
        if v not in (None, []):
            return v, "command line"
        return cfg.get(key), where

    opts = Options()
    v, src = pick("level")
    if v is not None:
        opts.level = _int(v, f"{src}: level", 0)
        if opts.level > max(LEVELS):
            raise ConfigError(f"{src}: level must be between 0 and {max(LEVELS)}, got {v}")
    v, src = pick("jobs")
    if v is not None:
        opts.jobs = _int(v, f"{src}: jobs", 1)
    v, src = pick("timeout")
    if v is not None:
        try:
            opts.timeout = float(v)
        except (TypeError, ValueError):
            raise ConfigError(f"{src}: timeout: expected seconds, got {v!r}") from None
        if opts.timeout < 0:
            raise ConfigError(f"{src}: timeout must be >= 0")
    v, src = pick("fail_on")
    if v is not None:
        opts.fail_on = _severity(v, f"{src}: fail_on")
        if opts.fail_on == Severity.INFO:
            raise ConfigError(f"{src}: fail_on must be error or warning")
    v, src = pick("select")
    opts.select = validate_patterns(_list(v, f"{src}: select"), f"{src}: select")
    v, src = pick("ignore")
    opts.ignore = validate_patterns(_list(v, f"{src}: ignore"), f"{src}: ignore")
    sev = cfg.get("severity") or {}
    if not isinstance(sev, dict):
        raise ConfigError(f"{where}: severity: expected a table of CODE = severity")
    for code, s in sev.items():
        validate_patterns([code], f"{where}: severity")
        opts.severity[str(code).upper()] = _severity(s, f"{where}: severity.{code}")
    if "allowed_filters" in cfg:
        opts.allowed_filters = tuple(_int(x, f"{where}: allowed_filters", 0)
                                     for x in _list(cfg["allowed_filters"],
                                                    f"{where}: allowed_filters"))
    else:
        opts.allowed_filters = DEFAULT_FILTERS
    lim = cfg.get("limits") or {}
    if not isinstance(lim, dict):
        raise ConfigError(f"{where}: limits: expected a table")
    names = {f.name: f for f in dataclasses.fields(Limits)}
    kw = {}
    for k, x in lim.items():
        k = str(k).replace("-", "_")
        if k not in names:
            raise ConfigError(f"{where}: limits: unknown key {k!r} (known: "
                              f"{', '.join(names)})")
        if k == "bomb_ratio":
            try:
                kw[k] = float(x)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: limits.bomb_ratio: expected a number") from None
        else:
            kw[k] = _int(x, f"{where}: limits.{k}", 0 if k in ("direct_chunks", "prefetch") else 1)
    opts.limits = Limits(**kw)
    ppi = cfg.get("per_path_ignores") or []
    if not isinstance(ppi, list):
        raise ConfigError(f"{where}: per_path_ignores: expected a list of tables")
    for i, item in enumerate(ppi):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: per_path_ignores[{i}]: expected a table")
        extra = set(item) - {"path", "codes", "reason"}
        if extra:
            raise ConfigError(f"{where}: per_path_ignores[{i}]: unknown key(s) "
                              f"{', '.join(sorted(extra))}")
        if not isinstance(item.get("path"), str) or not item["path"]:
            raise ConfigError(f"{where}: per_path_ignores[{i}]: 'path' (a glob) is required")
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: per_path_ignores[{i}] ({item['path']}): a 'reason' "
                              "is required")
        codes = validate_patterns(_list(item.get("codes", ["WF"]),
                                        f"{where}: per_path_ignores[{i}].codes"),
                                  f"{where}: per_path_ignores[{i}].codes")
        opts.per_path_ignores.append((item["path"], codes, reason.strip()))
    v, src = pick("card")
    if v:
        if not isinstance(v, str):
            raise ConfigError(f"{src}: card: expected the path of a YAML card")
        if src != "command line" and not os.path.isabs(v):
            v = os.path.join(cfg["_dir"], v)
        from .cards import load_card_file

        opts.card = load_card_file(v)
    v, src = pick("baseline")
    if v:
        if src != "command line" and not os.path.isabs(v):
            v = os.path.join(cfg["_dir"], v)
        opts.baseline = load_baseline(v)

    fmts, _ = pick("format")
    outs, _ = pick("output")
    fmts = _list(fmts, "format") or ["text"]
    outs = _list(outs, "output")
    for f in fmts:
        if f not in FORMATS:
            raise ConfigError(f"unknown format {f!r} (choose from {', '.join(FORMATS)})")
    if len(outs) > len(fmts):
        raise ConfigError(f"{len(outs)} --output for {len(fmts)} --format: give one --format "
                          "per --output, in the same order")
    pairs = [(f, outs[i] if i < len(outs) else None) for i, f in enumerate(fmts)]
    if sum(1 for _, o in pairs if o is None) > 1:
        raise ConfigError("only one report can go to stdout: give an --output for the others")
    return opts, pairs
