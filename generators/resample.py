"""Spectral resampling of grid data at write time.

Simulate at one resolution, store at another, without picking points:

- Fourier (periodic) axes: truncate or zero-pad the modes. Modes with |k| < n/2 are kept
  and the Nyquist mode of the stored grid is dropped, as in Dedalus's own ``RealFourier``.
- Chebyshev axes: the native data at the N Gauss–Chebyshev nodes determine the degree N−1
  interpolant exactly (that is Dedalus's grid<->coefficient transform), so values anywhere
  (other node counts, a uniform grid, the walls) follow from barycentric interpolation —
  independent of any coefficient normalisation convention.
- Sphere (a "fourier" azimuth axis followed by a "sphere_theta" colatitude axis, Dedalus's
  ``SphereBasis`` order): for azimuthal mode m, a band-limited field's θ-dependence is a
  trigonometric polynomial in θ, even (cosines) when m + tensor rank is even and odd
  (sines) otherwise (the double Fourier sphere property; each coordinate component of a
  vector flips the parity). Its N values at the Gauss–Legendre colatitudes determine the N
  coefficients exactly, so any colatitudes (the equiangular grid) follow from two N × N
  solves — exact for fields of degree < N, no spherical-harmonic transform needed.

Stored axes may be ordered differently from the simulated ones (the Well stores the sphere
as (theta, phi)); ``Resampler(order=...)`` transposes the spatial axes and permutes the
components of tensor fields alike.
"""

from __future__ import annotations

import numpy as np

from .system import Axis


def chebyshev_nodes(n: int, bounds: tuple[float, float]) -> np.ndarray:
    """Dedalus ChebyshevT grid (scale 1): Gauss nodes, ascending, walls excluded."""
    a, b = bounds
    return a + (b - a) * (1 - np.cos(np.pi * (np.arange(n) + 0.5) / n)) / 2


def gauss_colatitudes(n: int) -> np.ndarray:
    """Dedalus SphereBasis colatitudes (scale 1): arccos of the Gauss–Legendre nodes,
    descending from near π (south) to near 0 (north)."""
    return np.arccos(np.polynomial.legendre.leggauss(n)[0])


def equiangular_colatitudes(n: int) -> np.ndarray:
    """``n`` equally spaced colatitudes at cell centres, poles excluded, descending like
    Dedalus's grid and the Well's planetswe: θ_j = π − (j + 1/2) π / n."""
    return np.pi - (np.arange(n) + 0.5) * np.pi / n


def stored_grid(axis: Axis, n: int, mode: str | None = None) -> np.ndarray:
    """Stored coordinates of ``axis`` with ``n`` points.

    ``mode`` for Chebyshev axes: None/"chebyshev" (Gauss nodes, as Dedalus writes them) or
    "uniform" (``n`` equispaced points including both walls); for sphere colatitude axes:
    None/"equiangular" or "gauss" (Dedalus's Gauss–Legendre colatitudes for ``n`` points).
    """
    a, b = axis.bounds
    if axis.kind == "fourier":
        return a + (b - a) * np.arange(n) / n
    if axis.kind == "chebyshev":
        if mode in (None, "chebyshev"):
            return chebyshev_nodes(n, axis.bounds)
        if mode == "uniform":
            return np.linspace(a, b, n)
    if axis.kind == "sphere_theta":
        if mode in (None, "equiangular"):
            return equiangular_colatitudes(n)
        if mode == "gauss":
            return gauss_colatitudes(n)
    raise ValueError(f"axis {axis.name}: unknown grid kind/mode {axis.kind}/{mode}")


def colatitude_interp_matrices(n_src: int, targets: np.ndarray
                               ) -> tuple[np.ndarray, np.ndarray]:
    """(M_even, M_odd), each len(targets) × n_src: M_even @ g(nodes) evaluates the cosine
    polynomial Σ_{k<n} a_k cos kθ through the n Gauss colatitude values, M_odd the sine
    polynomial Σ_{1<=k<=n} b_k sin kθ."""
    nodes = gauss_colatitudes(n_src)
    targets = np.asarray(targets, dtype=np.float64)
    out = []
    for basis, k in ((np.cos, np.arange(n_src)), (np.sin, np.arange(1, n_src + 1))):
        at_nodes = basis(np.outer(nodes, k))
        out.append(np.linalg.solve(at_nodes.T, basis(np.outer(targets, k)).T).T)
    return out[0], out[1]


