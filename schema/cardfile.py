"""System cards as YAML files: load, check and dump a ``SystemCard``.

A card is data: a plugin ships it beside its module (``card.yaml``), ``wellforge convert
--card FILE`` reads one for Dedalus output that no system module describes, and
``wellforge new-system`` writes one from a template. The keys are the ``SystemCard``
fields::

    name: advection_diffusion            # letters, digits, underscores
    title: One-line description
    equations: |                          # LaTeX
      \\partial_t c + \\mathbf v\\cdot\\nabla c = \\kappa \\nabla^2 c
    time_units: "1"                       # pint-parsable; "1" = dimensionless
    grid_type: cartesian                  # cartesian | equiangular | spherical
    fields:                               # stored fields, in storage order
      - {name: concentration, order: 0, units: "1", doc: passive scalar c}
    parameters:                           # PDE parameters: one file per combination
      - {name: kappa, units: "1", doc: diffusivity, low: 1.0e-4, high: 1.0}
    axes:                                 # stored axes, in storage order
      - {name: x, kind: fourier, bounds: [0, 1], units: "1", bc: PERIODIC}
      - name: y
        kind: chebyshev
        bounds: [0, 1]
        units: "1"
        bc: WALL
        bc_variant: dirichlet
        bc_values: {concentration: [1, 0]}   # value at (low, high) end
        bc_fields: [concentration]
    invariants:                           # what the validator may check
      - {kind: conserved_mean, field: concentration, tolerance: 1.0e-6}
      - {kind: bounded, field: concentration, tolerance: 1.0e-3, bounds: [0, 1]}
    references: [...]
    notes: [...]

Every problem is a ``ConfigError`` naming the file, the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from typing import Any

from wellforge.errors import ConfigError, SchemaError

from . import spec
from .card import AxisCard, FieldCard, InvariantCard, ParamCard, SystemCard
from .grids import CARD_KINDS
from .units import check_units

#: axis kinds wellforge knows: fourier and chebyshev are resampled spectrally (generate,
#: convert); other kinds are stored as they are
AXIS_KINDS = CARD_KINDS  # how an axis is discretised (schema.grids: one vocabulary)
#: invariant kinds in use (the validator decides which it checks); others are allowed
INVARIANT_KINDS = ("conserved_mean", "divergence_free", "bounded", "zero_mean", "symmetric",
                   "energy_balance", "antisymmetric", "positive_definite", "non_negative",
                   "energy_non_increasing", "trace", "traceless")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")


def _keys(where: str, d: Any, required: tuple[str, ...], optional: tuple[str, ...]) -> dict:
    if not isinstance(d, dict):
        raise ConfigError(f"{where}: expected a mapping with keys {', '.join(required)}")
    unknown = [k for k in d if k not in required + optional]
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; allowed: "
                          f"{', '.join(required + optional)}")
    missing = [k for k in required if k not in d]
    if missing:
        raise ConfigError(f"{where}: missing key {missing[0]!r}")
    return d


def _name(where: str, v) -> str:
    if not isinstance(v, str) or not _NAME.match(v):
        raise ConfigError(f"{where}: {v!r} is not a name (letters, digits, underscores, "
                          "starting with a letter)")
    return v


def _num(where: str, v, allow_none: bool = False) -> float | None:
    if v is None and allow_none:
        return None
    try:
        x = float(v)  # YAML 1.1 reads '1e-4' (no dot) as a string: accept it
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number, given {v!r}") from None
    if isinstance(v, bool) or not math.isfinite(x):
        raise ConfigError(f"{where}: expected a finite number, given {v!r}")
    return x


def _units(where: str, v) -> str:
    try:
        return check_units(str(v), where)
    except SchemaError as e:
        raise ConfigError(str(e)) from None


def _equals(where: str, v) -> str | None:
    """A "trace" invariant's ``equals``: the field its trace equals (None: traceless)."""
    if v is None:
        return None
    if not isinstance(v, str) or not _NAME.match(v):
        raise ConfigError(f"{where}.equals: expected a field name, given {v!r}")
    return v


def _strings(where: str, v) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str) or not isinstance(v, list):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(str(x) for x in v)


