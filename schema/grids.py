"""Grids of the Well's axes: one vocabulary, the node formulas, barycentric interpolation.

Used by the generators (the axes a system simulates, resampling at write time), the
validator (quadrature, derivatives and walls for the grid the data live on), ``info`` and
the cards, so that a grid has one name and one formula everywhere.

Kinds of stored grid (``KINDS``):

==================  ==========================================================  ===========
kind                nodes                                                       Dedalus
==================  ==========================================================  ===========
``fourier``         uniform, periodic, no duplicate endpoint: lo + (hi−lo) j/n  RealFourier
``fourier_closed``  uniform, periodic, the last point repeats the first         —
``chebyshev``       Gauss–Chebyshev: lo + (hi−lo)(1 − cos((j+½)π/n))/2          ChebyshevT
``lobatto``         Chebyshev extrema, both walls included                      —
``uniform``         uniform, non-periodic, both ends are grid points            —
``cells``           uniform cell centres, the ends half a cell inside           —
``equiangular``     colatitudes θ_j = (j+½)π/n (the Well's planetswe)           —
``gauss``           colatitudes arccos of the Gauss–Legendre nodes              SphereBasis
``nonuniform``      anything else                                               —
==================  ==========================================================  ===========

A card's axis ``kind`` names how the axis is discretised (``fourier``, ``chebyshev``,
``uniform``, ``equiangular``, ``gauss``, ``legendre`` = ``gauss``); ``STORED`` lists the
stored grids each allows (a Chebyshev axis may be stored spectrally interpolated onto a
uniform grid with both walls, a sphere's colatitudes on either grid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FOURIER = "fourier"
FOURIER_CLOSED = "fourier_closed"
CHEBYSHEV = "chebyshev"
LOBATTO = "lobatto"
UNIFORM = "uniform"
CELLS = "cells"
EQUIANGULAR = "equiangular"
GAUSS = "gauss"
NONUNIFORM = "nonuniform"
KINDS = (FOURIER, FOURIER_CLOSED, CHEBYSHEV, LOBATTO, UNIFORM, CELLS, EQUIANGULAR, GAUSS,
         NONUNIFORM)

#: kinds a card's axis may name, and the stored grids each allows
CARD_KINDS = (FOURIER, CHEBYSHEV, UNIFORM, EQUIANGULAR, GAUSS, "legendre")
STORED = {FOURIER: (FOURIER,), CHEBYSHEV: (CHEBYSHEV, LOBATTO, UNIFORM),
          UNIFORM: (UNIFORM, CELLS), EQUIANGULAR: (EQUIANGULAR, GAUSS),
          GAUSS: (EQUIANGULAR, GAUSS), "legendre": (EQUIANGULAR, GAUSS)}
#: colatitude kinds (a sphere's θ axis)
COLATITUDE_KINDS = (EQUIANGULAR, GAUSS, "legendre")

#: float32 machine epsilon: stored coordinates are float32
EPS32 = float(np.finfo(np.float32).eps)


@dataclass(frozen=True)
class Axis:
    """One axis of a simulation domain: name, kind (of ``KINDS``), bounds, size."""

    name: str
    kind: str
    bounds: tuple[float, float]
    size: int


# -- node formulas --------------------------------------------------------------------------

def fourier_nodes(n: int, lo: float, hi: float) -> np.ndarray:
    return lo + (hi - lo) * np.arange(n) / n


def chebyshev_nodes(n: int, lo: float, hi: float, ascending: bool = True) -> np.ndarray:
    """Dedalus's ChebyshevT grid (scale 1): Gauss nodes, walls excluded."""
    x = lo + (hi - lo) * (1 - np.cos((np.arange(n) + 0.5) * np.pi / n)) / 2
    return x if ascending else x[::-1]


def lobatto_nodes(n: int, lo: float, hi: float, ascending: bool = True) -> np.ndarray:
    """Chebyshev extrema: both walls are nodes."""
    x = lo + (hi - lo) * (1 - np.cos(np.arange(n) * np.pi / (n - 1))) / 2
    return x if ascending else x[::-1]


def equiangular_colatitudes(n: int, ascending: bool = True) -> np.ndarray:
    """``n`` equally spaced colatitudes at cell centres, poles excluded (descending, from
    near π, like Dedalus's grid and the Well's planetswe, with ``ascending=False``)."""
    t = (np.arange(n) + 0.5) * np.pi / n
    return t if ascending else np.pi - t  # the Well's formula: θ_j = π − (j + ½)π/n


