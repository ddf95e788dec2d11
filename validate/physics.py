"""The physics plan of one file: what the L4 reducers compute and against what.

Built once per file (``FileContext.physics``) from the file's coordinates and
boundary-condition metadata and, when there is one, its system card
(``validate.cards``):

- a grid per spatial axis (``quadrature.classify``): kind, ideal nodes, quadrature
  weights, derivative, wall extrapolation;
- the periodic axes (the file's PERIODIC groups, or the card's);
- the wall checks: which field components must take which values at which wall
  (the card's ``bc_values``; no-slip for a ``noslip`` wall; no-penetration, the normal
  velocity component, on any other wall; or the file's ``values`` dataset);
- the invariants per field (the card's, plus the t2 ``@symmetric``/``@antisymmetric``
  flags of the Well's layout); a ``trace`` invariant names the field its trace equals
  (``equals``; none: the trace is zero).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import numpy as np
from wellforge.schema import spec
from wellforge.schema.reader import attr_str

from . import quadrature as q
from .attrs import MISSING, as_bool, as_str_list, read_attr
from .cards import CHECKED_KINDS, Card, Lookup, component_index

#: t1 fields the wall rules treat as a flow (no-penetration, no-slip)
FLOW = re.compile(r"(velocity|momentum)", re.IGNORECASE)


@dataclass
class WallCheck:
    """Values some components of one field must take on the two walls of one axis."""

    axis: int
    field_path: str
    #: component -> (value at the low wall, value at the high wall); None = not asserted
    targets: dict[int, tuple[float | None, float | None]]
    why: str
    group: str  # the BC group in the file, or the card's axis, for messages


@dataclass
class Invariant:
    kind: str
    field_path: str
    tolerance: float
    bounds: tuple[float | None, float | None] | None = None
    source: str = ""  # "card" or "@symmetric"
    doc: str = ""
    equals: str | None = None  # "trace": the path of the field the trace equals (None: 0)


@dataclass
class PhysicsPlan:
    """The physics of one file: its grids, periodic axes, wall checks and invariants."""

    lookup: Lookup
    axes: list[q.AxisGrid] | None
    dims: list[str]
    periodic: list[int] = field(default_factory=list)
    walls: list[WallCheck] = field(default_factory=list)
    invariants: dict[str, list[Invariant]] = field(default_factory=dict)
    #: (n_0 · … · n_{D−1},) float32 mean weights and their square roots; None = uniform
    W32: np.ndarray | None = None
    sqrtW32: np.ndarray | None = None
    #: per non-spectral axis: (alternative W32, sqrtW32) for quadrature error estimates
    alt: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    #: what a reducer derives from the plan once per file (the divergence's spectral
    #: weights and wavenumbers), under a key of its own
    memo: dict = field(default_factory=dict, repr=False)

    @property
    def card(self) -> Card | None:
        return self.lookup.card

    def for_field(self, path: str, *kinds: str) -> list[Invariant]:
        return [v for v in self.invariants.get(path, []) if not kinds or v.kind in kinds]

    def frame_matches(self, field) -> bool:
        """Whether the field's frames have the file's spatial axes (all dims varying)."""
        if not self.axes:
            return False
        sizes = tuple(a.n for a in self.axes)
        fs = field.frame_shape
        return len(fs) == len(sizes) + field.order and tuple(fs[:len(sizes)]) == sizes


def _coords(ctx, d: str):
    p = f"dimensions/{d}"
    if ctx.kind(p) != "dataset":
        return None
    ds = ctx.get(p)
    if ds.dtype.kind not in "fiu":
        return None
    c = ctx.read_small(ds)
    if c is None or np.ndim(c) != 1 or not np.all(np.isfinite(c)):
        return None
    return np.asarray(c, dtype=np.float64)


def plan_physics(ctx) -> PhysicsPlan:
    """The physics plan of ``ctx``'s file (read it as ``ctx.physics``: built once)."""
    lay = ctx.layout
    lookup = ctx.card_lookup
    card = lookup.card
    dims = list(lay.spatial_dims or [])
    if card is None:
        ctx.note(f"{lookup.how}: ran the generic physics checks only (units, periodic "
                 "seams and walls from the file's boundary-condition metadata, t2 "
                 "@symmetric/@antisymmetric flags); give one with --card")
    else:
        ctx.note(f"system card: {lookup.how}")
    bc_by_dim: dict[str, list[dict]] = {}
    for bc in ctx.bc_groups:
        if bc["bc_type"] is None or not bc["dims"]:
            continue
        for d in bc["dims"]:
            bc_by_dim.setdefault(d, []).append(bc)

    def file_type(d):
        types = {bc["bc_type"].upper() for bc in bc_by_dim.get(d, [])}
        return types.pop() if len(types) == 1 else None

    axes: list[q.AxisGrid] | None = []
    periodic = []
    for i, d in enumerate(dims):
        c = _coords(ctx, d)
        ca = card.axis(d) if card is not None else None
        btype = file_type(d) or (ca.bc.upper() if ca is not None else None)
        is_periodic = btype == "PERIODIC"
        if is_periodic:
            periodic.append(i)
        elif btype == "OPEN":
            ctx.note(f"axis {d!r}: OPEN boundaries, nothing asserted there")
        if c is None:
            axes = None
            continue
        if axes is None:
            continue
        hint = ca.kind if ca is not None and ca.kind not in ("unknown",) else None
        bounds = tuple(ca.bounds) if ca is not None and d not in card.unknown_bounds else None
        colat = hint in ("equiangular", "gauss", "legendre") or (
            card is None and d.lower() in ("theta", "colatitude")
            and lay.grid_type in ("equiangular", "spherical")
            and float(np.min(c)) > 0 and float(np.max(c)) < np.pi)
        g = q.classify(d, c, periodic=is_periodic, colatitude=colat, hint=hint,
                       bounds=bounds)
        if g.note:
            ctx.note(f"axis {d!r}: {g.note}")
        if is_periodic and g.kind not in (q.FOURIER, q.FOURIER_CLOSED):
            ctx.note(f"axis {d!r} is declared PERIODIC but its grid is {g.kind}, not "
                     "uniform: its seam was not checked")
        axes.append(g)
    if axes is None:
        ctx.note("coordinates missing or unreadable: L4 checks that need the grid were "
                 "skipped")
    p = PhysicsPlan(lookup, axes, dims, periodic)
    if axes:
        if not all(a.uniform_weights for a in axes):
            W = q.mean_weights(axes)
            p.W32 = W.astype(np.float32)
            p.sqrtW32 = np.sqrt(W).astype(np.float32)
        for i, a in enumerate(axes):
            if a.alt_weights is not None:
                Wa = q.mean_weights(axes, alt=i)
                p.alt.append((Wa.astype(np.float32), np.sqrt(Wa).astype(np.float32)))
        _walls(ctx, p, bc_by_dim)
    _invariants(ctx, p)
    return p


