"""Unit algebra: what a unit string means (dimension, factor to SI, angle or not), and
products and powers of dimensions.

A dimension is a sorted tuple of (base dimension, exponent) pairs, ``()`` when
dimensionless; common units come from ``unit_table`` (computed with pint) so that most
runs never import pint. Used by the L2 units checks and by ``cards.lint`` (a card's own
units), which judge the same rules: kinematic fields by name (``KINEMATIC``),
dimensionless groups by name (``is_group``), angles carrying no length.
"""

from __future__ import annotations

import re

#: parameters named as dimensionless groups (case-insensitive prefixes)
GROUPS = ("reynolds", "rayleigh", "prandtl", "schmidt", "mach", "weissenberg", "peclet",
          "richardson", "froude", "rossby", "ekman", "nusselt", "lewis", "grashof",
          "strouhal", "knudsen", "weber", "damkohler", "bond", "capillary", "taylor",
          "deborah", "hartmann", "lundquist", "alfven", "stokes", "biot", "eckert",
          "galilei", "marangoni", "elasticity")
#: ... and their usual symbols (exact, or followed by '_')
SYMBOLS = ("Re", "Ra", "Pr", "Sc", "Ma", "Ms", "Wi", "Pe", "Ri", "Fr", "Ro", "Ek",
           "Nu", "Le", "Gr", "St", "Kn", "We", "Da", "Bo", "Ca", "Ta", "De", "Ha", "Lu",
           "Rm", "Pm", "Bi", "Ec", "Ga", "Mg")
#: kinematic fields by name: dimension in powers of (length, time)
KINEMATIC = ((re.compile(r"(^|_)velocity|^speed"), (1, -1), "velocity"),
             (re.compile(r"(^|_)vorticity"), (0, -1), "vorticity"),
             (re.compile(r"^(height|depth|elevation|displacement)"), (1, 0), "a length"))
ANGLES = ("rad", "radian", "radians", "deg", "degree", "degrees", "arcdeg", "turn")


def is_group(name: str) -> bool:
    low = name.lower()
    if any(low.startswith(g) for g in GROUPS):
        return True
    return any(name == s or name.startswith(s + "_") for s in SYMBOLS)


def unit_info(u: str):
    """(dimension, factor to SI, is an angle) of a unit string, or None if pint cannot
    parse it. Dimension: sorted (base dimension, exponent) pairs. Common units come from
    ``unit_table`` (computed with pint) so that most runs never import pint."""
    from .unit_table import KNOWN, from_pint

    key = u.strip() if isinstance(u, str) else u
    hit = KNOWN.get(key)
    if hit is not None:
        return hit
    try:
        return from_pint(u)
    except ValueError:
        return None
    except Exception:  # noqa: BLE001 - anything else pint raises: not a usable unit
        return None


def parse_error(u: str) -> str | None:
    if unit_info(u) is not None:
        return None
    from wellforge.schema.units import parse

    try:
        parse(u)
    except ValueError as e:
        return str(e)
    return None


def dimension(u: str):
    info = unit_info(u)
    return None if info is None else info[0]


def is_dimensionless(u: str) -> bool | None:
    d = dimension(u)
    return None if d is None else not d


def is_angle(u: str) -> bool:
    """An angle unit (dimensionless for pint, but not a plain number)."""
    info = unit_info(u)
    return bool(info and info[2])


def dmul(*ds):
    """Product of dimensions given as (base, exponent) pairs."""
    out: dict[str, int] = {}
    for d in ds:
        for k, v in d:
            out[k] = out.get(k, 0) + v
    return tuple(sorted((k, v) for k, v in out.items() if v))


def dpow(d, n: int):
    return tuple(sorted((k, v * n) for k, v in d if v * n))


def dimension_text(d) -> str:
    """'[length] / [time]' style, as pint writes a dimensionality."""
    if not d:
        return "dimensionless"
    up = [f"[{k}]" + (f" ** {v}" if v != 1 else "") for k, v in d if v > 0]
    down = [f"[{k}]" + (f" ** {-v}" if v != -1 else "") for k, v in d if v < 0]
    txt = " * ".join(up) or "1"
    return txt + ("".join(f" / {x}" for x in down) if down else "")