def sphere_resample(data: np.ndarray, phi_axis: int, theta_axis: int, n_phi: int,
                    matrices: tuple[np.ndarray, np.ndarray], rank: int) -> np.ndarray:
    """Resample sphere data (Gauss colatitudes along ``theta_axis``) to ``n_phi`` azimuths
    and the colatitudes of ``matrices`` (from ``colatitude_interp_matrices``)."""
    N = data.shape[phi_axis]
    c = np.moveaxis(np.fft.rfft(data, axis=phi_axis), (phi_axis, theta_axis), (0, 1))
    n_t = matrices[0].shape[0]
    out = np.zeros((n_phi // 2 + 1, n_t, *c.shape[2:]), dtype=c.dtype)
    m = np.arange(min(N, n_phi) // 2)  # Nyquist dropped, as in fourier_resample
    for parity, M in enumerate(matrices):
        sel = m[(m + rank) % 2 == parity]
        block = c[sel].reshape(sel.size, c.shape[1], -1)
        out[sel] = (M.astype(c.dtype) @ block).reshape(sel.size, n_t, *c.shape[2:])
    out = np.moveaxis(out, (0, 1), (phi_axis, theta_axis))
    return np.fft.irfft(out, n=n_phi, axis=phi_axis) * (n_phi / N)


def chebyshev_interp_matrix(n_src: int, targets: np.ndarray, bounds: tuple[float, float]
                            ) -> np.ndarray:
    """Matrix M (len(targets) × n_src) with M @ f(nodes) = interpolant at ``targets``."""
    a, b = bounds
    m = np.arange(n_src)[::-1]  # ascending node j is the classical node index N-1-j
    xs = -np.cos(np.pi * (np.arange(n_src) + 0.5) / n_src)
    w = (-1.0) ** m * np.sin((2 * m + 1) * np.pi / (2 * n_src))  # closed-form weights
    return barycentric_matrix(xs, 2 * (np.asarray(targets, dtype=np.float64) - a) / (b - a) - 1,
                              w)


def barycentric_matrix(x: np.ndarray, targets, lam: np.ndarray) -> np.ndarray:
    """Matrix M (len(targets) × n): M @ f(x) is the degree n − 1 interpolant of values at
    nodes ``x`` with barycentric weights ``lam`` (second form; exact rows at nodes)."""
    t = np.atleast_1d(np.asarray(targets, dtype=np.float64))
    diff = t[:, None] - np.asarray(x, dtype=np.float64)[None, :]
    exact = diff == 0.0
    diff[exact] = 1.0
    M = lam[None, :] / diff
    M /= M.sum(axis=1, keepdims=True)
    rows = exact.any(axis=1)
    M[rows] = exact[rows].astype(float)
    return M


def fourier_resample(a: np.ndarray, axis: int, n: int) -> np.ndarray:
    """Resample real periodic data along ``axis`` to ``n`` points by mode truncation/padding."""
    N = a.shape[axis]
    if n == N:
        return a
    c = np.fft.rfft(a, axis=axis)
    keep = min(N, n) // 2  # modes 0 .. keep-1 kept, Nyquist dropped
    shape = list(c.shape)
    shape[axis] = n // 2 + 1
    out = np.zeros(shape, dtype=c.dtype)
    sl = [slice(None)] * a.ndim
    sl[axis] = slice(0, keep)
    out[tuple(sl)] = c[tuple(sl)]
    return np.fft.irfft(out, n=n, axis=axis) * (n / N)


class Resampler:
    """Maps a global grid array at the simulated resolution to the stored grid.

    ``axes`` and ``stored`` (sizes) are in simulation order; ``order`` (optional) lists,
    for each stored axis, the simulation axis it comes from: the result's spatial axes are
    transposed to that order and tensor components permuted alike.
    """

    def __init__(self, axes: tuple[Axis, ...], stored: tuple[int, ...], modes: dict[str, str],
                 order: list[int] | None = None):
        self.axes, self.stored = axes, tuple(stored)
        self.order = list(order) if order is not None else list(range(len(axes)))
        if sorted(self.order) != list(range(len(axes))):
            raise ValueError(f"order {order} is not a permutation of the {len(axes)} axes")
        self.matrices: dict[int, np.ndarray] = {}
        self.sphere: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # theta axis -> matrices
        for i, (ax, n) in enumerate(zip(axes, stored)):
            if ax.kind == "chebyshev":
                targets = stored_grid(ax, n, modes.get(ax.name))
                if n != ax.size or modes.get(ax.name) == "uniform":
                    self.matrices[i] = chebyshev_interp_matrix(ax.size, targets, ax.bounds)
            elif ax.kind == "sphere_theta":
                if i == 0 or axes[i - 1].kind != "fourier":
                    raise ValueError(f"axis {ax.name}: a sphere_theta axis must follow its "
                                     "fourier azimuth axis")
                self.sphere[i] = colatitude_interp_matrices(
                    ax.size, stored_grid(ax, n, modes.get(ax.name)))

    @property
    def identity(self) -> bool:
        return (not self.matrices and not self.sphere and self.order == sorted(self.order)
                and all(a.size == n for a, n in zip(self.axes, self.stored)))

    def __call__(self, data: np.ndarray) -> np.ndarray:
        """``data``: spatial axes first, then any tensor axes."""
        dim = len(self.axes)
        rank = data.ndim - dim
        for i, (ax, n) in enumerate(zip(self.axes, self.stored)):
            if i + 1 in self.sphere:
                continue  # azimuth: resampled with its colatitude axis
            if i in self.sphere:
                data = sphere_resample(data, i - 1, i, self.stored[i - 1], self.sphere[i],
                                       rank)
            elif ax.kind == "fourier":
                data = fourier_resample(data, i, n)
            elif i in self.matrices:
                data = np.moveaxis(np.tensordot(self.matrices[i], data, axes=(1, i)), 0, i)
        if self.order != list(range(dim)):
            data = np.transpose(data, self.order + list(range(dim, data.ndim)))
            for axis in range(dim, data.ndim):
                data = np.take(data, self.order, axis=axis)
        return data
