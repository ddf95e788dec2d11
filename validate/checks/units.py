"""L2 units: every ``@units`` parses (pint), matches the system card's physical dimension,
is consistent with the coordinates and time of its own file, dimensionless groups are
dimensionless, and every file of a dataset uses the same units.

Units are compared by dimensionality and conversion factor (pint), never as strings:
``m/s`` and ``meter / second`` are the same unit; ``km`` and ``m`` have the same
dimension but are different units.

Angles (``rad``, ``degree``) are dimensionless for pint; coordinates in angles (a
sphere's θ, φ) carry no length, so a sphere's velocities are checked against the time
unit only.
"""

from __future__ import annotations

from ..findings import Issue
from ..registry import check
from ..unit_algebra import (
    KINEMATIC,
    dimension,
    dimension_text,
    dmul,
    dpow,
    is_angle,
    is_dimensionless,
    is_group,
    parse_error,
    unit_info,
)


def _parsed(ctx) -> dict[str, str]:
    """object path -> units for every @units that parses."""
    return {p: u for p, u in ctx.layout.units.items() if dimension(u) is not None}


def _role(ctx, path: str) -> str:
    if path == "/dimensions/time":
        return "time"
    if path.startswith("/dimensions/"):
        return "coordinate"
    if path.startswith("/scalars/"):
        return "scalar"
    return "field"


@check("WF200", level=2, severity="error",
       fix="write a unit pint understands: '1' (dimensionless), 'm', 'm/s', 'kg/m^3', 'hour'")
def units_parse(ctx):
    """An @units string does not parse as a unit (pint).

    Every coordinate, time, field and scalar unit must be machine-readable so that
    dimensions and conversions can be checked; free text ("arbitrary units", "code
    units") cannot. Use "1" for dimensionless quantities.
    """
    for path, u in ctx.layout.units.items():
        why = parse_error(u)
        if why is not None:
            yield Issue(path, f"@units {u!r} of the {_role(ctx, path)} is not a unit ({why})",
                        expected="a pint unit string", observed=u)


def _card_units(ctx):
    """(object path, card units, what) for every object the card gives units for."""
    card = ctx.card
    if card is None:
        return
    lay = ctx.layout
    yield "/dimensions/time", card.card.time_units, f"time (card {card.name!r})"
    for d in lay.spatial_dims or []:
        a = card.axis(d)
        if a is not None:
            yield f"/dimensions/{d}", a.units, f"axis {d!r} of card {card.name!r}"
    for f in lay.fields:
        fc = card.field(f.name)
        if fc is not None:
            yield f.path, fc.units, f"field {f.name!r} of card {card.name!r}"
    for p in card.card.parameters:
        for name in card.param_names(p.name):
            if name in lay.scalars:
                yield f"/scalars/{name}", p.units, f"parameter {p.name!r} of card {card.name!r}"


@check("WF201", level=2, severity="error",
       fix="store the quantity in units of the card's dimension (or fix the card)")
def units_match_card(ctx):
    """A quantity's @units have another physical dimension than its system card's.

    A velocity in kelvin; dimensional data under a nondimensional card. Compared by dimensionality: the card's 'm/s' accepts 'km/h'; a card's '1'
    (nondimensional) accepts only dimensionless units.
    """
    units = _parsed(ctx)
    for path, cu, what in _card_units(ctx):
        u = units.get(path)
        if u is None:
            continue
        dc, df = dimension(cu), dimension(u)
        if dc is None or df is None or dc == df:
            continue
        yield Issue(path, f"@units {u!r} ({dimension_text(df)}) but the {what} says {cu!r} "
                    f"({dimension_text(dc)})", expected=cu, observed=u)


def _frame_of_reference(ctx, units):
    """(length dimensionality or None, time dimensionality or None, problems): from the
    coordinates (angles left out) and time."""
    lay = ctx.layout
    coords = [(f"/dimensions/{d}", units[f"/dimensions/{d}"]) for d in lay.spatial_dims or []
              if f"/dimensions/{d}" in units]
    lengths = [(p, u) for p, u in coords if not is_angle(u)]
    t = units.get("/dimensions/time")
    return lengths, t


@check("WF202", level=2, severity="error",
       fix="use one system of units: all dimensionless (a nondimensional simulation) or "
           "all dimensional, with velocities in coordinate length per time unit")