def gauss_colatitudes(n: int, ascending: bool = True) -> np.ndarray:
    """Dedalus SphereBasis colatitudes (scale 1): arccos of the Gauss–Legendre nodes
    (descending, from near π, as Dedalus orders them, with ``ascending=False``)."""
    t = np.sort(np.arccos(np.polynomial.legendre.leggauss(n)[0]))
    return t if ascending else t[::-1]


def nodes(kind: str, n: int, bounds: tuple[float, float] = (0.0, math.pi)) -> np.ndarray:
    """The ``n`` nodes of a grid of ``kind`` on ``bounds`` (colatitudes: descending)."""
    lo, hi = bounds
    if kind == FOURIER:
        return fourier_nodes(n, lo, hi)
    if kind == FOURIER_CLOSED:
        return np.linspace(lo, hi, n)
    if kind == CHEBYSHEV:
        return chebyshev_nodes(n, lo, hi)
    if kind == LOBATTO:
        return lobatto_nodes(n, lo, hi)
    if kind == UNIFORM:
        return np.linspace(lo, hi, n)
    if kind == CELLS:
        return lo + (np.arange(n) + 0.5) * (hi - lo) / n
    if kind == EQUIANGULAR:
        return equiangular_colatitudes(n, ascending=False)
    if kind in (GAUSS, "legendre"):
        return gauss_colatitudes(n, ascending=False)
    raise ValueError(f"no node formula for grid kind {kind!r}")


# -- barycentric interpolation ----------------------------------------------------------------

def barycentric_weights(x: np.ndarray) -> np.ndarray:
    """Barycentric weights λ_j = 1 / Π_{k≠j}(x_j − x_k), rescaled (products are taken on
    the interval mapped to length 4, where they neither overflow nor underflow)."""
    x = np.asarray(x, dtype=np.float64)
    c = 4.0 / (x.max() - x.min()) if x.size > 1 else 1.0
    d = (x[:, None] - x[None, :]) * c
    np.fill_diagonal(d, 1.0)
    logs = np.log(np.abs(d)).sum(axis=1)
    sign = np.prod(np.sign(d), axis=1)
    lam = sign * np.exp(-(logs - logs.max()))
    return lam / np.abs(lam).max()


def barycentric_matrix(x: np.ndarray, targets, lam: np.ndarray | None = None) -> np.ndarray:
    """Matrix M (len(targets) × n): M @ f(x) is the degree n − 1 interpolant of values at
    nodes ``x`` (barycentric weights ``lam``, default from ``x``) at ``targets`` (second
    form; exact rows where a target is a node)."""
    x = np.asarray(x, dtype=np.float64)
    lam = barycentric_weights(x) if lam is None else lam
    t = np.atleast_1d(np.asarray(targets, dtype=np.float64))
    diff = t[:, None] - x[None, :]
    exact = diff == 0.0
    diff[exact] = 1.0
    M = lam[None, :] / diff
    M /= M.sum(axis=1, keepdims=True)
    rows = exact.any(axis=1)
    M[rows] = exact[rows].astype(float)
    return M


def chebyshev_interp_matrix(n_src: int, targets: np.ndarray, bounds: tuple[float, float]
                            ) -> np.ndarray:
    """Matrix M (len(targets) × n_src) with M @ f(Gauss–Chebyshev nodes, ascending) = the
    degree n_src − 1 interpolant at ``targets`` (closed-form barycentric weights)."""
    a, b = bounds
    m = np.arange(n_src)[::-1]  # ascending node j is the classical node index N-1-j
    xs = -np.cos(np.pi * (np.arange(n_src) + 0.5) / n_src)
    w = (-1.0) ** m * np.sin((2 * m + 1) * np.pi / (2 * n_src))
    return barycentric_matrix(xs, 2 * (np.asarray(targets, dtype=np.float64) - a) / (b - a) - 1,
                              w)


