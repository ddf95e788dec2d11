"""L2: the file against its system card (fields, parameters, axes, boundary conditions,
grids), and the card lookup itself.

A card that contradicts the file is a finding that names both (the card's name and
where it came from, and the file's object), never a crash; the physics checks then use
what the two agree on.
"""

from __future__ import annotations

import math

import numpy as np
from wellforge.schema import grids

from ..attrs import MISSING, as_str_list, read_attr
from ..cards import component_index
from ..findings import Issue
from ..physics import file_values, file_values_problem
from ..registry import check


def _cn(card) -> str:
    return f"card {card.name!r} ({card.source})"


@check("WF205", level=2, severity="error",
       fix="make the file and the card agree: write the card's fields and parameters "
           "(names, tensor orders), or use/fix the right card")
def fields_match_card(ctx):
    """The file's fields or parameters contradict its system card.

    A field the card lacks, a card field the file lacks, a different tensor order, a
    parameter missing on either side."""
    card = ctx.card
    if card is None:
        return
    lay = ctx.layout
    have = {f.name: f for f in lay.fields}
    for f in lay.fields:
        fc = card.field(f.name)
        if fc is None:
            yield Issue(f.path, f"field {f.name!r} (t{f.order}) is not in {_cn(card)}, which "
                        f"declares {', '.join(x.name for x in card.card.fields)}",
                        expected=[x.name for x in card.card.fields], observed=f.name)
        elif fc.order != f.order:
            yield Issue(f.path, f"field {f.name!r} is a t{f.order} field here but order "
                        f"{fc.order} in {_cn(card)}", expected=fc.order, observed=f.order)
    for fc in card.card.fields:
        if fc.name not in have:
            yield Issue(f"/t{fc.order}_fields", f"{_cn(card)} declares field {fc.name!r} "
                        f"(order {fc.order}); the file has none",
                        expected=fc.name, observed=sorted(have))
    root = ctx.get("/")
    file_params = as_str_list(read_attr(root, "simulation_parameters")) or []
    known = set()
    for pc in card.card.parameters:
        names = card.param_names(pc.name)
        known.update(names)
        if not any(n in lay.scalars or n in file_params for n in names):
            yield Issue("/scalars", f"{_cn(card)} declares parameter {pc.name!r}"
                        + (f" (or {names[1]!r})" if len(names) > 1 else "")
                        + "; the file has no such scalar", expected=list(names),
                        observed=sorted(lay.scalars))
    for name in file_params:
        if name not in known:
            yield Issue("/", f"simulation parameter {name!r} is not a parameter of "
                        f"{_cn(card)} ({', '.join(p.name for p in card.card.parameters) or 'none'})",
                        expected=sorted(known), observed=name)


@check("WF206", level=2, severity="error",
       fix="make the axes and boundary conditions of the file and the card agree")
def axes_match_card(ctx):
    """The file's axes or boundary conditions contradict its system card.

    An axis on one side only or in another order, a boundary condition on an axis the
    card (or the file) does not have, a different type (PERIODIC, WALL, OPEN), or wall
    values prescribed in the file (``@wellforge_values``, or an older ``values`` dataset)
    that differ from the card's ``bc_values``."""
    card = ctx.card
    if card is None:
        return
    dims = list(ctx.layout.spatial_dims or [])
    names = [a.name for a in card.card.axes]
    for a in card.card.axes:
        if a.name not in dims:
            yield Issue("/dimensions", f"{_cn(card)} has axis {a.name!r} (with a {a.bc} "
                        f"condition); the file has no such axis (spatial_dims {dims})",
                        expected=names, observed=dims)
    for d in dims:
        if d not in names:
            yield Issue(f"/dimensions/{d}", f"axis {d!r} is not an axis of {_cn(card)} "
                        f"({', '.join(names)})", expected=names, observed=d)
    common = [d for d in dims if d in names]
    if common != [n for n in names if n in dims]:
        yield Issue("/dimensions", f"axes stored in the order {dims}, {_cn(card)} "
                    f"has {names}", expected=names, observed=dims)
    for bc in ctx.bc_groups:
        if bc["bc_type"] is None or not bc["dims"]:
            continue
        for d in bc["dims"]:
            a = card.axis(d)
            if a is None:
                if d in dims:
                    yield Issue(bc["path"], f"boundary condition {bc['bc_type']} on axis "
                                f"{d!r}, which {_cn(card)} does not have",
                                expected=names, observed=d)
                else:
                    yield Issue(bc["path"], f"boundary condition {bc['bc_type']} on axis "
                                f"{d!r}: neither the file nor {_cn(card)} has that axis",
                                expected=names, observed=d)
                continue
            if bc["bc_type"].upper() != a.bc.upper():
                yield Issue(bc["path"], f"{bc['bc_type']} on axis {d!r}, but {_cn(card)} "
                            f"says {a.bc}", expected=a.bc, observed=bc["bc_type"])
            yield from _values_vs_card(ctx, card, bc, a, dims)


