"""Work buffers reused across blocks: the large temporaries of the L4 reducers.

A fresh multi-megabyte numpy array is fresh memory from the kernel: every page of it
faults on first touch, and for the spectral checks that costs as much as the arithmetic
(a folded Chebyshev derivative of a 16 MiB block spent 3× its matrix products in page
faults). ``buffer(key, shape)`` hands out the same memory for the same key each time,
per thread (the physics pool splits a block's frames over threads), grown when a larger
shape is asked for. Only for temporaries that do not outlive the function using them.

``over_frames(fn, x, threads)`` runs ``fn`` on slices of a block's frames in a pool of
threads (one pool per process, made when first needed: a forked child makes its own).
"""

from __future__ import annotations

import itertools
import math
import os
import threading

import numpy as np

_local = threading.local()


def buffer(key: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """An uninitialised array of ``shape`` and ``dtype``, the same memory for ``key`` on
    every call from this thread."""
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    dtype = np.dtype(dtype)
    n = math.prod(shape)
    b = bufs.get((key, dtype))
    if b is None or b.size < n:
        b = np.empty(n, dtype)
        bufs[(key, dtype)] = b
    return b[:n].reshape(shape)


_pool: tuple[int, int, object] | None = None  # (pid, threads, executor)


def physics_threads(opts) -> int:
    """``limits.physics_threads``, or (0) the cores left per file by ``--jobs``."""
    n = int(opts.limits.physics_threads)
    if n > 0:
        return n
    return max(1, (os.cpu_count() or 1) // max(1, opts.jobs))


def over_frames(fn, x: np.ndarray, threads: int) -> tuple:
    """``fn(x)`` for a function returning a tuple of per-frame arrays, computed on
    ``threads`` slices of the frames (axis 0) in parallel and concatenated: the same
    numbers as one call."""
    global _pool
    nf = x.shape[0]
    threads = min(threads, nf)
    if threads <= 1:
        return fn(x)
    if _pool is None or _pool[0] != os.getpid() or _pool[1] < threads:
        from concurrent.futures import ThreadPoolExecutor

        _pool = (os.getpid(), threads, ThreadPoolExecutor(threads,
                                                          thread_name_prefix="wellforge-physics"))
    cuts = np.linspace(0, nf, threads + 1).round().astype(int)
    parts = [_pool[2].submit(fn, x[a:b]) for a, b in itertools.pairwise(cuts)]
    res = [f.result() for f in parts]
    return tuple(np.concatenate(r) for r in zip(*res))
