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
import re
from collections.abc import Iterable
from dataclasses import dataclass

from wellforge.errors import ConfigError

from .context import DEFAULT_FILTERS, Limits, Options
from .findings import Severity
from .registry import LEVELS

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


def validate_patterns(patterns: Iterable[str], what: str) -> list[str]:
    """Codes or code prefixes; each must match at least one registered rule."""
    from .checks import load_all  # the checks import numpy: only when a run is configured

    rules = load_all()
    out = []
    for p in patterns:
        p = str(p).strip().upper()
        if not p:
            continue
        if p == "ALL":
            p = "WF"
        if not re.match(r"^WF\d{0,3}$", p) or not any(c.startswith(p) for c in rules):
            raise ConfigError(f"{what}: unknown rule code or prefix {p!r} "
                              f"(see 'wellforge rules')")
        out.append(p)
    return out


@dataclass
class _Sources:
    """The command line and the config file of a run: a setting comes from the command
    line where given there, else from the file (``where`` names it in errors)."""

    cli: dict
    cfg: dict
    where: str

    def pick(self, key: str) -> tuple:
        """(value, where it came from); the value is None where neither gives it."""
        v = self.cli.get(key)
        if v not in (None, []):
            return v, "command line"
        return self.cfg.get(key), self.where

    def path(self, v: str, src: str) -> str:
        """A path from the config file is relative to the file's folder."""
        if src != "command line" and not os.path.isabs(v):
            return os.path.join(self.cfg["_dir"], v)
        return v


def build_options(cli: dict, file_cfg: dict | None = None) -> tuple[Options, list[tuple]]:
    """Options for a run, and the (format, output) pairs of the reports.

    ``cli`` holds the command-line values (None where not given). Each setting is read
    and checked by its own function below, in this order (the first problem is the
    error).
    """
    cfg = dict(file_cfg or {})
    src = _Sources(cli, cfg, f"config file {cfg['_path']}" if "_path" in cfg else "config")
    opts = Options()
    _run_settings(opts, src)
    _rule_settings(opts, src)
    opts.allowed_filters = _allowed_filters(src)
    opts.limits = _limits(src)
    opts.per_path_ignores = _per_path_ignores(src)
    v, where = src.pick("card")
    if v:
        if not isinstance(v, str):
            raise ConfigError(f"{where}: card: expected the path of a YAML card")
        from .cards import load_card_file

        opts.card = load_card_file(src.path(v, where))
    v, where = src.pick("baseline")
    if v:
        opts.baseline = load_baseline(src.path(v, where))
    return opts, _report_pairs(src)


def _run_settings(opts: Options, src: _Sources) -> None:
    """level, jobs, timeout, fail_on."""
    v, where = src.pick("level")
    if v is not None:
        opts.level = _int(v, f"{where}: level", 0)
        if opts.level > max(LEVELS):
            raise ConfigError(f"{where}: level must be between 0 and {max(LEVELS)}, got {v}")
    v, where = src.pick("jobs")
    if v is not None:
        opts.jobs = _int(v, f"{where}: jobs", 1)
    v, where = src.pick("timeout")
    if v is not None:
        try:
            opts.timeout = float(v)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: timeout: expected seconds, got {v!r}") from None
        if opts.timeout < 0:
            raise ConfigError(f"{where}: timeout must be >= 0")
    v, where = src.pick("fail_on")
    if v is not None:
        opts.fail_on = _severity(v, f"{where}: fail_on")
        if opts.fail_on == Severity.INFO:
            raise ConfigError(f"{where}: fail_on must be error or warning")


def _rule_settings(opts: Options, src: _Sources) -> None:
    """select, ignore (codes or prefixes) and severity (a table CODE = severity)."""
    v, where = src.pick("select")
    opts.select = validate_patterns(_list(v, f"{where}: select"), f"{where}: select")
    v, where = src.pick("ignore")
    opts.ignore = validate_patterns(_list(v, f"{where}: ignore"), f"{where}: ignore")
    sev = src.cfg.get("severity") or {}
    if not isinstance(sev, dict):
        raise ConfigError(f"{src.where}: severity: expected a table of CODE = severity")
    for code, s in sev.items():
        validate_patterns([code], f"{src.where}: severity")
        opts.severity[str(code).upper()] = _severity(s, f"{src.where}: severity.{code}")


def _allowed_filters(src: _Sources) -> tuple[int, ...]:
    if "allowed_filters" not in src.cfg:
        return DEFAULT_FILTERS
    what = f"{src.where}: allowed_filters"
    return tuple(_int(x, what, 0) for x in _list(src.cfg["allowed_filters"], what))


def _limits(src: _Sources) -> Limits:
    lim = src.cfg.get("limits") or {}
    if not isinstance(lim, dict):
        raise ConfigError(f"{src.where}: limits: expected a table")
    names = {f.name: f for f in dataclasses.fields(Limits)}
    kw = {}
    for k, x in lim.items():
        k = str(k).replace("-", "_")
        if k not in names:
            raise ConfigError(f"{src.where}: limits: unknown key {k!r} (known: "
                              f"{', '.join(names)})")
        if k == "bomb_ratio":
            try:
                kw[k] = float(x)
            except (TypeError, ValueError):
                raise ConfigError(f"{src.where}: limits.bomb_ratio: expected a number") \
                    from None
        else:
            kw[k] = _int(x, f"{src.where}: limits.{k}",
                         0 if k in ("direct_chunks", "prefetch", "memory_bytes",
                                    "physics_threads") else 1)
    return Limits(**kw)


def _per_path_ignores(src: _Sources) -> list[tuple[str, list[str], str]]:
    """(glob, codes, reason) of each [[per_path_ignores]] table; a reason is required."""
    where = src.where
    ppi = src.cfg.get("per_path_ignores") or []
    if not isinstance(ppi, list):
        raise ConfigError(f"{where}: per_path_ignores: expected a list of tables")
    out = []
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
        out.append((item["path"], codes, reason.strip()))
    return out


def _report_pairs(src: _Sources) -> list[tuple[str, str | None]]:
    """(format, output file or None for stdout) of each report."""
    fmts, _ = src.pick("format")
    outs, _ = src.pick("output")
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
    return pairs