def card_from_mapping(d: dict, where: str = "card") -> SystemCard:
    """Build and check a ``SystemCard`` from a parsed YAML mapping."""
    names = tuple(f.name for f in dataclasses.fields(SystemCard))
    _keys(where, d, ("name", "title", "fields", "axes"), tuple(
        n for n in names if n not in ("name", "title", "fields", "axes")))
    fields = []
    if not isinstance(d["fields"], list) or not d["fields"]:
        raise ConfigError(f"{where}.fields: expected a non-empty list")
    for i, f in enumerate(d["fields"]):
        w = f"{where}.fields[{i}]"
        _keys(w, f, ("name", "order", "units"), ("doc",))
        order = f["order"]
        if order not in (0, 1, 2):
            raise ConfigError(f"{w}.order: expected 0 (scalar), 1 (vector) or 2 (tensor), "
                              f"given {order!r}")
        fields.append(FieldCard(_name(f"{w}.name", f["name"]), int(order),
                                _units(f"{w}.units", f["units"]), str(f.get("doc", ""))))
    diagnostics = []
    for i, f in enumerate(d.get("diagnostics") or []):
        w = f"{where}.diagnostics[{i}]"
        _keys(w, f, ("name", "units"), ("order", "doc"))
        if f.get("order", 0) != 0:
            raise ConfigError(f"{w}.order: a diagnostic is a scalar per frame (order 0)")
        diagnostics.append(FieldCard(_name(f"{w}.name", f["name"]), 0,
                                     _units(f"{w}.units", f["units"]), str(f.get("doc", ""))))
    params = []
    for i, p in enumerate(d.get("parameters") or []):
        w = f"{where}.parameters[{i}]"
        _keys(w, p, ("name", "units"), ("doc", "low", "high", "well_values"))
        low, high = _num(f"{w}.low", p.get("low"), True), _num(f"{w}.high", p.get("high"), True)
        if low is not None and high is not None and low > high:
            raise ConfigError(f"{w}: low {low:g} > high {high:g}")
        params.append(ParamCard(_name(f"{w}.name", p["name"]), _units(f"{w}.units", p["units"]),
                                str(p.get("doc", "")), low, high,
                                tuple(_num(f"{w}.well_values", v) for v in
                                      p.get("well_values") or ())))
    axes = []
    if not isinstance(d["axes"], list) or not d["axes"]:
        raise ConfigError(f"{where}.axes: expected a non-empty list")
    field_names = {f.name for f in fields}
    for i, a in enumerate(d["axes"]):
        w = f"{where}.axes[{i}]"
        _keys(w, a, ("name", "kind", "bounds", "units", "bc"),
              ("bc_variant", "bc_values", "bc_fields"))
        if not isinstance(a["kind"], str) or not _KIND.match(a["kind"]):
            raise ConfigError(f"{w}.kind: {a['kind']!r}: expected a lower-case name such as "
                              f"{', '.join(AXIS_KINDS)}")
        b = a["bounds"]
        if not isinstance(b, list) or len(b) != 2:
            raise ConfigError(f"{w}.bounds: expected [low, high]")
        lo, hi = _num(f"{w}.bounds", b[0]), _num(f"{w}.bounds", b[1])
        if not lo < hi:
            raise ConfigError(f"{w}.bounds: expected low < high, given {b}")
        bc = str(a["bc"]).upper()
        variant = a.get("bc_variant")
        try:
            spec.bc_group_name(a["name"], bc, variant)
        except ValueError as e:
            raise ConfigError(f"{w}.bc: {e}") from None
        values = {}
        for k, v in (a.get("bc_values") or {}).items():
            if not isinstance(v, list) or len(v) != 2:
                raise ConfigError(f"{w}.bc_values.{k}: expected [value at low end, value at "
                                  "high end]")
            values[str(k)] = (_num(f"{w}.bc_values.{k}", v[0]), _num(f"{w}.bc_values.{k}", v[1]))
        bc_fields = _strings(f"{w}.bc_fields", a.get("bc_fields"))
        unknown = [n for n in bc_fields if n not in field_names]
        if unknown:
            raise ConfigError(f"{w}.bc_fields: {unknown[0]!r} is not a field of the card "
                              f"({', '.join(sorted(field_names))})")
        axes.append(AxisCard(_name(f"{w}.name", a["name"]), a["kind"], (lo, hi),
                             _units(f"{w}.units", a["units"]), bc, variant, values, bc_fields))
    invariants = []
    for i, v in enumerate(d.get("invariants") or []):
        w = f"{where}.invariants[{i}]"
        _keys(w, v, ("kind", "field", "tolerance"), ("doc", "bounds", "equals"))
        if not isinstance(v["kind"], str) or not _KIND.match(v["kind"]):
            raise ConfigError(f"{w}.kind: {v['kind']!r}: expected a lower-case name such as "
                              f"{', '.join(INVARIANT_KINDS)}")
        if v["field"] not in field_names:
            raise ConfigError(f"{w}.field: {v['field']!r} is not a field of the card")
        if v.get("equals") is not None and v["equals"] not in field_names:
            raise ConfigError(f"{w}.equals: {v['equals']!r} is not a field of the card")
        bounds = v.get("bounds")
        if bounds is not None:
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise ConfigError(f"{w}.bounds: expected [low, high] (null for no bound)")
            bounds = (_num(f"{w}.bounds", bounds[0], True), _num(f"{w}.bounds", bounds[1], True))
            if None not in bounds and bounds[0] > bounds[1]:
                raise ConfigError(f"{w}.bounds: low {bounds[0]:g} > high {bounds[1]:g}")
        invariants.append(InvariantCard(v["kind"], v["field"], _num(f"{w}.tolerance",
                                        v["tolerance"]), str(v.get("doc", "")), bounds,
                                        _equals(w, v.get("equals"))))
    grid_type = d.get("grid_type", "cartesian")
    if grid_type not in spec.GRID_TYPES:
        raise ConfigError(f"{where}.grid_type: {grid_type!r} is not one of "
                          f"{', '.join(spec.GRID_TYPES)}")
    return SystemCard(
        name=_name(f"{where}.name", d["name"]), title=str(d["title"]),
        equations=str(d.get("equations", "")), fields=tuple(fields), parameters=tuple(params),
        axes=tuple(axes), time_units=_units(f"{where}.time_units", d.get("time_units", "1")),
        grid_type=grid_type, invariants=tuple(invariants),
        references=_strings(f"{where}.references", d.get("references")),
        notes=_strings(f"{where}.notes", d.get("notes")), diagnostics=tuple(diagnostics))


