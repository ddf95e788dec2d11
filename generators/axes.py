"""A system's axes, declared once: by its Dedalus bases.

The runner reads the axes from the bases of the first stored field (``RealFourier`` →
``fourier``, ``ChebyshevT`` → ``chebyshev``, ``SphereBasis`` → ``fourier`` azimuth and
``gauss`` colatitude, in Dedalus's order) and checks them once against the card, which
says how the axes are stored (their order, names, bounds and kind). A system module
never lists them a second time.
"""

from __future__ import annotations

import math

from wellforge.schema.grids import CHEBYSHEV, FOURIER, GAUSS, STORED, Axis

from wellforge.errors import SchemaError


def _basis_axes(basis) -> list[Axis]:
    kind = type(basis).__name__
    if kind == "SphereBasis":
        phi, theta = (c.name for c in basis.coordsys.coords)
        n_phi, n_theta = basis.shape
        return [Axis(phi, FOURIER, (0.0, 2 * math.pi), int(n_phi)),
                Axis(theta, GAUSS, (0.0, math.pi), int(n_theta))]
    if kind == "RealFourier":
        return [Axis(basis.coords.name, FOURIER, tuple(map(float, basis.bounds)),
                     int(basis.shape[0]))]
    if kind == "Jacobi" and getattr(basis, "a", None) == -0.5 and getattr(basis, "b", None) == -0.5:
        return [Axis(basis.coords.name, CHEBYSHEV, tuple(map(float, basis.bounds)),
                     int(basis.shape[0]))]
    raise SchemaError(f"a {kind} basis is not an axis wellforge can store (RealFourier, "
                      "ChebyshevT and SphereBasis are)")


def simulated_axes(outputs: dict) -> tuple[Axis, ...]:
    """The axes of the stored fields, in Dedalus's order (from the first output)."""
    first = next(iter(outputs.values()))
    return tuple(a for b in first.domain.bases for a in _basis_axes(b))


def stored_order(system, axes: tuple[Axis, ...], params: dict | None = None) -> list[int]:
    """For each of the card's axes (the stored order), the simulated axis it is; refuses
    axes that contradict the card (a mistake in the system module, said once, clearly).
    A domain length may be a parameter of the run (kuramoto_sivashinsky's ``L``: the
    card's bounds show one value)."""
    card = system.card
    names = [a.name for a in axes]
    want = [a.name for a in card.axes]
    if sorted(names) != sorted(want):
        raise SchemaError(f"{system.name}: the Dedalus bases give axes {names}, the card "
                          f"declares {want}")
    order = [names.index(n) for n in want]
    for ca, i in zip(card.axes, order):
        a = axes[i]
        if a.kind not in STORED.get(ca.kind, ()):
            raise SchemaError(f"{system.name}: axis {a.name!r} is simulated on a {a.kind} "
                              f"basis, the card says {ca.kind!r}")
        same = all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
                   for x, y in zip(a.bounds, ca.bounds))
        length = a.bounds[1] - a.bounds[0]
        if not same and math.isclose(a.bounds[0], ca.bounds[0], abs_tol=1e-12) and any(
                math.isclose(length, float(v), rel_tol=1e-12) for v in (params or {}).values()):
            same = True
        if a.kind != GAUSS and not same:
            raise SchemaError(f"{system.name}: axis {a.name!r} has bounds {a.bounds} in its "
                              f"basis, {ca.bounds} in the card")
    return order