def units_consistent(ctx):
    """Units in one file do not fit together: dimensional and dimensionless units mixed,
    or a velocity that is not the coordinates' length per time unit.

    Mixed: coordinates in m but time, or a velocity, in '1'. Kinematic fields must be
    built from the file's own length and time dimensions: a velocity is length/time (in
    a nondimensional file '1'), vorticity 1/time, a height a length. Angle coordinates (a sphere) contribute no length. Fields with other dimensions (a
    concentration, a temperature) must be dimensionless when the coordinates and time
    are.
    """
    units = _parsed(ctx)
    lengths, t = _frame_of_reference(ctx, units)
    frame = lengths + ([("/dimensions/time", t)] if t is not None else [])
    if not frame:
        return
    dl = {p: is_dimensionless(u) for p, u in frame}
    if any(dl.values()) and not all(dl.values()):
        a = [p for p, v in dl.items() if v]
        b = [p for p, v in dl.items() if not v]
        odd = a[0] if len(a) < len(b) else b[0]  # the odd one out
        yield Issue(odd, f"mixed units: {', '.join(a)} dimensionless but "
                    f"{', '.join(f'{p} in {units[p]!r}' for p in b)}",
                    expected="all dimensionless or all dimensional",
                    observed={p: units[p] for p, _ in frame})
        return
    nondim = all(dl.values())
    Ld = dimension(lengths[0][1]) if lengths else (("length", 1),)
    Td = dimension(t) if t is not None else None
    for f in ctx.layout.fields:
        u = units.get(f.path)
        if u is None:
            continue
        df = dimension(u)
        kin = next(((pw, what) for rx, pw, what in KINEMATIC if rx.search(f.name)), None)
        if nondim:
            if df:
                yield Issue(f.path, f"@units {u!r} ({dimension_text(df)}) in a file whose "
                            f"coordinates and time are dimensionless: mixed dimensional "
                            "and nondimensional units", expected="1", observed=u)
            continue
        if kin is None or Td is None:
            continue
        (pl, pt), what = kin
        want = dmul(dpow(Ld, pl), dpow(Td, pt))  # a sphere (angle coordinates): Ld = length
        if df != want:
            frame_txt = (f"coordinates in {lengths[0][1]!r}, " if lengths else "") + \
                f"time in {t!r}"
            yield Issue(f.path, f"{f.name!r} is {what} but has @units {u!r} "
                        f"({dimension_text(df)}); with {frame_txt} it should be "
                        f"{dimension_text(want)}",
                        expected=dimension_text(want), observed=u)


@check("WF203", level=2, severity="error",
       fix="a dimensionless group has units '1'")
def dimensionless_groups(ctx):
    """A parameter named as a dimensionless group has dimensional @units.

    Names: Reynolds, Rayleigh, Prandtl, Schmidt, Mach, Weissenberg, … (prefixes, any
    case) or Re, Ra, Pr, Sc, Ma, Wi, … (exactly, or followed by '_')."""
    units = _parsed(ctx)
    for name in ctx.layout.scalars:
        path = f"/scalars/{name}"
        u = units.get(path)
        if u is None or not is_group(name):
            continue
        if dimension(u):
            yield Issue(path, f"{name!r} names a dimensionless group but has @units {u!r} "
                        f"({dimension_text(dimension(u))})", expected="1", observed=u)


@check("WF204", level=2, severity="error", scope="dataset",
       fix="store each quantity in the same units in every file of the dataset")
def units_agree(ds):
    """Files of one dataset give the same quantity different units.

    Not convertible, or convertible with a factor other than 1: 'km' in one file, 'm'
    in another. 'm/s' and 'meter / second' are the same unit."""
    files = [f for f in ds.usable() if (f["facts"] or {}).get("units")]
    if len(files) < 2:
        return
    paths = sorted({p for f in files for p in f["facts"]["units"]})
    for path in paths:
        have = [(f, f["facts"]["units"][path]) for f in files if path in f["facts"]["units"]]
        groups: list[tuple[str, list]] = []
        for f, u in have:
            for g in groups:
                if _same(g[0], u):
                    g[1].append(f)
                    break
            else:
                groups.append((u, [f]))
        if len(groups) < 2:
            continue
        groups.sort(key=lambda g: -len(g[1]))
        ref = groups[0][0]
        for u, fs in groups[1:]:
            why = _factor_text(ref, u)
            for f in fs:
                yield f, Issue(path, f"@units {u!r} here but {ref!r} in "
                               f"{len(groups[0][1])} other file(s) of the dataset ({why})",
                               expected=ref, observed=u)


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    ia, ib = unit_info(a), unit_info(b)
    if ia is None or ib is None or ia[0] != ib[0]:
        return False
    return abs(ib[1] / ia[1] - 1.0) <= 1e-9


def _factor_text(ref: str, u: str) -> str:
    ia, ib = unit_info(ref), unit_info(u)
    if ia is None or ib is None:
        return "one does not parse"
    if ia[0] != ib[0]:
        return f"{dimension_text(ib[0])} vs {dimension_text(ia[0])}"
    return f"1 {u} = {ib[1] / ia[1]:g} {ref}"
