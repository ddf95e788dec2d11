"""Spectral resampling of grid data at write time.

Simulate at one resolution, store at another, without picking points:

- Fourier (periodic) axes: truncate or zero-pad the modes. Modes with |k| < n/2 are kept
  and the Nyquist mode of the stored grid is dropped, as in Dedalus's own ``RealFourier``.
- Chebyshev axes: the native data at the N Gauss–Chebyshev nodes determine the degree N−1
  interpolant exactly (that is Dedalus's grid<->coefficient transform), so values anywhere
  (other node counts, a uniform grid, the walls) follow from barycentric interpolation —
  independent of any coefficient normalisation convention.
- Sphere (a "fourier" azimuth axis followed by a "gauss" colatitude axis, Dedalus's
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
from wellforge.schema.grids import (
    CHEBYSHEV,
    FOURIER,
    GAUSS,
    Axis,
    chebyshev_interp_matrix,
    chebyshev_nodes,
    equiangular_colatitudes,
    fourier_nodes,
    gauss_colatitudes,
)


def stored_grid(axis: Axis, n: int, mode: str | None = None) -> np.ndarray:
    """Stored coordinates of ``axis`` with ``n`` points.

    ``mode`` for Chebyshev axes: None/"chebyshev" (Gauss nodes, as Dedalus writes them) or
    "uniform" (``n`` equispaced points including both walls); for sphere colatitude axes:
    None/"equiangular" or "gauss" (Dedalus's Gauss–Legendre colatitudes for ``n`` points).
    """
    a, b = axis.bounds
    if axis.kind == FOURIER:
        return fourier_nodes(n, a, b)
    if axis.kind == CHEBYSHEV:
        if mode in (None, "chebyshev"):
            return chebyshev_nodes(n, a, b)
        if mode == "uniform":
            return np.linspace(a, b, n)
    if axis.kind == GAUSS:
        if mode in (None, "equiangular"):
            return equiangular_colatitudes(n, ascending=False)
        if mode == "gauss":
            return gauss_colatitudes(n, ascending=False)
    raise ValueError(f"axis {axis.name}: unknown grid kind/mode {axis.kind}/{mode}")


def colatitude_interp_matrices(n_src: int, targets: np.ndarray
                               ) -> tuple[np.ndarray, np.ndarray]:
    """(M_even, M_odd), each len(targets) × n_src: M_even @ g(nodes) evaluates the cosine
    polynomial Σ_{k<n} a_k cos kθ through the n Gauss colatitude values, M_odd the sine
    polynomial Σ_{1<=k<=n} b_k sin kθ."""
    nodes = gauss_colatitudes(n_src, ascending=False)
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
            if ax.kind == CHEBYSHEV:
                targets = stored_grid(ax, n, modes.get(ax.name))
                if n != ax.size or modes.get(ax.name) == "uniform":
                    self.matrices[i] = chebyshev_interp_matrix(ax.size, targets, ax.bounds)
            elif ax.kind == GAUSS:
                if i == 0 or axes[i - 1].kind != FOURIER:
                    raise ValueError(f"axis {ax.name}: a gauss colatitude axis must follow its "
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
            elif ax.kind == FOURIER:
                data = fourier_resample(data, i, n)
            elif i in self.matrices:
                data = np.moveaxis(np.tensordot(self.matrices[i], data, axes=(1, i)), 0, i)
        if self.order != list(range(dim)):
            data = np.transpose(data, self.order + list(range(dim, data.ndim)))
            for axis in range(dim, data.ndim):
                data = np.take(data, self.order, axis=axis)
        return data