def _flow_fields(ctx):
    return [f for f in ctx.layout.fields if f.order == 1 and FLOW.search(f.name)]


def _walls(ctx, p: PhysicsPlan, bc_by_dim) -> None:
    lay = ctx.layout
    card = p.card
    fields = {f.name: f for f in lay.fields}
    D = len(p.dims)
    for i, d in enumerate(p.dims):
        g = p.axes[i]
        ca = card.axis(d) if card is not None else None
        groups = [bc for bc in bc_by_dim.get(d, []) if bc["bc_type"].upper() == "WALL"]
        is_wall = (ca.bc.upper() == "WALL") if ca is not None else bool(groups)
        if not is_wall:
            continue
        if not g.has_walls:
            ctx.note(f"axis {d!r}: WALL, but the wall positions are unknown for its "
                     f"{g.kind} grid (no card bounds): wall values not checked")
            continue
        targets: dict[str, dict[int, tuple]] = {}
        why: dict[str, str] = {}
        where = f"card axis {d!r}" if ca is not None else \
            ", ".join(bc["path"] for bc in groups) or f"axis {d!r}"
        put = _Targets(fields, D, targets, why)

        variant = None
        if ca is not None:
            variant = (ca.bc_variant or "").lower()
            for key, (lo, hi) in ca.bc_values.items():
                hit = component_index(card, key, p.dims)
                if hit is not None:
                    put(hit[0], hit[1], lo, hi, "Dirichlet values of the card")
        else:
            for bc in groups:
                name = bc["name"].lower()
                if "noslip" in name:
                    variant = "noslip"
                vals = file_values(ctx, bc, fields, D)
                for fname, comp, lo, hi in vals:
                    put(fname, comp, lo, hi, f"values of {bc['path']}")
        for f in _flow_fields(ctx):
            if variant == "noslip":
                for c in range(D):
                    if c not in targets.get(f.name, {}):
                        put(f.name, c, 0.0, 0.0, "no-slip wall")
            elif i not in targets.get(f.name, {}):
                put(f.name, i, 0.0, 0.0, "no-penetration (normal component)")
        for fname, t in targets.items():
            p.walls.append(WallCheck(i, fields[fname].path, t, why[fname], where))


