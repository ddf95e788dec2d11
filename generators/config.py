"""Scenario configs: load, merge (preset < file < --set), validate, expand into runs.

A config (YAML) names a system and its sweep::

    system: rayleigh_benard
    preset: tiny                 # optional base: resolution, time, sweeps of the system
    resolution: [64, 16]         # simulated
    stored_resolution: [64, 16]  # stored (spectral resampling)
    time: {start: 0, dt_out: 0.25, n_frames: 12}   # + spinup: simulated, not stored
    parameters:                  # PDE parameters: one file per combination
      product: {Rayleigh: [1e6, 1e7], Prandtl: [1.0]}
    initial_conditions:          # per-file trajectories
      product: {dT: [1.0], realization: [0, 1, 2]}
    expected_runs: 6             # must equal the expanded count
    splits: {train: 0.8, valid: 0.1, test: 0.1}
    seed: 0
    options: {y_grid: chebyshev}

A sweep is ``{product: {name: [values]}}``, ``{zip: {name: [values]}}``,
``{list: [{name: value}, ...]}``, a random design ``{sample: {method, n, seed, ranges}}``
(``designs``) or a plain mapping (values or lists, taken as a product). ``holdout`` keeps
whole parameter cells out of train (out-of-distribution tests)::

    holdout: {split: test, cells: [{Rayleigh: 1.0e+7, Prandtl: 1.0}]}
    holdout: {split: test, range: {Rayleigh: {low: 5.0e+6}}}
Every problem is reported as a ``ConfigError`` naming the key and the allowed values,
before anything runs.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml
from wellforge.schema.spec import SPLITS

from wellforge import __version__
from wellforge.errors import ConfigError
from wellforge.userfiles import read_yaml

from .run import RunSpec
from .system import System

TOP_KEYS = ("system", "dataset_name", "preset", "resolution", "stored_resolution", "time",
            "parameters", "initial_conditions", "expected_runs", "splits", "seed", "options",
            "well_compat", "ranks_per_run", "holdout")
TIME_KEYS = ("start", "dt_out", "n_frames", "spinup")
DEFAULT_SPLITS = {"train": 0.8, "valid": 0.1, "test": 0.1}
SET_TOP = {"resolution", "stored_resolution", "seed", "dataset_name", "expected_runs",
           "ranks_per_run", "splits"}


def load_yaml(path: str) -> dict:
    data = read_yaml(path, "config")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with at least 'system'")
    return data


def parse_value(text: str) -> Any:
    """A --set value: YAML, with '1e4'-style numbers and comma lists understood."""
    def num(s):
        s = s.strip()
        try:
            v = yaml.safe_load(s)
        except yaml.YAMLError:
            raise ConfigError(f"--set: cannot parse value {s!r}") from None
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                return v
        return v

    if text.startswith("["):
        return [num(s) for s in text.strip("[]").split(",") if s.strip()]
    if "," in text:
        return [num(s) for s in text.split(",")]
    return num(text)


def _as_number(key: str, v, integer=False, positive=False):
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            raise ConfigError(f"{key}: expected a number, given {v!r}") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(f"{key}: expected a finite number, given {v!r}")
    if integer:
        if float(v) != int(v):
            raise ConfigError(f"{key}: expected an integer, given {v!r}")
        v = int(v)
    if positive and v <= 0:
        raise ConfigError(f"{key}: must be > 0, given {v!r}")
    return v


def expand_sweep(key: str, sweep) -> list[dict]:
    """Expand a sweep mapping into a list of {name: value} combinations (ordered)."""
    if sweep is None:
        return [{}]
    if not isinstance(sweep, dict):
        raise ConfigError(f"{key}: expected a mapping (product/zip/list or name: values)")
    forms = [k for k in ("product", "zip", "list", "sample") if k in sweep]
    if len(forms) > 1 or (forms and len(sweep) > 1):
        raise ConfigError(f"{key}: use exactly one of product, zip, list, sample (given "
                          f"{', '.join(sweep)})")
    form = forms[0] if forms else "product"
    body = sweep[form] if forms else sweep
    if form == "sample":
        from .designs import sample

        return sample(key, body)
    if form == "list":
        if not isinstance(body, list) or not all(isinstance(x, dict) for x in body):
            raise ConfigError(f"{key}.list: expected a list of mappings")
        return [dict(x) for x in body]
    if not isinstance(body, dict):
        raise ConfigError(f"{key}.{form}: expected a mapping name: [values]")
    names = list(body)
    values = [v if isinstance(v, list) else [v] for v in body.values()]
    if form == "zip":
        lengths = {len(v) for v in values}
        if len(lengths) > 1:
            raise ConfigError(f"{key}.zip: all lists must have the same length, given "
                              + ", ".join(f"{n}: {len(v)}" for n, v in zip(names, values)))
        return [dict(zip(names, combo)) for combo in zip(*values)]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def fft_friendly(n: int) -> bool:
    for p in (2, 3, 5):
        while n % p == 0 and n > 1:
            n //= p
    return n == 1


def format_value(v: float) -> str:
    """Parameter value as in the Well's file names (1e4, 5e-1, 1e0)."""
    if float(v) == 0:
        return "0"
    m, e = f"{float(v):.6e}".split("e")
    m = m.rstrip("0").rstrip(".")
    return f"{m}e{int(e)}"


