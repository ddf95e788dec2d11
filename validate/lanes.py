"""Per-frame sums of float32 data in lanes: float32 sums within a lane of contiguous
values, float64 across lanes and frames.

The arithmetic of the streaming pass (``FrameStats`` of every block: sum and sum of
squares per tensor component, and a signature of each frame), of the quadrature-weighted
means (``quadrature.weighted_mean``, the L4 integrals) and of the Well's statistics
moments (L5): a float32 pass over the data, accurate to ~1e-8 relative, instead of a
float64 copy of every block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FrameStats:
    """Per-frame statistics of one block (frames along axis 0). Two passes over the
    data (sum and sum of squares, per contiguous lane); min/max are left to the rare
    frames that need them (see ``frame_minmax``)."""

    sum: np.ndarray  # (nf, nc) float64
    sumsq: np.ndarray  # (nf, nc) float64
    sig: np.ndarray  # (nf,) float64: projection of the lane sums on fixed random weights


_WEIGHTS: dict[int, np.ndarray] = {}


def _weights(n: int) -> np.ndarray:
    w = _WEIGHTS.get(n)
    if w is None:
        if len(_WEIGHTS) > 16:
            _WEIGHTS.clear()
        # fixed pseudo-random weights in [-1, 1) from a sine hash (importing
        # numpy.random for them cost ~10 ms per validated file)
        w = 2 * np.modf(np.abs(np.sin(np.arange(1, n + 1) * 12.9898) * 43758.5453))[0] - 1
        _WEIGHTS[n] = w
    return w


def _lanes(x: np.ndarray, sums: bool = True, squares: bool = True):
    """Lane sums and sums of squares of ``x`` (nf, P, nc): (nf, lanes*nc) float64 each
    (None when not asked for), and the number of lanes."""
    nf, p, nc = x.shape
    lanes = 1024 if p >= 8192 else 32 if p >= 256 else 1
    m = p // lanes
    head = x[:, : m * lanes].reshape(nf, m, lanes * nc)
    s1 = head.sum(axis=1, dtype=np.float32).astype(np.float64) if sums else None
    s2 = np.einsum("fmk,fmk->fk", head, head).astype(np.float64) if squares else None
    if m * lanes < p:
        tail = x[:, m * lanes:].astype(np.float64)
        if sums:
            s1[:, :nc] += tail.sum(axis=1)
        if squares:
            s2[:, :nc] += (tail * tail).sum(axis=1)
    return s1, s2, lanes


def _fold(s: np.ndarray, lanes: int, nc: int) -> np.ndarray:
    """Per-component totals of lane partials ``s`` (nf, lanes*nc): (nf, nc). A product
    with ones rather than ``reshape(nf, lanes, nc).sum(axis=1)``, whose inner loop runs
    over the nc (often 2 or 4) components and costs nearly a pass over the block."""
    return s.reshape(s.shape[0], lanes, nc).transpose(0, 2, 1) @ np.ones(lanes)


def lane_sum(x: np.ndarray) -> np.ndarray:
    """Sum of ``x`` (k, P, nc) over P, per frame and component: (k, nc) float64."""
    nc = x.shape[-1]
    s1, lanes = _lanes(x, squares=False)[::2]
    return _fold(s1, lanes, nc)


def lane_sumsq(x: np.ndarray) -> np.ndarray:
    """Sum of squares of ``x`` (k, P, nc) over P: (k, nc) float64."""
    nc = x.shape[-1]
    _, s2, lanes = _lanes(x, sums=False)
    return _fold(s2, lanes, nc)


def frame_stats(data: np.ndarray, nc: int) -> FrameStats:
    nf = data.shape[0]
    x = data.reshape(nf, -1, nc)
    with np.errstate(all="ignore"):
        s1, s2, lanes = _lanes(x)
        w = _weights(s1.shape[1])
        sig = s1 @ w + s2 @ w[::-1]
        return FrameStats(_fold(s1, lanes, nc), _fold(s2, lanes, nc), sig)


def frame_minmax(frame: np.ndarray, nc: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact min and max per component of one frame (or slab)."""
    x = frame.reshape(-1, nc)
    return x.min(axis=0), x.max(axis=0)
