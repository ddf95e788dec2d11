"""Quadrature weights, spectral derivatives and wall extrapolation, per grid kind.

Pure numpy, on top of ``wellforge.schema.grids`` (the one grid vocabulary, the node
formulas, barycentric interpolation and ``detect``, which tells from stored coordinates
which grid they lie on). The L4 reducers integrate, differentiate and extrapolate stored
frames with the rule that is right for the grid the data live on:

============================  ==============================  =========================
grid kind (``grids``)         quadrature (exact for)          derivative / walls
============================  ==============================  =========================
``fourier`` uniform, no       trapezoid = rectangle rule:     FFT (spectral); the seam
duplicate endpoint            every band-limited function      is compared, not the walls
``chebyshev`` Gauss nodes     Fejér's first rule (degree      barycentric matrix; walls
(Dedalus ``ChebyshevT``)      n − 1)                          by exact extrapolation of
                                                              the degree n − 1 interpolant
``lobatto`` (walls included)  Clenshaw–Curtis (degree n − 1)  matrix; walls are nodes
``equiangular`` colatitudes   Fejér-1 in μ = cos θ: the       (sphere divergence by the
θ_j = (j+½)π/n, poles out     sin θ weights (degree n − 1)    double-Fourier extension)
``gauss`` colatitudes         Gauss–Legendre in μ (2n − 1)    —
``uniform`` / ``cells``       trapezoid / midpoint (2nd       2nd-order differences;
(non-periodic, walls on /     order)                          walls by local cubic
half a cell off the grid)                                     extrapolation
``nonuniform``                trapezoid                       2nd-order differences
============================  ==============================  =========================

Every weight vector sums to the measure of its axis (the period, ``hi - lo``, or 2 for a
colatitude axis: ∫ sin θ dθ), so ``weights / weights.sum()`` gives area means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# the grid vocabulary (``AxisGrid.kind`` is one of ``grids.KINDS``) and the node formulas
# are ``grids``'; they are re-exported here for the callers of ``classify``
from wellforge.schema.grids import (  # noqa: F401
    CELLS,
    CHEBYSHEV,
    EQUIANGULAR,
    FOURIER,
    FOURIER_CLOSED,
    GAUSS,
    LOBATTO,
    NONUNIFORM,
    UNIFORM,
    barycentric_matrix,
    barycentric_weights,
    detect,
    equiangular_colatitudes,
    gauss_colatitudes,
)
from wellforge.schema.grids import chebyshev_nodes as chebyshev_gauss_nodes  # noqa: F401
from wellforge.schema.grids import lobatto_nodes as chebyshev_lobatto_nodes  # noqa: F401

from . import scratch
from .lanes import lane_sum, lane_sumsq

#: above this many Chebyshev nodes derivatives go through DCTs (O(n log n)); below, the
#: differentiation matrix with BLAS is faster
DCT_MIN = 512

#: kinds whose derivative is spectral
SPECTRAL_KINDS = (FOURIER, CHEBYSHEV, LOBATTO)


# -- 1-D rules on [-1, 1] -------------------------------------------------------------------

def fejer1(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fejér's first rule: nodes cos θ_k, θ_k = (k + ½)π/n (the Gauss–Chebyshev points,
    descending), and weights that integrate polynomials of degree n − 1 exactly on
    [-1, 1]."""
    theta = (np.arange(n) + 0.5) * np.pi / n
    j = np.arange(1, n // 2 + 1)
    s = (np.cos(2 * np.outer(theta, j)) / (4 * j * j - 1)).sum(axis=1)
    return np.cos(theta), (2.0 / n) * (1 - 2 * s)


def clenshaw_curtis(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Clenshaw–Curtis: nodes cos(πk/(n − 1)) (both ends included, descending) and
    weights exact for polynomials of degree n − 1."""
    if n == 1:
        return np.array([0.0]), np.array([2.0])
    N = n - 1
    theta = np.pi * np.arange(n) / N
    w = np.zeros(n)
    v = np.ones(N - 1)
    if N % 2 == 0:
        w[0] = w[N] = 1.0 / (N * N - 1)
        for k in range(1, N // 2):
            v -= 2 * np.cos(2 * k * theta[1:-1]) / (4 * k * k - 1)
        v -= np.cos(N * theta[1:-1]) / (N * N - 1)
    else:
        w[0] = w[N] = 1.0 / (N * N)
        for k in range(1, (N - 1) // 2 + 1):
            v -= 2 * np.cos(2 * k * theta[1:-1]) / (4 * k * k - 1)
    w[1:-1] = 2 * v / N
    return np.cos(theta), w


def interp_matrix(x: np.ndarray, targets, lam: np.ndarray | None = None) -> np.ndarray:
    """Matrix M (len(targets) × n): M @ f(x) is the degree n − 1 interpolant at targets
    (second barycentric form; exact rows where a target is a node)."""
    return barycentric_matrix(x, targets, lam)


def diff_matrix(x: np.ndarray, lam: np.ndarray | None = None) -> np.ndarray:
    """Differentiation matrix of the degree n − 1 interpolant at its nodes (Berrut &
    Trefethen 2004, with the negative-sum trick for the diagonal)."""
    x = np.asarray(x, dtype=np.float64)
    lam = barycentric_weights(x) if lam is None else lam
    d = x[:, None] - x[None, :]
    np.fill_diagonal(d, 1.0)
    D = (lam[None, :] / lam[:, None]) / d
    np.fill_diagonal(D, 0.0)
    np.fill_diagonal(D, -D.sum(axis=1))
    return D


# -- an axis ------------------------------------------------------------------------------

@dataclass
class AxisGrid:
    """One spatial axis as the L4 checks see it.

    ``nodes`` are the ideal (float64) coordinates the stored float32 ones round to;
    ``weights`` the quadrature weights in storage order; ``lo``/``hi`` the domain (the
    period for a periodic axis; the walls for a bounded one, or None when unknown).
    """

    name: str
    kind: str
    nodes: np.ndarray
    weights: np.ndarray
    lo: float | None
    hi: float | None
    note: str = ""
    #: a second rule of lower order on the same points (non-spectral grids): the
    #: difference of the two estimates the quadrature error of ``weights``
    alt_weights: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return int(self.nodes.size)

    @property
    def period(self) -> float | None:
        if self.kind in (FOURIER, FOURIER_CLOSED) and self.lo is not None:
            return float(self.hi - self.lo)
        return None

    @property
    def uniform_weights(self) -> bool:
        return self.kind == FOURIER

    @property
    def spectral(self) -> bool:
        return self.kind in SPECTRAL_KINDS

    @property
    def has_walls(self) -> bool:
        """Whether the values at both ends of the domain can be evaluated."""
        return self.kind in (CHEBYSHEV, LOBATTO, UNIFORM, CELLS) and self.lo is not None

    @property
    def k_max(self) -> float:
        """Largest wavenumber the grid resolves (rad per length unit), for the float32
        rounding floor of derivative-based checks: π/dx on uniform grids, n²/(hi − lo)·2
        on Chebyshev grids (the endpoint clustering)."""
        span = float(np.ptp(self.nodes)) or 1.0
        if self.kind in (CHEBYSHEV, LOBATTO):
            return 2.0 * self.n ** 2 / (self.hi - self.lo)
        return math.pi * (self.n - 1) / span

    # -- derivative along this axis ---------------------------------------------------
    def derivative(self, a: np.ndarray, axis: int, workers: int = 1,
                   out: np.ndarray | None = None, folded: bool = False) -> np.ndarray:
        """d/dx along ``axis`` of float32 data ``a`` (same shape; float32). Transforms stay
        in float32 (``scipy.fft`` keeps the precision of its input); ``workers``: threads
        of the FFT; ``out``: where a Chebyshev derivative is written (same shape as ``a``,
        derivative axis last in memory order as in ``a``); ``folded``: ``a`` and the result
        are in ``fold_order`` along ``axis`` (Chebyshev grids that have one)."""
        if self.kind == FOURIER:
            import scipy.fft as sf

            n = self.n
            if np.iscomplexobj(a):
                raise ValueError("periodic derivative of complex data: transform instead")
            c = sf.rfft(np.asarray(a, dtype=np.float32), axis=axis, workers=workers)
            k = np.arange(c.shape[axis], dtype=np.float64) * (2 * np.pi / self.period)
            if n % 2 == 0:
                k[-1] = 0.0  # the Nyquist mode has no derivative on the grid
            shape = [1] * a.ndim
            shape[axis] = k.size
            c *= (1j * k).astype(np.complex64).reshape(shape)
            return sf.irfft(c, n=n, axis=axis, workers=workers).astype(np.float32, copy=False)
        if self.kind == CHEBYSHEV and self.n > DCT_MIN:
            return self._dct_derivative(a, axis)
        if self.kind in (CHEBYSHEV, LOBATTO):
            return self._folded_derivative(a, axis, out, folded)
        out = np.gradient(a, self.nodes.astype(np.float32), axis=axis, edge_order=2)
        return out.astype(np.complex64 if np.iscomplexobj(out) else np.float32, copy=False)

    def fold_order(self) -> np.ndarray | None:
        """On Chebyshev grids the derivative can work in *fold order* (``derivative(...,
        folded=True)``): the top half, then the bottom half reversed, then the middle
        node (odd n), so that the even-odd decomposition below reads and writes
        contiguous halves (reversing the innermost axis in place costs 4× a contiguous
        pass). The permutation of the nodes into that order, or None on other grids."""
        if self.kind not in (CHEBYSHEV, LOBATTO) or self.n > DCT_MIN or self.n < 2:
            return None
        n, m = self.n, self.n // 2
        return np.r_[0:m, n - 1:n - 1 - m:-1, [m] if n % 2 else []].astype(np.intp)

    def into_fold_order(self, a: np.ndarray, axis: int) -> None:
        """Put ``a`` (storage order along ``axis``) into ``fold_order`` in place: the fold
        order is the first ⌊n/2⌋ nodes, then the rest reversed (a copy of half the
        array: 4× faster than gathering with the permutation)."""
        sl = [slice(None)] * a.ndim
        sl[axis] = slice(self.n // 2, None)
        seg = a[tuple(sl)]
        seg[...] = np.flip(seg, axis).copy()

    def _folded_derivative(self, a: np.ndarray, axis: int,
                           out: np.ndarray | None = None, folded: bool = False) -> np.ndarray:
        """The differentiation matrix applied at half its cost (the even-odd decomposition,
        Solomonoff 1992): Chebyshev nodes are symmetric about the middle of the axis, so
        D is centro-antisymmetric, D[n−1−i, n−1−j] = −D[i, j]. With m = ⌊n/2⌋, the top
        half u⁺ = u[:m] and the reflected bottom half u⁻ = u[::−1][:m], e = u⁺ + u⁻ (and
        the middle value when n is odd) and o = u⁺ − u⁻: P = H_e e, Q = H_o o with the
        m × m blocks H_e = (A + B)/2, H_o = (A − B)/2 of D's top rows (A = D[:m, :m],
        B = D[:m, ::−1][:, :m]); then (Du)[:m] = P + Q, (Du)[::−1][:m] = Q − P and the
        middle row D[m, :m] · o. Two products of m × m instead of one n × n: half the
        flops, the same derivative (to float32 rounding). ``folded``: ``a`` and the
        result are in ``fold_order``."""
        hit = self._cache.get("fold")
        if hit is None:
            D = diff_matrix(self.nodes)
            n = self.n
            m = n // 2
            A, B = D[:m, :m], D[:m, ::-1][:, :m]
            He = (A + B) / 2
            if n % 2:
                He = np.concatenate([He, D[:m, m:m + 1]], axis=1)  # the middle value
            hit = (m, He.T.astype(np.float32).copy(), ((A - B) / 2).T.astype(np.float32).copy(),
                   D[m, :m].astype(np.float32) if n % 2 else None)
            self._cache["fold"] = hit
        m, HeT, HoT, mid = hit
        n = self.n
        y = np.moveaxis(a, axis, -1)
        if np.iscomplexobj(y):
            HeT, HoT = HeT.astype(np.complex64), HoT.astype(np.complex64)
            mid = None if mid is None else mid.astype(np.complex64)
        half = (*y.shape[:-1], m)
        dt = np.complex64 if np.iscomplexobj(y) else np.float32
        top, bot = (y[..., :m], y[..., m:2 * m]) if folded else (y[..., :m],
                                                                   y[..., ::-1][..., :m])
        e = scratch.buffer("fold-e", (*y.shape[:-1], HeT.shape[0]), dt)
        o = scratch.buffer("fold-o", half, dt)
        np.add(top, bot, out=e[..., :m])
        np.subtract(top, bot, out=o)
        if mid is not None:
            e[..., m] = y[..., 2 * m] if folded else y[..., m]
        P = np.matmul(e, HeT, out=scratch.buffer("fold-p", half, dt))
        Q = np.matmul(o, HoT, out=scratch.buffer("fold-q", half, dt))
        if out is None:
            out = np.empty(y.shape, dtype=dt)
        else:
            out = np.moveaxis(out, axis, -1)
        np.add(P, Q, out=out[..., :m])
        np.subtract(Q, P, out=out[..., m:2 * m] if folded else out[..., ::-1][..., :m])
        if mid is not None:
            out[..., 2 * m if folded else m] = o @ mid
        return np.moveaxis(out, -1, axis)

    def _dct_derivative(self, a: np.ndarray, axis: int) -> np.ndarray:
        """d/dx on Chebyshev–Gauss nodes in O(n log n): DCT-II to the Chebyshev
        coefficients a_k, b_k = 2 Σ_{j>k, j−k odd} j a_j (b_0 halved), DCT-III back. Real
        or complex data (the real and imaginary parts independently)."""
        import scipy.fft as sf

        n = self.n
        asc = self.nodes[-1] > self.nodes[0]
        y = np.moveaxis(a, axis, -1)
        if asc:  # the DCT wants the nodes cos θ_k in that order: descending
            y = y[..., ::-1]
        c = sf.dct(y, type=2, axis=-1, workers=1)
        t = c * np.arange(n, dtype=np.float32) * np.float32(1.0 / n)  # j a_j
        R = np.empty_like(t)
        for par in (0, 1):
            part = t[..., par::2]
            R[..., par::2] = np.cumsum(part[..., ::-1], axis=-1)[..., ::-1]
        x = np.zeros_like(t)
        x[..., : n - 1] = R[..., 1:]  # b_k / 2 = R[k + 1]
        x[..., 0] *= 1.0  # b_0 = R[1] (its halving and the DCT-III's x_0 convention cancel)
        d = sf.dct(x, type=3, axis=-1, workers=1)
        d *= np.float32(2.0 / (self.hi - self.lo))
        if asc:
            d = d[..., ::-1]
        return np.moveaxis(d, -1, axis)

    def tau_projector(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(V, L) on a Chebyshev axis: V (n × 2) holds the Chebyshev-U polynomials of the
        two highest degrees, U_{n−1} and U_{n−2}, at the nodes; L (2 × n) gives their
        coefficients as half the two highest Chebyshev-T coefficients of the data (U_k
        has T_k coefficient 2 and no higher term), so ``f − V (L f)`` removes exactly the
        T_{n−1}, T_{n−2} content of f, the way a tau term enters, and leaves a smooth f
        alone (its top coefficients are its truncation error).

        A Dedalus first-order tau formulation lifts the tau term of a constraint (the
        divergence equation's ``lift(tau_u1)``) into the last mode of the derivative basis
        ChebyshevU: the stored solution satisfies the constraint up to a multiple of
        U_{n−1} (U_{n−2} after truncation to a lower resolution of the other parity)."""
        if self.kind not in (CHEBYSHEV, LOBATTO) or self.n < 4:
            return None
        hit = self._cache.get("tau")
        if hit is None:
            s = np.clip(2 * (self.nodes - self.lo) / (self.hi - self.lo) - 1, -1, 1)
            U = [np.ones_like(s), 2 * s]
            for _ in range(2, self.n):
                U.append(2 * s * U[-1] - U[-2])
            V = np.stack([U[self.n - 1], U[self.n - 2]], axis=1)
            L = 0.5 * self._top_coefficients()
            hit = (V.astype(np.float32), L.astype(np.float32))
            self._cache["tau"] = hit
        return hit

    def _top_coefficients(self) -> np.ndarray:
        """Rows (2 × n) giving the Chebyshev-T coefficients a_{n−1}, a_{n−2} of the
        interpolant through the data at the nodes."""
        n = self.n
        s = np.clip(2 * (self.nodes - self.lo) / (self.hi - self.lo) - 1, -1, 1)
        theta = np.arccos(s)
        if self.kind == CHEBYSHEV:
            return np.stack([(2.0 / n) * np.cos(k * theta) for k in (n - 1, n - 2)])
        c = np.ones(n)
        c[[0, -1]] = 0.5
        return np.stack([(2.0 / (n - 1)) * c * np.cos(k * theta) * (0.5 if k == n - 1
                                                                     else 1.0)
                         for k in (n - 1, n - 2)])

    def remove_tau(self, a: np.ndarray, axis: int, inplace: bool = False,
                   folded: bool = False) -> np.ndarray:
        """``a`` (real or complex) minus its component along U_{n−1}, U_{n−2} (see
        ``tau_projector``) along ``axis``; ``inplace``: subtract from ``a`` itself (a
        float32 or complex64 array the caller owns). Complex data are projected as
        their float32 view (real and imaginary parts interleaved, the projector ⊗ I₂):
        real products, no complex temporaries. ``folded``: ``a`` is in ``fold_order``."""
        V, L = self.tau_projector()
        if folded:
            order = self.fold_order()
            V, L = V[order], L[:, order]
        moved = np.moveaxis(a, axis, -1)
        if not inplace:
            moved = moved.astype(np.complex64 if np.iscomplexobj(moved) else np.float32)
        cplx = np.iscomplexobj(moved)
        if cplx:
            key = "tau2-folded" if folded else "tau2"
            hit = self._cache.get(key)
            if hit is None:
                I2 = np.eye(2, dtype=np.float32)
                hit = (np.kron(L.T, I2).astype(np.float32), np.kron(V.T, I2).astype(np.float32))
                self._cache[key] = hit
            LT, VT = hit
            if not moved.flags.c_contiguous:  # the view needs the pairs adjacent
                return self.remove_tau(np.ascontiguousarray(a), axis, True, folded)
            z = moved.view(np.float32)
        else:
            LT, VT = L.T, V.T
            z = moved
        c = z @ LT
        z -= np.matmul(c, VT, out=scratch.buffer("tau", z.shape))
        return np.moveaxis(moved, -1, axis)

    # -- walls ------------------------------------------------------------------------
    def wall_operator(self) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(E, R, Λ): rows of E (2 × n) give the values at the low and high wall; rows of
        R (k × n) estimate the truncation error of that extrapolation (the last two
        Chebyshev coefficients, or cubic minus quadratic extrapolation); Λ = the largest
        Σ_j |E_ij|, the factor by which float32 rounding of the data can grow."""
        if not self.has_walls:
            return None
        hit = self._cache.get("walls")
        if hit is not None:
            return hit
        x, n = self.nodes, self.n
        if self.kind in (CHEBYSHEV, LOBATTO):
            E = interp_matrix(x, [self.lo, self.hi])
            R = self._top_coefficients()
        elif self.kind == UNIFORM and np.isclose(x[0], self.lo) and np.isclose(x[-1], self.hi):
            E = np.zeros((2, n))
            E[0, 0] = E[1, -1] = 1.0
            R = np.zeros((1, n))
        else:  # cell centres (or any uniform grid short of the walls): local extrapolation
            m = min(4, n)
            E = np.zeros((2, n))
            R = np.zeros((2, n))
            for row, (idx, wall) in enumerate(((np.arange(m), self.lo),
                                               (np.arange(n - m, n), self.hi))):
                E[row, idx] = interp_matrix(x[idx], [wall])[0]
                if m > 2:
                    lower = idx[:-1] if row == 0 else idx[1:]
                    R[row, idx] = E[row, idx]
                    R[row, lower] -= interp_matrix(x[lower], [wall])[0]
        lam = float(np.abs(E).sum(axis=1).max())
        hit = (E, R, lam)
        self._cache["walls"] = hit
        return hit


def classify(name: str, coords, *, periodic: bool = False, colatitude: bool = False,
             hint: str | None = None, bounds: tuple[float, float] | None = None) -> AxisGrid:
    """The grid of one axis from its stored (float32) coordinates, with its quadrature.

    ``periodic``: the file or the card says the axis is periodic; ``colatitude``: a
    sphere's θ axis (radians, in (0, π)); ``hint``: the card's axis kind; ``bounds``: the
    card's domain. The grid is ``grids.detect``'s (coordinates compared with each
    candidate grid to float32 precision, the ideal float64 nodes of the one that
    matches); the weights are the rule of its kind (the table above).
    """
    g = detect(coords, periodic=periodic, colatitude=colatitude, hint=hint, bounds=bounds)
    c = np.asarray(coords, dtype=np.float64).ravel()
    n = c.size
    alt = None
    note = g.note
    if n < 2:
        w = np.ones(n)
    elif g.kind in (FOURIER, FOURIER_CLOSED):
        step = abs(float(np.diff(c).mean()))
        w = np.full(n, step)
        if g.kind == FOURIER_CLOSED:
            w[[0, -1]] = step / 2
    elif g.kind in (CHEBYSHEV, LOBATTO):
        w = (fejer1 if g.kind == CHEBYSHEV else clenshaw_curtis)(n)[1] * (g.hi - g.lo) / 2
    elif g.kind == EQUIANGULAR:
        w = fejer1(n)[1]  # symmetric, so storage order does not matter
    elif g.kind == GAUSS:
        w = np.polynomial.legendre.leggauss(n)[1]  # symmetric too
    elif g.kind == UNIFORM:
        step = (g.hi - g.lo) / (n - 1) if g.lo is not None else abs(float(np.diff(c).mean()))
        w, alt = _uniform_rules(n, step)
    elif g.kind == CELLS:
        w = np.full(n, (g.hi - g.lo) / n)
    elif colatitude:  # neither equiangular nor Gauss colatitudes: trapezoid in cos θ
        mu = np.cos(c)
        w = np.abs(_trapezoid_weights(mu))
        alt = _coarse_trapezoid(mu)  # None below 5 points
        alt = None if alt is None else np.abs(alt)
        note += ": trapezoid in cos θ"
    else:
        w, alt = np.abs(_trapezoid_weights(c)), _coarse_trapezoid(c)
    return AxisGrid(name, g.kind, g.nodes, w, g.lo, g.hi, note, alt_weights=alt)


def _uniform_rules(n: int, step: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Gregory's rule (trapezoid with end corrections, exact for cubics) and, as the
    error estimate's partner, the trapezoid; the trapezoid alone below 7 points."""
    t = np.full(n, step)
    t[[0, -1]] = step / 2
    if n < 7:
        return t, None
    g = np.full(n, step)
    g[[0, -1]] *= 3 / 8
    g[[1, -2]] *= 7 / 6
    g[[2, -3]] *= 23 / 24
    return g, t


def _coarse_trapezoid(x: np.ndarray) -> np.ndarray | None:
    """Trapezoid weights on every other point (the last point always kept)."""
    if x.size < 5:
        return None
    idx = np.unique(np.r_[np.arange(0, x.size, 2), x.size - 1])
    w = np.zeros(x.size)
    w[idx] = _trapezoid_weights(x[idx])
    return w


def _trapezoid_weights(x: np.ndarray) -> np.ndarray:
    d = np.diff(x)
    w = np.zeros(x.size)
    w[:-1] += d / 2
    w[1:] += d / 2
    return w


# -- several axes -------------------------------------------------------------------------

def mean_weights(axes: list[AxisGrid], alt: int | None = None) -> np.ndarray:
    """Flattened (C order) weights of the tensor-product rule, normalised to sum 1, as
    float64 (n_0 · … · n_{D−1},); with ``alt``, that axis's ``alt_weights`` instead."""
    w = np.ones(1)
    for i, a in enumerate(axes):
        aw = a.alt_weights if i == alt else a.weights
        w = np.multiply.outer(w, aw / aw.sum()).ravel()
    return w


def weighted_mean(data: np.ndarray, W32: np.ndarray | None, nc: int) -> np.ndarray:
    """Per frame and component weighted mean of ``data`` (nf, *space[, components]):
    (nf, nc) float64. ``W32``: ``mean_weights`` as float32 (None: equal weights).

    Accurate to ~1e-8 relative: one float32 multiply per value (independent rounding
    errors), then the streaming pass's lane sums (float32 over at most a few hundred
    values per lane, float64 across lanes)."""
    nf = data.shape[0]
    x = data.reshape(nf, -1, nc)
    if W32 is None:
        return lane_sum(x) / x.shape[1]
    return lane_sum(x * W32[None, :, None])


def weighted_meansq(data: np.ndarray, sqrtW32: np.ndarray | None, nc: int) -> np.ndarray:
    """Per frame and component weighted mean of squares: (nf, nc) float64. ``sqrtW32``:
    the square roots of the ``mean_weights`` as float32 (None: equal weights)."""
    nf = data.shape[0]
    x = data.reshape(nf, -1, nc)
    if sqrtW32 is None:
        return lane_sumsq(x) / x.shape[1]
    return lane_sumsq(x * sqrtW32[None, :, None])


def sphere_divergence(u_theta: np.ndarray, u_phi: np.ndarray, theta: AxisGrid,
                      theta_axis: int, phi_axis: int, workers: int = 1
                      ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The two terms of the divergence of a tangent vector field on the unit sphere:
    (1/sin θ) ∂θ(sin θ u_θ) and (1/sin θ) ∂φ u_φ, on an equiangular colatitude grid
    (poles excluded) times a uniform periodic azimuth. Either field may be None: that
    term is not computed (None in its place).

    ∂θ is spectral: for azimuthal mode m, g = sin θ u_θ satisfies g(−θ) = (−1)^m g(θ)
    (the double Fourier sphere: a scalar's parity; u_θ flips sign across the pole and
    sin θ does too), so the n colatitudes extend to 2n equispaced points of a 2π-periodic
    function whose FFT derivative is exact for band-limited fields. Every transform is
    float32 (``scipy.fft`` keeps the precision): the derivative's rounding is ~ε32 times
    the largest wavenumber n, then divided by sin θ ≥ sin(π/2n) ≈ π/2n next to the poles,
    so the terms carry an absolute error of ~ε32 n² max|u| (n = 24: 7e-5 max|u| at
    worst at the pole rows, ~ε32 n max|u| elsewhere).
    """
    if theta.kind != EQUIANGULAR:
        raise ValueError("sphere divergence needs an equiangular colatitude axis")
    n = theta.n
    nodes = theta.nodes
    desc = nodes[-1] < nodes[0]
    sin = np.sin(nodes)
    shape = [1] * (u_theta if u_theta is not None else u_phi).ndim
    shape[theta_axis] = n
    sin_b = sin.reshape(shape).astype(np.float32)
    return (None if u_theta is None else _sphere_theta_term(u_theta, sin_b, n, desc,
                                                              theta_axis, phi_axis, workers),
            None if u_phi is None else _sphere_phi_term(u_phi, sin_b, phi_axis, workers))


def _sphere_theta_term(u_theta, sin_b, n, desc, theta_axis, phi_axis, workers):
    """(1/sin θ) ∂θ(sin θ u_θ) by the double-Fourier extension (float32)."""
    import scipy.fft as sf

    g = np.asarray(u_theta, dtype=np.float32) * sin_b
    if desc:
        g = np.flip(g, axis=theta_axis)
    nphi = g.shape[phi_axis]
    G = sf.fft(g, axis=phi_axis, workers=workers)
    m = np.fft.fftfreq(nphi, 1.0 / nphi)
    mshape = [1] * g.ndim
    mshape[phi_axis] = nphi
    par = ((-1.0) ** np.abs(m)).reshape(mshape).astype(np.float32)
    ext = np.concatenate([G, np.flip(G, axis=theta_axis) * par], axis=theta_axis)
    k = np.fft.fftfreq(2 * n, 1.0 / (2 * n))
    k[n] = 0.0  # Nyquist
    kshape = [1] * g.ndim
    kshape[theta_axis] = 2 * n
    E = sf.fft(ext, axis=theta_axis, workers=workers)
    E *= (1j * k).astype(np.complex64).reshape(kshape)
    dE = sf.ifft(E, axis=theta_axis, workers=workers)
    dG = np.take(dE, np.arange(n), axis=theta_axis)
    dg = sf.ifft(dG, axis=phi_axis, workers=workers).real
    if desc:
        dg = np.flip(dg, axis=theta_axis)
    return dg / sin_b


def _sphere_phi_term(u_phi, sin_b, phi_axis, workers):
    """(1/sin θ) ∂φ u_φ (float32)."""
    import scipy.fft as sf

    nphi = u_phi.shape[phi_axis]
    U = sf.rfft(np.asarray(u_phi, dtype=np.float32), axis=phi_axis, workers=workers)
    mm = np.arange(U.shape[phi_axis], dtype=np.float64)
    if nphi % 2 == 0:
        mm[-1] = 0.0
    ms = [1] * U.ndim
    ms[phi_axis] = mm.size
    U *= (1j * mm).astype(np.complex64).reshape(ms)
    return sf.irfft(U, n=nphi, axis=phi_axis, workers=workers) / sin_b