class _Targets:
    """Collects wall targets: put(field, component or None for all, low, high, why)."""

    def __init__(self, fields, D, targets, why):
        self.fields, self.D, self.targets, self.why = fields, D, targets, why

    def __call__(self, fname, comp, lo, hi, reason):
        f = self.fields.get(fname)
        if f is None:
            return
        comps = range(self.D ** f.order) if comp is None else [comp]
        for c in comps:
            self.targets.setdefault(fname, {})[c] = (lo, hi)
        self.why.setdefault(fname, reason)


def _values_attr(ctx, bc):
    """The parsed ``@wellforge_values`` of a BC group: (mapping or None, problem or None)."""
    v = read_attr(ctx.get(bc["path"]), spec.BC_VALUES_ATTR)
    if v is MISSING:
        return None, None
    where = f"{bc['path']}@{spec.BC_VALUES_ATTR}"
    try:
        data = json.loads(attr_str(v))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None, f"{where} is not JSON text"
    if not isinstance(data, dict) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, (int, float))
                                                      and math.isfinite(x) for x in p)
            for p in data.values()):
        return None, f"{where} must map field or component names to [low, high] numbers"
    return data, None


def _component(key: str, fields, dims) -> tuple[str, int | None] | None:
    """(field, component or None for all) named by a field or component name."""
    if key in fields:
        return key, None
    for f in fields.values():
        names = spec.component_names(f.name, f.order, dims) if f.order else []
        if key in names:
            return f.name, names.index(key)
    return None


def file_values(ctx, bc, fields, D) -> list[tuple[str, int | None, float, float]]:
    """(field, component or None, low value, high value) prescribed by a BC group: its
    ``@wellforge_values`` (name -> [low, high]) or, in older files, a ``values`` dataset
    holding one (low, high) pair for every associated field or one pair per component of
    the associated fields in order. Anything else is not interpreted (WF210)."""
    data, _ = _values_attr(ctx, bc)
    if data is not None:
        dims = list(ctx.layout.spatial_dims or [])
        out = []
        for key, (lo, hi) in data.items():
            hit = _component(key, fields, dims)
            if hit is not None:
                out.append((hit[0], hit[1], float(lo), float(hi)))
        return out
    path = bc["path"] + "/values"
    if ctx.kind(path) != "dataset":
        return []
    v = ctx.read_small(ctx.get(path))
    names = as_str_list(read_attr(ctx.get(bc["path"]), "associated_fields")) or []
    names = [n for n in names if n in fields]
    if v is None or not names:
        return []
    v = np.asarray(v, dtype=np.float64).ravel()
    ncomp = [D ** fields[n].order for n in names]
    if v.size == 2:
        return [(n, None, float(v[0]), float(v[1])) for n in names]
    if v.size == 2 * sum(ncomp):
        out, k = [], 0
        for n, nc in zip(names, ncomp):
            for c in range(nc):
                out.append((n, c, float(v[k]), float(v[k + 1])))
                k += 2
        return out
    return []


