"""Initial-condition helpers shared by system modules.

Everything here is evaluated at the *local* grid points of a process (``dist.local_grids``)
from draws that do not depend on the process mesh, so a run gives the same initial
condition on 1 or N ranks. Random draws come from ``numpy.random.default_rng(seed)`` with
the run's seed (or Dedalus ``fill_random`` in the modules themselves).
"""

from __future__ import annotations

import numpy as np


def global_min_max(values: np.ndarray, comm=None) -> tuple[float, float]:
    """Minimum and maximum of a distributed array (all ranks get the same numbers)."""
    lo = float(np.min(values)) if values.size else np.inf
    hi = float(np.max(values)) if values.size else -np.inf
    if comm is not None and comm.size > 1:
        from mpi4py import MPI

        lo, hi = comm.allreduce(lo, op=MPI.MIN), comm.allreduce(hi, op=MPI.MAX)
    return lo, hi


def min_max_normalise(values: np.ndarray, comm=None) -> np.ndarray:
    """``(f - min f) / (max f - min f)``: values in [0, 1] over the whole domain."""
    lo, hi = global_min_max(values, comm)
    return (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)


def periodic_gaussians(rng: np.random.Generator, x: np.ndarray, y: np.ndarray,
                       bounds: tuple[tuple[float, float], tuple[float, float]],
                       count: tuple[int, int], amplitude: tuple[float, float],
                       sharpness: tuple[float, float]) -> np.ndarray:
    """Sum of m random Gaussian bumps ``a exp(-s |r - c|^2)`` on a periodic box.

    m is uniform in the integers ``count`` (inclusive), a, s uniform in ``amplitude``,
    ``sharpness``, centres c uniform in the box; each bump is periodised by adding its
    copies in the 3 × 3 tiled boxes (as the Well's Gray–Scott generator does).
    """
    (ax, bx), (ay, by) = bounds
    lx, ly = bx - ax, by - ay
    m = int(rng.integers(count[0], count[1] + 1))
    a = rng.uniform(*amplitude, size=m)
    s = rng.uniform(*sharpness, size=m)
    cx = ax + lx * rng.uniform(size=m)
    cy = ay + ly * rng.uniform(size=m)
    out = np.zeros(np.broadcast_shapes(x.shape, y.shape))
    for sx in (-lx, 0.0, lx):
        for sy in (-ly, 0.0, ly):
            for ai, si, xi, yi in zip(a, s, cx + sx, cy + sy):
                out += ai * np.exp(-si * ((x - xi) ** 2 + (y - yi) ** 2))
    return out


def _trig_matrix(n: int, bounds: tuple[float, float], points: np.ndarray) -> np.ndarray:
    """E (len(points) × n) with E @ fft(v)/n = trigonometric interpolant of v (values at n
    uniform points of the periodic interval ``bounds``) at ``points``. For even n the
    Nyquist mode is the real cosine, so real data give a real interpolant."""
    a, b = bounds
    k = np.fft.fftfreq(n, 1.0 / n)
    theta = 2 * np.pi * (np.ravel(points)[:, None] - a) / (b - a)
    E = np.exp(1j * k[None, :] * theta)
    if n % 2 == 0:
        E[:, n // 2] = np.cos(n / 2 * theta[:, 0])
    return E


def trig_interpolate(values: np.ndarray, bounds, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Trigonometric interpolant of 2-D periodic grid ``values`` (uniform points of the box
    ``bounds = ((ax, bx), (ay, by))``) evaluated on the tensor grid of ``x`` and ``y``
    (broadcastable local grids, as from ``dist.local_grids``)."""
    nx, ny = values.shape
    c = np.fft.fft2(values) / (nx * ny)
    Ex = _trig_matrix(nx, bounds[0], x)
    Ey = _trig_matrix(ny, bounds[1], y)
    return np.real(Ex @ c @ Ey.T)


def band_limited_noise(rng: np.random.Generator, n: int, bounds, x: np.ndarray,
                       y: np.ndarray) -> np.ndarray:
    """Uniform noise in [-1/2, 1/2) drawn on an n × n uniform grid, trigonometrically
    interpolated to (x, y): smooth noise with at most n/2 modes per direction (Chebfun's
    ``chebfun2(rand(n) - 0.5, dom, 'trig')``)."""
    return trig_interpolate(rng.uniform(size=(n, n)) - 0.5, bounds, x, y)


def global_rms(values: np.ndarray, comm=None, n_points: int | None = None) -> float:
    """Root mean square over a distributed grid array (all ranks get the same number);
    tensor components are summed, ``n_points`` is the global number of grid points."""
    total = float(np.sum(np.asarray(values) ** 2))
    count = n_points if n_points is not None else np.asarray(values).size
    if comm is not None and comm.size > 1:
        total = comm.allreduce(total)
        if n_points is None:
            count = comm.allreduce(count)
    return float(np.sqrt(total / count))


def smooth_noise(field, seed: int, modes: tuple[int, ...]) -> None:
    """Fill a Dedalus field with normal noise (``fill_random``: the same global data for any
    process mesh) and keep only the coefficients of a grid of ``modes`` points per axis,
    i.e. wavenumbers below modes/2 on Fourier axes."""
    field.fill_random("g", seed=int(seed), distribution="normal")
    field.low_pass_filter(shape=tuple(modes))
