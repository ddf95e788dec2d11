"""Units the validator recognises without pint: unit string -> (dimension, factor to SI
base units, is an angle), computed with pint (``tests/test_validate_physics_units.py``
checks every entry against it). Importing pint and building its registry costs ~0.3 s
per run, more than the L2 checks themselves; any string not in this table is parsed by
pint as usual.

Regenerate with ``python -m wellforge.validate.unit_table`` (prints the table).
"""

from __future__ import annotations

#: dimension: sorted (base dimension, exponent) pairs; () = dimensionless
KNOWN: dict[str, tuple[tuple[tuple[str, int], ...], float, bool]] = {
    '1': ((), 1.0, False),
    'dimensionless': ((), 1.0, False),
    'm': ((('length', 1),), 1.0, False),
    'km': ((('length', 1),), 1000.0, False),
    'cm': ((('length', 1),), 0.01, False),
    'mm': ((('length', 1),), 0.001, False),
    'um': ((('length', 1),), 1e-06, False),
    'nm': ((('length', 1),), 1e-09, False),
    's': ((('time', 1),), 1.0, False),
    'ms': ((('time', 1),), 0.001, False),
    'min': ((('time', 1),), 60.0, False),
    'hour': ((('time', 1),), 3600.0, False),
    'h': ((('time', 1),), 3600.0, False),
    'day': ((('time', 1),), 86400.0, False),
    'kg': ((('mass', 1),), 1.0, False),
    'g': ((('mass', 1),), 0.001, False),
    'K': ((('temperature', 1),), 1.0, False),
    'Pa': ((('length', -1), ('mass', 1), ('time', -2)), 1.0, False),
    'hPa': ((('length', -1), ('mass', 1), ('time', -2)), 100.0, False),
    'kPa': ((('length', -1), ('mass', 1), ('time', -2)), 1000.0, False),
    'MPa': ((('length', -1), ('mass', 1), ('time', -2)), 1000000.0, False),
    'bar': ((('length', -1), ('mass', 1), ('time', -2)), 100000.0, False),
    'N': ((('length', 1), ('mass', 1), ('time', -2)), 1.0, False),
    'J': ((('length', 2), ('mass', 1), ('time', -2)), 1.0, False),
    'W': ((('length', 2), ('mass', 1), ('time', -3)), 1.0, False),
    'V': ((('current', -1), ('length', 2), ('mass', 1), ('time', -3)), 1.0, False),
    'A': ((('current', 1),), 1.0, False),
    'T': ((('current', -1), ('mass', 1), ('time', -2)), 1.0, False),
    'mol': ((('substance', 1),), 1.0, False),
    'mol/m^3': ((('length', -3), ('substance', 1)), 1.0, False),
    'mol/L': ((('length', -3), ('substance', 1)), 999.9999999999999, False),
    'kg/m^3': ((('length', -3), ('mass', 1)), 1.0, False),
    'g/cm^3': ((('length', -3), ('mass', 1)), 999.9999999999999, False),
    'm/s': ((('length', 1), ('time', -1)), 1.0, False),
    'km/s': ((('length', 1), ('time', -1)), 1000.0, False),
    'km/h': ((('length', 1), ('time', -1)), 0.2777777777777778, False),
    'cm/s': ((('length', 1), ('time', -1)), 0.01, False),
    'm/s^2': ((('length', 1), ('time', -2)), 1.0, False),
    'm^2/s': ((('length', 2), ('time', -1)), 1.0, False),
    'm^2/s^2': ((('length', 2), ('time', -2)), 1.0, False),
    '1/s': ((('time', -1),), 1.0, False),
    's^-1': ((('time', -1),), 1.0, False),
    'Hz': ((('time', -1),), 1.0, False),
    'rad': ((), 1.0, True),
    'radian': ((), 1.0, True),
    'degree': ((), 0.017453292519943295, True),
    'deg': ((), 0.017453292519943295, True),
    'J/kg': ((('length', 2), ('time', -2)), 1.0, False),
    'J/m^3': ((('length', -1), ('mass', 1), ('time', -2)), 1.0, False),
    'W/m^2': ((('mass', 1), ('time', -3)), 1.0, False),
    'Pa*s': ((('length', -1), ('mass', 1), ('time', -1)), 1.0, False),
    'm^2': ((('length', 2),), 1.0, False),
    'm^3': ((('length', 3),), 1.0, False),
    'N/m^2': ((('length', -1), ('mass', 1), ('time', -2)), 1.0, False),
    'kg/(m*s^2)': ((('length', -1), ('mass', 1), ('time', -2)), 1.0, False),
    'kg/m/s^2': ((('length', -1), ('mass', 1), ('time', -2)), 1.0, False),
    'percent': ((), 0.01, False),
    'K/s': ((('temperature', 1), ('time', -1)), 1.0, False),
    'm/s/s': ((('length', 1), ('time', -2)), 1.0, False),
    '1/m': ((('length', -1),), 1.0, False),
    'm^-1': ((('length', -1),), 1.0, False),
    'meter': ((('length', 1),), 1.0, False),
    'second': ((('time', 1),), 1.0, False),
    'kelvin': ((('temperature', 1),), 1.0, False),
    'pascal': ((('length', -1), ('mass', 1), ('time', -2)), 1.0, False),
    'meter/second': ((('length', 1), ('time', -1)), 1.0, False),
    'meter / second': ((('length', 1), ('time', -1)), 1.0, False),
    'm s^-1': ((('length', 1), ('time', -1)), 1.0, False),
    'kg m^-3': ((('length', -3), ('mass', 1)), 1.0, False),
    'm**2/s': ((('length', 2), ('time', -1)), 1.0, False),
    'm/s**2': ((('length', 1), ('time', -2)), 1.0, False),
    'kg/m**3': ((('length', -3), ('mass', 1)), 1.0, False),
    'kg/m^2/s': ((('length', -2), ('mass', 1), ('time', -1)), 1.0, False),
    'kg/(m^2*s)': ((('length', -2), ('mass', 1), ('time', -1)), 1.0, False),
    'J/m^2': ((('mass', 1), ('time', -2)), 1.0, False),
}


def from_pint(units: str) -> tuple[tuple[tuple[str, int], ...], float, bool]:
    """The table entry for ``units``, computed by pint (``ValueError`` if it does not
    parse)."""
    from wellforge.schema.units import parse

    u = parse(units)
    dims = tuple(sorted((str(k).strip("[]"), int(v)) for k, v in u.dimensionality.items()
                        if v))
    try:
        factor = float((1 * u).to_base_units().magnitude)
    except Exception:  # noqa: BLE001 - pint's offset-unit and other conversion errors
        factor = float("nan")
    angle = not dims and any(a in str(u) for a in ("radian", "degree", "turn", "arcminute",
                                                   "arcsecond"))
    return dims, factor, angle


if __name__ == "__main__":  # pragma: no cover - maintenance
    for name in KNOWN:
        print(f"    {name!r}: {from_pint(name)!r},")
