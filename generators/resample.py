"""Spectral resampling of grid data at write time.

Simulate at one resolution, store at another, without picking points:

- Fourier (periodic) axes: truncate or zero-pad the modes. Modes with |k| < n/2 are kept
  and the Nyquist mode of the stored grid is dropped, as in Dedalus's own ``RealFourier``.
- Chebyshev axes: the native data at the N Gauss–Chebyshev nodes determine the degree N−1
  interpolant exactly (that is Dedalus's grid<->coefficient transform), so values anywhere
  (other node counts, a uniform grid, the walls) follow from barycentric interpolation —
  independent of any coefficient normalisation convention.
"""

from __future__ import annotations

import numpy as np

from .system import Axis


def chebyshev_nodes(n: int, bounds: tuple[float, float]) -> np.ndarray:
    """Dedalus ChebyshevT grid (scale 1): Gauss nodes, ascending, walls excluded."""
    a, b = bounds
    return a + (b - a) * (1 - np.cos(np.pi * (np.arange(n) + 0.5) / n)) / 2


def stored_grid(axis: Axis, n: int, mode: str | None = None) -> np.ndarray:
    """Stored coordinates of ``axis`` with ``n`` points.

    ``mode`` for Chebyshev axes: None/"chebyshev" (Gauss nodes, as Dedalus writes them) or
    "uniform" (``n`` equispaced points including both walls).
    """
    a, b = axis.bounds
    if axis.kind == "fourier":
        return a + (b - a) * np.arange(n) / n
    if axis.kind == "chebyshev":
        if mode in (None, "chebyshev"):
            return chebyshev_nodes(n, axis.bounds)
        if mode == "uniform":
            return np.linspace(a, b, n)
    raise ValueError(f"axis {axis.name}: unknown grid kind/mode {axis.kind}/{mode}")


def chebyshev_interp_matrix(n_src: int, targets: np.ndarray, bounds: tuple[float, float]
                            ) -> np.ndarray:
    """Matrix M (len(targets) × n_src) with M @ f(nodes) = interpolant at ``targets``."""
    a, b = bounds
    m = np.arange(n_src)[::-1]  # ascending node j is the classical node index N-1-j
    xs = -np.cos(np.pi * (np.arange(n_src) + 0.5) / n_src)
    w = (-1.0) ** m * np.sin((2 * m + 1) * np.pi / (2 * n_src))
    y = 2 * (np.asarray(targets, dtype=np.float64) - a) / (b - a) - 1
    diff = y[:, None] - xs[None, :]
    exact = np.isclose(diff, 0.0, atol=1e-15, rtol=0)
    diff[exact] = 1.0
    M = w[None, :] / diff
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
    """Maps a global grid array at the simulated resolution to the stored grid."""

    def __init__(self, axes: tuple[Axis, ...], stored: tuple[int, ...], modes: dict[str, str]):
        self.axes, self.stored = axes, tuple(stored)
        self.matrices: dict[int, np.ndarray] = {}
        for i, (ax, n) in enumerate(zip(axes, stored)):
            if ax.kind == "chebyshev":
                targets = stored_grid(ax, n, modes.get(ax.name))
                if n != ax.size or modes.get(ax.name) == "uniform":
                    self.matrices[i] = chebyshev_interp_matrix(ax.size, targets, ax.bounds)

    @property
    def identity(self) -> bool:
        return not self.matrices and all(a.size == n for a, n in zip(self.axes, self.stored))

    def __call__(self, data: np.ndarray) -> np.ndarray:
        """``data``: spatial axes first, then any tensor axes."""
        for i, (ax, n) in enumerate(zip(self.axes, self.stored)):
            if ax.kind == "fourier":
                data = fourier_resample(data, i, n)
            elif i in self.matrices:
                data = np.moveaxis(np.tensordot(self.matrices[i], data, axes=(1, i)), 0, i)
        return data
