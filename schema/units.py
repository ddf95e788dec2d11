"""Units: every coordinate, field and scalar carries a pint-parsable ``@units`` string.

``"1"`` means dimensionless (a nondimensionalised system). Comparisons are by
dimensionality and convertibility, never by string equality.
"""

from __future__ import annotations

from functools import lru_cache

from wellforge.errors import SchemaError


@lru_cache(maxsize=1)
def registry():
    import pint

    try:  # a disk cache of the parsed definitions makes start-up ~10x faster
        return pint.UnitRegistry(cache_folder=":auto:")
    except Exception:  # read-only home, missing cache dependencies
        return pint.UnitRegistry()


@lru_cache(maxsize=512)
def parse(units: str):
    """The pint unit for ``units``; raises ``ValueError`` if it does not parse."""
    if not isinstance(units, str) or not units.strip():
        raise ValueError("empty units string")
    try:
        return registry().parse_units(units.strip())
    except Exception as e:  # pint raises several types
        raise ValueError(f"{units!r} is not a unit pint understands ({type(e).__name__})") from None


def check_units(units: str, where: str) -> str:
    """Return ``units`` if it parses, else raise ``SchemaError`` naming ``where``."""
    try:
        parse(units)
    except ValueError as e:
        raise SchemaError(f"{where}: units {e}; use e.g. '1' (dimensionless), 'm', 'm/s'") from None
    return units.strip()


def dimensionality(units: str) -> str:
    """Canonical dimensionality string, e.g. ``[length] / [time]``; ``dimensionless``."""
    d = parse(units).dimensionality
    return str(d) if d else "dimensionless"


def convertible(a: str, b: str) -> bool:
    return parse(a).dimensionality == parse(b).dimensionality