def file_values_problem(ctx, bc) -> str | None:
    """Why a BC group's prescribed values cannot be matched to its fields, or None."""
    lay = ctx.layout
    fields = {f.name: f for f in lay.fields}
    data, problem = _values_attr(ctx, bc)
    if problem:
        return problem
    if data is not None:
        dims = list(lay.spatial_dims or [])
        bad = [k for k in data if _component(k, fields, dims) is None]
        if bad:
            return (f"{bc['path']}@{spec.BC_VALUES_ATTR} names {bad[0]!r}, which is neither "
                    "a field nor a component of the file")
        return None
    path = bc["path"] + "/values"
    if ctx.kind(path) != "dataset":
        return None
    D = len(lay.spatial_dims or [])
    names = as_str_list(read_attr(ctx.get(bc["path"]), "associated_fields"))
    ds = ctx.get(path)
    size = int(np.prod(ds.shape)) if ds.shape else 1
    if not names:
        return f"{path} holds {size} value(s) but @associated_fields names no field"
    missing = [n for n in names if n not in fields]
    if missing:
        return f"@associated_fields names {missing[0]!r}, which is not a field of the file"
    ncomp = sum(D ** fields[n].order for n in names)
    if size not in (2, 2 * ncomp):
        return (f"{path} holds {size} value(s): expected 2 (low and high wall, for every "
                f"associated field) or {2 * ncomp} (a pair per component of "
                f"{', '.join(names)})")
    return None


def _invariants(ctx, p: PhysicsPlan) -> None:
    lay = ctx.layout
    card = p.card
    by_name = {f.name: f for f in lay.fields}
    if card is not None:
        for v in card.card.invariants:
            f = by_name.get(v.field)
            if f is None:
                continue  # WF205 reports the missing field
            if v.kind not in CHECKED_KINDS:
                ctx.note(f"invariant {v.kind!r} of {v.field!r} is declared but not "
                         "checked by this validator")
                continue
            target = getattr(v, "equals", None)
            if target is not None and target not in by_name:
                ctx.note(f"invariant {v.kind!r} of {v.field!r}: its trace field "
                         f"{target!r} is not in the file: not checked")
                continue
            p.invariants.setdefault(f.path, []).append(Invariant(
                v.kind, f.path, float(v.tolerance), getattr(v, "bounds", None), "card",
                v.doc, by_name[target].path if target is not None else None))
    for f in lay.fields:
        if f.order != 2:
            continue
        d = ctx.get(f.path)
        for flag in ("symmetric", "antisymmetric"):
            if as_bool(read_attr(d, flag)) and not p.for_field(f.path, flag):
                p.invariants.setdefault(f.path, []).append(
                    Invariant(flag, f.path, 1e-6, None, f"@{flag}"))
    for path, invs in p.invariants.items():
        for v in invs:
            if v.kind == "bounded" and v.bounds is None:
                fname = path.rsplit("/", 1)[-1]
                b = _bounds_from_walls(card, fname) if card is not None else None
                if b is None:
                    ctx.note(f"invariant 'bounded' of {fname!r} declares no bounds: not "
                             "checked")
                v.bounds = b


def _bounds_from_walls(card: Card, fname: str):
    """The range of a field's Dirichlet wall values (a maximum principle's bounds)."""
    vals = [x for a in card.card.axes for k, pair in a.bc_values.items() if k == fname
            for x in pair]
    return (min(vals), max(vals)) if len(vals) >= 2 and min(vals) < max(vals) else None