@dataclass
class SweepPlan:
    """A sweep resolved into runs: the system, the resolved config, every run."""

    system: System
    config: dict
    runs: list[RunSpec]

    @property
    def dataset_name(self) -> str:
        return self.config["dataset_name"]

    def files(self) -> dict[str, list[RunSpec]]:
        out: dict[str, list[RunSpec]] = {}
        for r in self.runs:
            out.setdefault(r.file_key, []).append(r)
        return out

    def fingerprint(self) -> str:
        """Hash of everything that decides the data (not the scheduling)."""
        keep = {k: v for k, v in self.config.items() if k not in ("ranks_per_run",)}
        return hashlib.sha1(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()


def check_splits(splits) -> dict[str, float]:
    """Split fractions: every split named is >= 0, they add up to 1, at least one is > 0;
    a split left out gets 0 (no trajectories: e.g. ``{train: 1.0}``, or just ``train``, for
    a quick run)."""
    if splits is None:
        return dict(DEFAULT_SPLITS)
    if isinstance(splits, str) and splits in SPLITS:  # --set splits=train
        splits = {splits: 1.0}
    if not isinstance(splits, dict) or not splits or set(splits) - set(SPLITS):
        raise ConfigError(f"splits: expected fractions for some of {', '.join(SPLITS)}, "
                          f"e.g. {{train: 0.8, valid: 0.1, test: 0.1}}; given {splits!r}")
    fr = {k: _as_number(f"splits.{k}", splits.get(k, 0.0)) for k in SPLITS}
    if any(v < 0 for v in fr.values()) or abs(sum(fr.values()) - 1) > 1e-9:
        raise ConfigError(f"splits: fractions must be >= 0 and add up to 1, given "
                          f"{', '.join(f'{k}: {v:g}' for k, v in fr.items())}")
    return fr


def check_holdout(holdout, pcombos: list[dict], param_names: list[str]) -> dict | None:
    """The resolved ``holdout``: {split, cells} with the held-out parameter sets (indices
    into ``pcombos``), or None. Cells are named explicitly or by a parameter range."""
    if holdout is None:
        return None
    if not isinstance(holdout, dict) or set(holdout) - {"split", "cells", "range"} or \
            ("cells" in holdout) == ("range" in holdout):
        raise ConfigError("holdout: expected {split: test|valid, cells: [{name: value}, ...]} "
                          "or {split: ..., range: {name: {low: L, high: H}}}")
    split = holdout.get("split", "test")
    if split not in ("test", "valid"):
        raise ConfigError(f"holdout.split: {split!r} must be test or valid (held out of train)")
    if "cells" in holdout:
        cells = holdout["cells"]
        if not isinstance(cells, list) or not cells or not all(isinstance(c, dict) for c in cells):
            raise ConfigError("holdout.cells: expected a list of parameter sets")
        picked = []
        for c in cells:
            bad = [k for k in c if k not in param_names]
            if bad:
                raise ConfigError(f"holdout.cells: {bad[0]!r} is not a parameter "
                                  f"({', '.join(param_names)})")
            hit = [i for i, pc in enumerate(pcombos)
                   if all(math.isclose(float(pc[k]), float(v), rel_tol=1e-9) for k, v in c.items())]
            if not hit:
                raise ConfigError(f"holdout.cells: {c} is not a parameter set of the sweep")
            picked += hit
    else:
        rng = holdout["range"]
        if not isinstance(rng, dict) or not rng:
            raise ConfigError("holdout.range: expected name: {low: L, high: H}")
        for k, r in rng.items():
            if k not in param_names or not isinstance(r, dict) or not r or \
                    set(r) - {"low", "high"}:
                raise ConfigError(f"holdout.range.{k}: expected a parameter with "
                                  "{low: L} and/or {high: H}")
        picked = [i for i, pc in enumerate(pcombos)
                  if all(float(r.get("low", -math.inf)) <= float(pc[k]) <= float(
                      r.get("high", math.inf)) for k, r in rng.items())]
        if not picked:
            raise ConfigError(f"holdout.range: no parameter set of the sweep is in {rng}")
    picked = sorted(set(picked))
    if len(picked) == len(pcombos):
        raise ConfigError("holdout: every parameter set would be held out; train would be "
                          "empty")
    return {"split": split, "cells": [pcombos[i] for i in picked], "indices": picked}


def assign_splits(n: int, fr: dict[str, float], rng) -> list[str]:
    """Split of each of ``n`` trajectories of one file, as the Well does it: a random
    ``valid`` and ``test`` share (at least one each when its fraction is > 0 and there are
    enough trajectories), the rest ``train``."""
    order = rng.permutation(n)
    n_valid = max(1, round(fr["valid"] * n)) if fr["valid"] > 0 else 0
    n_test = max(1, round(fr["test"] * n)) if fr["test"] > 0 else 0
    if fr["train"] <= 0:  # no train share: valid and test take everything
        n_test = n - n_valid
    while fr["train"] > 0 and n_valid + n_test > n - 1:  # keep a train trajectory
        if n_valid >= n_test:
            n_valid -= 1
        else:
            n_test -= 1
    out = [""] * n
    for rank, i in enumerate(order):
        out[i] = ("valid" if rank < n_valid else "test" if rank < n_valid + n_test
                  else "train")
    return out


def merge_config(system: System, preset: str | None, file_cfg: dict | None,
                 sets: list[str] | None) -> dict:
    """preset < config file < --set overrides."""
    file_cfg = dict(file_cfg or {})
    unknown = [k for k in file_cfg if k not in TOP_KEYS]
    if unknown:
        raise ConfigError(f"unknown config key {unknown[0]!r}; allowed: {', '.join(TOP_KEYS)}")
    preset = file_cfg.get("preset", preset)
    cfg: dict = {}
    if preset is not None:
        if preset not in system.presets:
            raise ConfigError(f"preset {preset!r} not defined for {system.name}; available: "
                              f"{', '.join(system.presets)}")
        cfg = copy.deepcopy(system.presets[preset])
        if "expected_runs" in cfg and file_cfg.keys() & {"parameters", "initial_conditions"}:
            cfg.pop("expected_runs")
    cfg.update(file_cfg)
    cfg["system"] = system.name
    cfg["preset"] = preset
    overrides = {}
    for item in sets or []:
        name, eq, text = item.partition("=")
        if not eq or not name:
            raise ConfigError(f"--set {item!r}: expected name=value")
        overrides[name.strip()] = parse_value(text)
    param_names = [p.name for p in system.card.parameters]
    ic_names = [p.name for p in system.ic_params] + ["realization"]
    cfg.setdefault("options", {})
    cfg["options"] = dict(cfg["options"] or {})
    for name, value in overrides.items():
        if name in param_names or name in ic_names:
            key = "parameters" if name in param_names else "initial_conditions"
            combos = expand_sweep(key, cfg.get(key))
            vals = value if isinstance(value, list) else [value]
            new = []
            for c in combos:
                for v in vals:
                    d = {**c, name: v}
                    if d not in new:
                        new.append(d)
            cfg[key] = {"list": new}
            cfg.pop("expected_runs", None)
        elif name in TIME_KEYS:
            cfg.setdefault("time", {})
            cfg["time"] = {**cfg["time"], name: value}
        elif name in SET_TOP:
            cfg[name] = value
        elif name in system.options:
            cfg["options"][name] = value
        else:
            allowed = param_names + ic_names + list(TIME_KEYS) + sorted(SET_TOP) + list(
                system.options)
            raise ConfigError(f"--set {name}: unknown name; allowed: {', '.join(allowed)}")
    return cfg


def _check_resolution(system: System, key: str, res, axes_kinds: list[str]) -> tuple[int, ...]:
    if not isinstance(res, (list, tuple)) or len(res) != len(axes_kinds):
        raise ConfigError(f"{key}: expected {len(axes_kinds)} sizes "
                          f"({', '.join(a.name for a in system.card.axes)}), given {res!r}")
    out = []
    for a, n in zip(system.card.axes, res):
        n = _as_number(f"{key}.{a.name}", n, integer=True, positive=True)
        if n < 4 or n % 2 or not fft_friendly(n):
            raise ConfigError(f"{key}.{a.name}: {n} is not FFT-friendly; use an even size "
                              f">= 4 of the form 2^a 3^b 5^c (e.g. 64, 96, 128)")
        out.append(n)
    return tuple(out)


def _check_named(key: str, combo: dict, allowed: dict) -> None:
    """Check names, choices and ranges of one parameter combination."""
    for name, value in combo.items():
        if name not in allowed:
            raise ConfigError(f"{key}: unknown parameter {name!r}; allowed: "
                              f"{', '.join(allowed)}")
        low, high, choices = allowed[name]
        if choices is not None:
            if value not in choices:
                raise ConfigError(f"{key}.{name}: {value!r} is not one of "
                                  f"{', '.join(map(str, choices))}")
            continue
        if value is None:
            continue
        v = _as_number(f"{key}.{name}", value)
        if (low is not None and v < low) or (high is not None and v > high):
            lo, hi = ("-inf" if low is None else f"{low:g}"), ("inf" if high is None
                                                              else f"{high:g}")
            raise ConfigError(f"{key}.{name}: {v:g} is out of range [{lo}, {hi}]")
        combo[name] = v


def _check_time(time) -> dict:
    """The resolved ``time`` mapping (start, dt_out, n_frames[, spinup])."""
    if not isinstance(time, dict):
        raise ConfigError("time: expected a mapping with dt_out and n_frames")
    bad = [k for k in time if k not in TIME_KEYS]
    if bad:
        raise ConfigError(f"time.{bad[0]}: unknown key; allowed: {', '.join(TIME_KEYS)}")
    if "dt_out" not in time or "n_frames" not in time:
        raise ConfigError("time: needs dt_out and n_frames")
    t_start = _as_number("time.start", time.get("start", 0.0))
    dt_out = _as_number("time.dt_out", time["dt_out"], positive=True)
    n_frames = _as_number("time.n_frames", time["n_frames"], integer=True, positive=True)
    if n_frames < 2:
        raise ConfigError(f"time.n_frames: need at least 2 frames, given {n_frames}")
    spinup = _as_number("time.spinup", time.get("spinup", 0.0))
    if spinup < 0:
        raise ConfigError(f"time.spinup: must be >= 0 (simulated time before the first "
                          f"stored frame), given {spinup:g}")
    return {"start": t_start, "dt_out": dt_out, "n_frames": n_frames,
            **({"spinup": spinup} if spinup else {})}


def _check_options(system: System, given) -> dict:
    options = dict(system.options)
    for k, v in (given or {}).items():
        if k not in system.options:
            raise ConfigError(f"options.{k}: unknown option; allowed: "
                              f"{', '.join(system.options) or 'none'}")
        options[k] = v
    for k, allowed in system.option_choices.items():
        if options.get(k) not in allowed:
            raise ConfigError(f"options.{k}: {options.get(k)!r} is not one of "
                              f"{', '.join(map(str, allowed))}")
    return options


def _check_sweeps(system: System, cfg: dict, fr: dict) -> tuple[list[dict], list[dict]]:
    """(parameter sets, in the card's parameter order; initial conditions), checked."""
    p_allowed = {p.name: (p.low, p.high, None) for p in system.card.parameters}
    ic_allowed = {p.name: (p.low, p.high, p.choices) for p in system.ic_params}
    ic_allowed["realization"] = (0, None, None)
    pcombos = expand_sweep("parameters", cfg["parameters"])
    iccombos = expand_sweep("initial_conditions", cfg.get("initial_conditions"))
    for i, c in enumerate(pcombos):
        _check_named("parameters", c, p_allowed)
        missing = [n for n in p_allowed if n not in c]
        if missing:
            raise ConfigError(f"parameters: missing {', '.join(missing)}")
        system.check_parameters(c)
        pcombos[i] = {n: c[n] for n in p_allowed}  # the card's order, wherever it came from
    for c in iccombos:
        _check_named("initial_conditions", c, ic_allowed)
    n_runs = len(pcombos) * len(iccombos)
    if "expected_runs" in cfg and cfg["expected_runs"] is not None:
        exp = _as_number("expected_runs", cfg["expected_runs"], integer=True)
        if exp != n_runs:
            raise ConfigError(f"expected_runs: the sweep expands to {n_runs} runs "
                              f"({len(pcombos)} parameter sets × {len(iccombos)} initial "
                              f"conditions), not {exp}")
    used = [k for k in SPLITS if fr[k] > 0]
    if len(iccombos) < len(used):
        raise ConfigError(f"initial_conditions: {len(iccombos)} per parameter set; need >= "
                          f"{len(used)} so that {', '.join(used)} each get one (add initial "
                          "conditions, e.g. --set realization=0,1,2, or give fewer splits, "
                          "e.g. splits: {train: 1.0} for a one-split dataset)")
    return pcombos, iccombos


def _expand_runs(system: System, resolved: dict, pcombos: list[dict], iccombos: list[dict],
                 names: dict) -> list[RunSpec]:
    """The runs, in a stable order: parameter set by parameter set, each set's initial
    conditions in turn. A run's seed comes from its index (one root ``SeedSequence``),
    its id from everything that decides its data."""
    name, seed, fr, time = (resolved["dataset_name"], resolved["seed"], resolved["splits"],
                            resolved["time"])
    res, stored = tuple(resolved["resolution"]), tuple(resolved["stored_resolution"])
    root = np.random.SeedSequence(seed)
    ic_defaults = {p.name: p.default for p in system.ic_params if p.default is not None}
    ident_keys = ("system", "dataset_name", "resolution", "stored_resolution", "time",
                  "options", "wellforge_version")
    held = resolved.get("holdout", {}).get("cells", [])
    runs = []
    for pi, pc in enumerate(pcombos):
        file_key = name + "".join(f"_{names.get(k, k)}_{format_value(v)}"
                                  for k, v in pc.items())
        split_of = assign_splits(len(iccombos), fr, np.random.default_rng([seed, pi]))
        if pc in held:  # a held-out cell: every trajectory in the hold-out split
            split_of = [resolved["holdout"]["split"]] * len(iccombos)
        for ii, ic in enumerate(iccombos):
            ic = {**ic_defaults, **ic}  # provenance names every IC parameter, family included
            index = pi * len(iccombos) + ii
            run_seed = int(np.random.SeedSequence(root.entropy, spawn_key=(index,))
                           .generate_state(1)[0])
            ident = {k: resolved[k] for k in ident_keys}
            ident.update(params=pc, ic=ic, seed=run_seed)
            run_id = hashlib.sha1(json.dumps(ident, sort_keys=True, default=str).encode()
                                  ).hexdigest()[:12]
            runs.append(RunSpec(
                run_id=run_id, index=index, system=system.name, dataset_name=name,
                params=dict(pc), ic=dict(ic), seed=run_seed, resolution=res,
                stored_resolution=stored, t_start=time["start"], dt_out=time["dt_out"],
                n_frames=time["n_frames"], spinup=_run_spinup(ic, time),
                split=split_of[ii], file_key=file_key, options=resolved["options"],
                param_names=names))
    return runs


def _run_spinup(ic: dict, time: dict) -> float:
    """A run's spin-up: ``time.spinup``, or its IC parameter ``spinup`` where the system
    declares one (trajectories of one file then start at different times: the file's
    ``dimensions/time`` is per trajectory, as in the Well's viscoelastic files)."""
    if ic.get("spinup") is None:
        return time.get("spinup", 0.0)
    spinup = _as_number("initial_conditions.spinup", ic["spinup"])
    if spinup < 0:
        raise ConfigError(f"initial_conditions.spinup: must be >= 0, given {spinup:g}")
    return spinup


def build_plan(system: System, cfg: dict) -> SweepPlan:
    """Validate a merged config and expand it into runs (stable order, ids and seeds)."""
    axes_kinds = [a.kind for a in system.card.axes]
    for req in ("resolution", "time", "parameters"):
        if req not in cfg:
            raise ConfigError(f"missing config key {req!r} (or choose a --preset: "
                              f"{', '.join(system.presets)})")
    res = _check_resolution(system, "resolution", cfg["resolution"], axes_kinds)
    stored = _check_resolution(system, "stored_resolution", cfg.get("stored_resolution", res),
                               axes_kinds)
    time = _check_time(cfg["time"])
    seed = _as_number("seed", cfg.get("seed", 0), integer=True)
    if seed < 0:
        raise ConfigError(f"seed: must be >= 0, given {seed}")
    fr = check_splits(cfg.get("splits"))
    rpr = cfg.get("ranks_per_run")
    if rpr is not None:
        rpr = _as_number("ranks_per_run", rpr, integer=True, positive=True)
    options = _check_options(system, cfg.get("options"))
    pcombos, iccombos = _check_sweeps(system, cfg, fr)
    holdout = check_holdout(cfg.get("holdout"), pcombos, [p.name for p in system.card.parameters])
    well_compat = bool(cfg.get("well_compat", False))
    name = cfg.get("dataset_name") or system.name
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise ConfigError(f"dataset_name: {name!r} must be letters, digits and underscores")
    resolved = {
        "system": system.name, "dataset_name": name, "resolution": list(res),
        "stored_resolution": list(stored), "time": time,
        "parameters": {"list": pcombos}, "initial_conditions": {"list": iccombos},
        "splits": fr, "seed": seed, "options": options, "well_compat": well_compat,
        "ranks_per_run": rpr, "wellforge_version": __version__,
        **({"holdout": {"split": holdout["split"], "cells": holdout["cells"]}}
           if holdout else {}),
    }
    design = {k: cfg[k]["sample"] for k in ("parameters", "initial_conditions")
              if isinstance(cfg.get(k), dict) and "sample" in cfg[k]}
    if design:  # the points are in the lists above; how they were drawn, here
        resolved["design"] = design
    names = dict(system.well_compat_names) if well_compat else {}
    return SweepPlan(system, resolved, _expand_runs(system, resolved, pcombos, iccombos, names))