def _values_vs_card(ctx, card, bc, a, dims):
    lay = ctx.layout
    fields = {f.name: f for f in lay.fields}
    vals = file_values(ctx, bc, fields, len(dims))
    for fname, comp, lo, hi in vals:
        f = fields[fname]
        comps = range(len(dims) ** f.order) if comp is None else [comp]
        for c in comps:
            want = None
            for key, pair in a.bc_values.items():
                hit = component_index(card, key, dims)
                if hit is not None and hit[0] == fname and hit[1] in (None, c):
                    want = pair
            if want is not None and not (math.isclose(want[0], lo, abs_tol=1e-6)
                                         and math.isclose(want[1], hi, abs_tol=1e-6)):
                labels = ctx.component_labels(f)
                label = labels[c] if c < len(labels) else fname
                yield Issue(bc["path"], f"{label}: wall values ({lo:g}, {hi:g}) "
                            f"in the file, ({want[0]:g}, {want[1]:g}) in {_cn(card)}",
                            expected=list(want), observed=[lo, hi])


@check("WF207", level=2, severity="error",
       fix="store the axis on the card's grid (or fix the card's kind and bounds)")
def grid_matches_card(ctx):
    """An axis's coordinates are not the grid its card declares.

    ``fourier``: uniform, spanning one period of the card's domain (or of a domain
    length given as a parameter of the file) without the endpoint; ``chebyshev``:
    Chebyshev–Gauss nodes (Dedalus) or Gauss–Lobatto nodes of the card's interval, or a
    uniform grid with both walls (the spectral interpolant stored there); ``uniform``:
    equispaced, on the walls or at cell centres; ``equiangular``, ``gauss``, ``legendre``
    (a sphere's colatitude): θ_j = (j + ½)π/n or arccos of the Gauss–Legendre nodes.
    Coordinates are float32: compared to that precision. A periodic grid that repeats
    its endpoint is WF401's.
    """
    card = ctx.card
    p = ctx.physics
    if card is None or not p.axes:
        return
    for i, d in enumerate(p.dims):
        a = card.axis(d)
        g = p.axes[i]
        # the stored grids the card's kind allows (grids.STORED): a Chebyshev axis may also
        # be stored spectrally interpolated onto a uniform grid with both walls
        # (wellforge's y_grid=uniform), a sphere's colatitudes on either grid
        want = grids.STORED.get(a.kind) if a is not None else None
        if want is None:
            continue
        path = f"/dimensions/{d}"
        if g.kind == grids.FOURIER_CLOSED:
            continue  # WF401
        if g.kind not in want:
            yield Issue(path, f"axis {d!r}: {_cn(card)} declares a {a.kind} grid, the "
                        f"coordinates are {_describe(g)}", expected=a.kind, observed=g.kind)
            continue
        if d in card.unknown_bounds:
            continue
        lo, hi = a.bounds
        if g.kind == grids.FOURIER:
            L = g.period
            if math.isclose(L, hi - lo, rel_tol=1e-5):
                continue
            if any(math.isclose(L, v, rel_tol=1e-5) for v in _param_values(ctx)):
                continue  # the domain length is a parameter of the file (kuramoto_sivashinsky)
            yield Issue(path, f"axis {d!r}: periodic grid of period {L:.7g} (N dx), "
                        f"{_cn(card)} declares [{lo:g}, {hi:g})", expected=hi - lo,
                        observed=L)
        elif g.lo is None or not (math.isclose(g.lo, lo, abs_tol=1e-5 * (hi - lo))
                                  and math.isclose(g.hi, hi, abs_tol=1e-5 * (hi - lo))):
            got = f"[{g.lo:.7g}, {g.hi:.7g}]" if g.lo is not None else \
                f"[{g.nodes.min():.7g}, {g.nodes.max():.7g}] (grid points)"
            yield Issue(path, f"axis {d!r}: {g.kind} grid on {got}, {_cn(card)} declares "
                        f"[{lo:g}, {hi:g}]", expected=[lo, hi],
                        observed=[g.lo, g.hi] if g.lo is not None else got)