def load_card(path: str | os.PathLike) -> SystemCard:
    """Read and check a YAML card file."""
    from wellforge.userfiles import read_yaml

    path = os.fspath(path)
    return card_from_mapping(read_yaml(path, "card"), where=path)


def card_to_mapping(card: SystemCard) -> dict:
    """The YAML mapping of a card (inverse of ``card_from_mapping``)."""
    d = card.to_dict()
    for a in d["axes"]:
        a["bounds"] = list(a["bounds"])
        a["bc_values"] = {k: list(v) for k, v in a["bc_values"].items()}
        a["bc_fields"] = list(a["bc_fields"])
        if a["bc_variant"] is None:
            del a["bc_variant"]
    for p in d["parameters"]:
        p["well_values"] = list(p["well_values"])
    for v in d["invariants"]:
        if v["equals"] is None:
            del v["equals"]
        if v["bounds"] is None:
            del v["bounds"]
        else:
            v["bounds"] = list(v["bounds"])
    d["references"], d["notes"] = list(d["references"]), list(d["notes"])
    if d["diagnostics"]:
        d["diagnostics"] = [dict(name=f["name"], units=f["units"], doc=f["doc"])
                            for f in d["diagnostics"]]
    else:
        del d["diagnostics"]  # cards without diagnostics read as they always did
    return d


def card_json(card: SystemCard) -> str:
    """The card as JSON text, as files carry it (``@wellforge_card``): a dataset checked
    where its system is not installed still has its card."""
    import json

    return json.dumps(card_to_mapping(card), sort_keys=True)
