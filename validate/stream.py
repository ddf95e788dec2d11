"""The shared streaming pass: each field of a file is read once, in blocks of whole
frames of one trajectory (or, when one frame is larger than the block budget, in slabs
along the first spatial axis), into one reused buffer. Reducers subscribe to the pass;
checks read the reducers' results and never touch h5py themselves.

Per block the pass computes cheap per-frame statistics once (:class:`FrameStats`: sum,
min and max per tensor component, sum of squares and a random projection per frame)
that every reducer may use; a reducer that needs the raw values gets the block too.

Writing a reducer (for the physics checks of a later level)::

    @reducer("energy")
    class Energy(Reducer):
        def wants(ctx, field): return field.order == 1
        def block(self, blk): ...           # blk.data: (nf, *frame) float32 view
        def end_trajectory(self, traj): ...
        def result(self): return {...}

and a check with ``@check(..., needs=("energy",))`` reads
``ctx.results["energy"][field.path]``. Reducers must not keep references to
``blk.data``: the buffer is reused for the next block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .findings import region

REDUCERS: dict[str, type] = {}


def reducer(name: str):
    def deco(cls):
        cls.name = name
        REDUCERS[name] = cls
        return cls

    return deco


class Reducer:
    name = ""

    def __init__(self, ctx, field, dset):
        self.ctx, self.field, self.dset = ctx, field, dset

    @staticmethod
    def wants(ctx, field) -> bool:
        return True

    def block(self, blk: Block) -> None:
        pass

    def end_trajectory(self, traj: int | None) -> None:
        pass

    def result(self):
        return None


def _lane_reduce(x: np.ndarray, ufunc, to64: bool) -> np.ndarray:
    """Reduce ``x`` of shape (nf, P, nc) over P to (nf, nc), vectorised along contiguous
    lanes (a plain reduction over a strided axis is ~20x slower for small nc)."""
    nf, p, nc = x.shape
    lanes = 1024 if p >= 8192 else 32 if p >= 256 else 0
    if not lanes:
        r = ufunc.reduce(x, axis=1)
        return r.astype(np.float64) if to64 else r
    m = p // lanes
    head = x[:, : m * lanes].reshape(nf, m, lanes * nc)
    r = ufunc.reduce(head, axis=1)
    if to64:
        r = r.astype(np.float64)
    r = _lane_reduce(r.reshape(nf, lanes, nc), ufunc, False)
    if m * lanes < p:
        tail = ufunc.reduce(x[:, m * lanes:], axis=1)
        r = ufunc(r, tail.astype(np.float64) if to64 else tail)
    return r


@dataclass
class FrameStats:
    """Per-frame statistics of one block (frames along axis 0)."""

    sum: np.ndarray  # (nf, nc) float64
    min: np.ndarray  # (nf, nc)
    max: np.ndarray  # (nf, nc)
    sumsq: np.ndarray  # (nf,) float64
    proj: np.ndarray  # (nf,) float64, projection on a fixed pseudo-random vector


_WEIGHTS: dict[int, np.ndarray] = {}


def _weights(n: int) -> np.ndarray:
    w = _WEIGHTS.get(n)
    if w is None:
        if len(_WEIGHTS) > 8:
            _WEIGHTS.clear()
        w = np.random.default_rng(12345).standard_normal(n).astype(np.float32)
        _WEIGHTS[n] = w
    return w


def frame_stats(data: np.ndarray, nc: int) -> FrameStats:
    nf = data.shape[0]
    flat = data.reshape(nf, -1)
    x = flat.reshape(nf, -1, nc)
    with np.errstate(all="ignore"):
        s = _lane_reduce(x, np.add, True)
        mn = _lane_reduce(x, np.minimum, False)
        mx = _lane_reduce(x, np.maximum, False)
        sq = np.array([float(np.dot(r, r)) for r in flat])
        pj = (flat @ _weights(flat.shape[1])).astype(np.float64)
    return FrameStats(s, mn, mx, sq, pj)


@dataclass
class Block:
    traj: int | None
    t0: int  # index of the first frame (0 when the field is not time-varying)
    data: np.ndarray  # (nf, *frame or slab shape), float32, a view of the reused buffer
    nc: int
    rows: slice | None  # slab of the first spatial axis, None for whole frames
    slab: int  # slab index (0 for whole frames)

    @property
    def nf(self) -> int:
        return self.data.shape[0]

    @cached_property
    def stats(self) -> FrameStats:
        return frame_stats(self.data, self.nc)


class Plan:
    """How a field is cut into blocks within the byte budget."""

    def __init__(self, field, dset, budget: int):
        self.field = field
        self.frame = field.frame_shape
        self.n_traj = field.shape[0] if field.sample_varying else None
        self.n_time = field.shape[int(bool(field.sample_varying))] if field.time_varying else 1
        frame_bytes = max(1, math.prod(self.frame)) * 4
        if frame_bytes <= budget or not self.frame:
            self.rows_per_slab = None
            nf = max(1, budget // frame_bytes)
            chunks = dset.chunks
            if field.time_varying and chunks:
                ct = chunks[int(bool(field.sample_varying))]
                if 1 < ct <= nf:
                    nf -= nf % ct
            self.frames_per_block = min(nf, self.n_time)
        else:
            row_bytes = frame_bytes // self.frame[0]
            self.rows_per_slab = max(1, budget // max(row_bytes, 1))
            self.frames_per_block = 1

    def trajectories(self):
        return range(self.n_traj) if self.n_traj is not None else [None]

    def slabs(self):
        if self.rows_per_slab is None:
            return [None]
        n = self.frame[0]
        return [slice(r, min(n, r + self.rows_per_slab)) for r in range(0, n, self.rows_per_slab)]

    def selection(self, traj, t0, nf, rows):
        sel = []
        if self.n_traj is not None:
            sel.append(traj)
        if self.field.time_varying:
            sel.append(slice(t0, t0 + nf))
        if rows is not None:
            sel.append(rows)
        return tuple(sel)


def read_frame(dset, field, traj: int | None, t: int) -> np.ndarray:
    """One frame read fresh from the file (the rare confirmation path)."""
    sel = []
    if field.sample_varying:
        sel.append(traj)
    if field.time_varying:
        sel.append(t)
    return np.asarray(dset[tuple(sel)] if sel else dset[()])


def run_stream(ctx, names: list[str]) -> None:
    """Stream every field of the file once, feeding the named reducers."""
    budget = ctx.options.limits.block_bytes
    classes = [REDUCERS[n] for n in names if n in REDUCERS]
    if not classes:
        return
    for field in ctx.layout.fields:
        if not field.streamable:
            continue
        dset = ctx.get(field.path)
        active = [cls(ctx, field, dset) for cls in classes if cls.wants(ctx, field)]
        if not active:
            continue
        plan = Plan(field, dset, budget)
        buf = np.empty(plan.frames_per_block * max(1, math.prod(
            plan.frame if plan.rows_per_slab is None else
            (plan.rows_per_slab, *plan.frame[1:]))), dtype=np.float32)
        ok = True
        for traj in plan.trajectories():
            for s_i, rows in enumerate(plan.slabs()):
                for t0 in range(0, plan.n_time, plan.frames_per_block):
                    nf = min(plan.frames_per_block, plan.n_time - t0)
                    shape = (plan.frame if rows is None
                             else (rows.stop - rows.start, *plan.frame[1:]))
                    data = buf[: nf * math.prod(shape)].reshape((nf, *shape))
                    sel = plan.selection(traj, t0, nf, rows)
                    try:
                        if sel:
                            dset.read_direct(data.reshape(_sel_shape(plan, nf, shape)),
                                             source_sel=sel)
                        else:
                            dset.read_direct(data.reshape(shape))
                    except Exception as e:  # noqa: BLE001 - truncated/corrupt data
                        from .safety import first_line

                        ctx.stream_errors.append((field.path, region(
                            trajectory=traj, time=(t0, t0 + nf - 1) if field.time_varying
                            else None), f"read failed: {first_line(e)}"))
                        ok = False
                        break
                    blk = Block(traj, t0, data, field.ncomp, rows, s_i)
                    for r in active:
                        r.block(blk)
                if not ok:
                    break
            if not ok:
                break
            for r in active:
                r.end_trajectory(traj)
        if ok:
            for r in active:
                ctx.results.setdefault(r.name, {})[field.path] = r.result()


def _sel_shape(plan: Plan, nf: int, shape) -> tuple[int, ...]:
    """Shape of the selected region (h5py drops integer-indexed axes)."""
    return ((nf,) if plan.field.time_varying else ()) + tuple(shape)