def _describe(g) -> str:
    return {grids.FOURIER: "uniform periodic", grids.UNIFORM: "uniform", grids.CELLS:
            "uniform cell centres", grids.CHEBYSHEV: "Chebyshev–Gauss nodes", grids.LOBATTO:
            "Chebyshev–Lobatto nodes", grids.EQUIANGULAR: "equiangular colatitudes",
            grids.GAUSS: "Gauss–Legendre colatitudes", grids.NONUNIFORM: "neither uniform "
            "nor Chebyshev nor a sphere grid"}.get(g.kind, g.kind)


def _param_values(ctx) -> list[float]:
    root = ctx.get("/")
    out = []
    for name in as_str_list(read_attr(root, "simulation_parameters")) or []:
        v = read_attr(root, name)
        if v is not MISSING and np.ndim(v) == 0:
            try:
                out.append(float(v))
            except (TypeError, ValueError):
                pass
    return out


@check("WF208", level=2, severity="warning",
       fix="check the parameter value (or widen the card's range)")
def parameter_in_range(ctx):
    """A simulation parameter is outside the range its system card allows."""
    card = ctx.card
    if card is None:
        return
    root = ctx.get("/")
    for pc in card.card.parameters:
        hit = [(n, read_attr(root, n)) for n in card.param_names(pc.name)]
        hit = [(n, v) for n, v in hit if v is not MISSING]
        if not hit or np.ndim(hit[0][1]) != 0:
            continue
        name, v = hit[0]
        try:
            x = float(v)
        except (TypeError, ValueError):
            continue
        if (pc.low is not None and x < pc.low) or (pc.high is not None and x > pc.high):
            yield Issue("/", f"parameter {name!r} = {x:g} outside [{pc.low}, {pc.high}] of "
                        f"{_cn(card)}", expected=[pc.low, pc.high], observed=x)


@check("WF209", level=2, severity="warning",
       fix="register the system (plugin), pass its card with --card, or fix the embedded "
           "card")
def card_usable(ctx):
    """The file names a system card that cannot be used; only the generic checks ran.

    An unknown @wellforge_system, an invalid embedded @wellforge_card."""
    lk = ctx.card_lookup
    if lk.problem:
        yield Issue("/", lk.problem, observed=lk.how)


@check("WF210", level=2, severity="warning",
       fix="store @wellforge_values as JSON {field or component: [low, high]} (or, in a "
           "'values' dataset, one (low, high) pair for all associated fields or one pair "
           "per component of the associated fields, in order)")
def bc_values_readable(ctx):
    """A boundary-condition group's prescribed values cannot be matched to its fields.

    Wall values are read from ``@wellforge_values`` (JSON: field or component name ->
    [low, high]) or, in older files, a ``values`` dataset holding one (low, high) pair
    for every associated field, or one pair per component of the associated fields in
    order; anything else cannot be checked."""
    for bc in ctx.bc_groups:
        why = file_values_problem(ctx, bc)
        if why:
            yield Issue(bc["path"], why)