# -- which grid stored coordinates lie on ----------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """A detected grid: its kind, the ideal (float64) nodes the stored float32 coordinates
    round to (in storage order), the domain (None where unknown) and a remark."""

    kind: str
    nodes: np.ndarray
    lo: float | None
    hi: float | None
    note: str = ""


def _uniform_step(c: np.ndarray, tol: float) -> float | None:
    d = np.diff(c)
    dx = float(d.mean())
    if dx != 0 and np.max(np.abs(d - dx)) <= tol:
        return dx
    return None


def _match(c: np.ndarray, want: np.ndarray, tol: float) -> bool:
    return want.shape == c.shape and float(np.max(np.abs(c - want))) <= tol


def _gauss_bounds(c: np.ndarray) -> tuple[float, float]:
    """(lo, hi) of the Chebyshev Gauss grid whose first and last nodes are c[0], c[-1]."""
    n = c.size
    c0 = (1 - math.cos(math.pi / (2 * n))) / 2
    first, last = (c[0], c[-1]) if c[-1] > c[0] else (c[-1], c[0])
    span = (last - first) / (1 - 2 * c0)
    lo = first - span * c0
    return lo, lo + span


def _round_sig(v: float, span: float) -> float:
    """``v`` rounded to 6 significant digits of the axis span (0 stays 0)."""
    digits = 5 - math.floor(math.log10(span)) if span > 0 else 0
    return float(round(v, digits))


def detect(coords, *, periodic: bool = False, colatitude: bool = False,
           hint: str | None = None, bounds: tuple[float, float] | None = None) -> Grid:
    """The grid of one axis from its stored (float32) coordinates.

    ``periodic``: the file or the card says the axis is periodic; ``colatitude``: a
    sphere's θ axis (radians, in (0, π)); ``hint``: the card's axis kind; ``bounds``: the
    card's domain. Coordinates are compared with each candidate grid to float32
    precision, and the ideal (float64) nodes of the grid that matches are returned.
    """
    c = np.asarray(coords, dtype=np.float64).ravel()
    n = c.size
    if n < 2:
        return Grid(NONUNIFORM, c, None, None, "a single point")
    scale = float(np.max(np.abs(c)))
    span = float(np.ptp(c))
    tol = 64 * EPS32 * max(scale, span) + 1e-12
    asc = c[-1] > c[0]
    dx = _uniform_step(c, tol)
    hint = (hint or "").lower()

    if colatitude or hint in COLATITUDE_KINDS:
        for kind, make in ((EQUIANGULAR, equiangular_colatitudes), (GAUSS, gauss_colatitudes)):
            want = make(n, ascending=asc)
            if _match(c, want, tol):
                return Grid(kind, want, 0.0, math.pi)
        if colatitude:
            return Grid(NONUNIFORM, c, None, None, "colatitudes neither equiangular nor Gauss")

    if dx is not None and (periodic or hint == FOURIER):
        step = abs(dx)
        lo = float(min(c[0], c[-1]))
        if bounds is not None and math.isclose(bounds[1] - bounds[0], (n - 1) * step,
                                               rel_tol=1e-4):
            want = bounds[0] + step * np.arange(n) if asc else bounds[1] - step * np.arange(n)
            return Grid(FOURIER_CLOSED, want, bounds[0], bounds[1],
                        "the grid repeats its first point at the end")
        origin = bounds[0] if bounds is not None and abs(lo - bounds[0]) < step / 2 + tol \
            else lo
        return Grid(FOURIER, c.copy(), origin, origin + n * step)

    for kind, make in ((CHEBYSHEV, chebyshev_nodes), (LOBATTO, lobatto_nodes)):
        if n < 3:
            break
        lo, hi = (_gauss_bounds(c) if kind == CHEBYSHEV
                  else (min(c[0], c[-1]), max(c[0], c[-1])))
        # float32 coordinates give the walls to ~1e-7 only: prefer round bounds whose
        # nodes round to exactly the stored coordinates
        rlo, rhi = _round_sig(lo, span), _round_sig(hi, span)
        if (rlo, rhi) != (lo, hi) and np.max(np.abs(
                make(n, rlo, rhi, asc).astype(np.float32) - c)) <= EPS32 * max(scale, span):
            lo, hi = rlo, rhi
        if bounds is not None and hint in (CHEBYSHEV, "") and \
                abs(lo - bounds[0]) <= 1e-4 * (bounds[1] - bounds[0]) and \
                abs(hi - bounds[1]) <= 1e-4 * (bounds[1] - bounds[0]):
            lo, hi = bounds
        want = make(n, lo, hi, asc)
        if (dx is None or hint == CHEBYSHEV) and _match(c, want, tol):
            return Grid(kind, want, lo, hi)

    if dx is not None:
        step = abs(dx)
        first, last = min(c[0], c[-1]), max(c[0], c[-1])
        if bounds is not None:
            lo, hi = bounds
            if abs(first - lo) <= tol and abs(last - hi) <= tol:
                want = np.linspace(lo, hi, n)
                return Grid(UNIFORM, want if asc else want[::-1], lo, hi)
            if abs(first - lo - step / 2) <= tol + 1e-6 * step and \
                    abs(hi - last - step / 2) <= tol + 1e-6 * step:
                want = lo + (np.arange(n) + 0.5) * (hi - lo) / n
                return Grid(CELLS, want if asc else want[::-1], lo, hi)
        return Grid(UNIFORM, c.copy(), None, None,
                    "uniform grid; where its walls are is unknown without a card")
    return Grid(NONUNIFORM, c.copy(), None, None)
