"""The shared streaming pass: each field of a file is read once, in blocks of whole
frames of one trajectory (or, when one frame is larger than the block budget, in slabs
along the first spatial axis), into reused buffers (two when a second thread reads
ahead, see ``run_stream``). Reducers subscribe to the pass; checks read the reducers'
results and never touch h5py themselves.

Per block the pass computes cheap per-frame statistics once (:class:`FrameStats`: sum
and sum of squares per tensor component, and a signature of the frame) that every
reducer may use; a reducer that needs the raw values gets the block too.

Writing a reducer (for the physics checks of a later level)::

    @reducer("energy")
    class Energy(Reducer):
        def wants(ctx, field): return field.order == 1
        def block(self, blk): ...           # blk.data: (nf, *frame) float32 view
        def end_trajectory(self, traj): ...
        def result(self): return {...}

and a check with ``@check(..., needs=("energy",))`` reads
``ctx.results["energy"][field.path]`` (or iterates ``field_results(ctx, "energy")``). Reducers must not keep references to
``blk.data``: the buffer is reused (and, reading ahead, refilled while the next block
is processed).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .findings import region
from .lanes import FrameStats, frame_stats
from .safe_open import first_line

REDUCERS: dict[str, type] = {}
#: raw chunk reads only pay off for frames of at least this size (one call per frame)
DIRECT_MIN_BYTES = 64 << 10


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

    @cached_property
    def nonfinite(self) -> np.ndarray:
        """(nf,) bool: the frames holding a NaN or an Inf (WF300 reports them, once;
        the checks that would read them leave them out). From the frame sums, which NaN
        and Inf propagate into; a frame whose float32 sums merely overflowed is
        confirmed finite on its data."""
        st = self.stats
        bad = ~(np.isfinite(st.sum).all(axis=1) & np.isfinite(st.sumsq).all(axis=1))
        for k in np.flatnonzero(bad):  # rare
            bad[k] = not np.isfinite(self.data[k]).all()
        return bad


class ReadPlan:
    """How a field is cut into blocks (whole frames, or slabs of a frame) within the byte
    budget, and whether its chunks can be read raw."""

    def __init__(self, field, dset, budget: int, direct: bool = True):
        self.field = field
        self.frame = field.frame_shape
        self.n_traj = field.shape[0] if field.sample_varying else None
        self.n_time = field.shape[int(bool(field.sample_varying))] if field.time_varying else 1
        frame_bytes = max(1, math.prod(self.frame)) * 4
        self.frame_bytes = frame_bytes
        self.direct = False
        if frame_bytes <= budget or not self.frame:
            self.rows_per_slab = None
            nf = max(1, budget // frame_bytes)
            chunks = dset.chunks
            if field.time_varying and chunks:
                ct = chunks[int(bool(field.sample_varying))]
                if 1 < ct <= nf:
                    nf -= nf % ct
            self.frames_per_block = min(nf, self.n_time)
            # Fast path: one uncompressed little-endian float32 chunk per frame (what
            # WellWriter writes) is read raw with H5Dread_chunk, straight into the buffer.
            lead = field.lead
            self.direct = bool(
                direct and frame_bytes >= DIRECT_MIN_BYTES
                and chunks and tuple(chunks) == (1,) * lead + tuple(self.frame)
                and dset.dtype == np.dtype("<f4") and lead > 0
                and dset.id.get_create_plist().get_nfilters() == 0)
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


def frames_equal(dset, field, traj: int | None, t1: int, t2: int, budget: int) -> bool:
    """Whether two frames of a trajectory are bit-for-bit equal, read fresh from the file
    in slabs of at most ``budget`` bytes each (the rare confirmation path)."""
    lead = ([traj] if field.sample_varying else [])
    frame = field.frame_shape
    row_bytes = max(1, math.prod(frame[1:]) * dset.dtype.itemsize) if frame else 1
    rows = max(1, budget // (2 * row_bytes))
    n = frame[0] if frame else 1
    for r0 in range(0, n, rows):
        tail = [slice(r0, min(n, r0 + rows))] if frame else []
        a = dset[tuple(lead + [t1] + tail)]
        b = dset[tuple(lead + [t2] + tail)]
        if not np.array_equal(a, b):
            return False
    return True


@dataclass
class Read:
    """One block to read: frames t0 .. t0 + nf - 1 of a trajectory (and slab)."""

    traj: int | None
    slab: int
    rows: slice | None
    t0: int
    nf: int
    last: bool  # the trajectory's last block


def _schedule(plan: ReadPlan) -> list[Read]:
    out = []
    for traj in plan.trajectories():
        for s_i, rows in enumerate(plan.slabs()):
            for t0 in range(0, plan.n_time, plan.frames_per_block):
                out.append(Read(traj, s_i, rows, t0,
                                min(plan.frames_per_block, plan.n_time - t0), False))
        out[-1].last = True
    return out


def _read(dset, plan: ReadPlan, rd: Read, buf: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Fill ``buf`` with the block ``rd``: (the block's view, None) or (_, why not)."""
    shape = plan.frame if rd.rows is None else (rd.rows.stop - rd.rows.start, *plan.frame[1:])
    data = buf[: rd.nf * math.prod(shape)].reshape((rd.nf, *shape))
    if plan.direct and _read_chunks(dset, plan, rd.traj, rd.t0, data):
        return data, None
    sel = plan.selection(rd.traj, rd.t0, rd.nf, rd.rows)
    try:
        if sel:
            dset.read_direct(data.reshape(_sel_shape(plan, rd.nf, shape)), source_sel=sel)
        else:
            dset.read_direct(data.reshape(shape))
    except Exception as e:  # noqa: BLE001 - truncated/corrupt data
        return data, f"read failed: {first_line(e)}"
    return data, None


def read_ahead(opts) -> bool:
    """Whether the streaming pass reads ahead in a second thread: ``limits.prefetch``,
    unless ``--jobs`` already keeps every core busy (one thread per file then)."""
    return bool(opts.limits.prefetch) and 2 * max(1, opts.jobs) <= (os.cpu_count() or 1)


def field_results(ctx, name: str):
    """(field, result) for every field the reducer ``name`` produced a result for."""
    for f in ctx.layout.fields:
        r = ctx.results.get(name, {}).get(f.path)
        if r is not None:
            yield f, r


def run_stream(ctx, names: list[str]) -> None:
    """Stream every field of the file once, feeding the named reducers.

    With ``limits.prefetch`` (the default; see ``read_ahead``) a second thread reads the
    next block into a second buffer while the reducers work on the current one: reading
    (a copy out of the page cache, or decompression) and the reducers' numpy work
    overlap, since both run without the GIL. The order of blocks, and so every result,
    is the same either way."""
    budget = ctx.options.limits.block_bytes
    classes = [REDUCERS[n] for n in names if n in REDUCERS]
    if not classes:
        return
    pool = None
    fields = [f for f in ctx.layout.fields if f.streamable]
    if read_ahead(ctx.options) and sum(math.prod(f.shape) for f in fields) * 4 > budget:
        # (a file of one block has nothing to read ahead: no thread)
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(1, thread_name_prefix="wellforge-read")
    try:
        for field in fields:
            dset = ctx.get(field.path)
            active = [cls(ctx, field, dset) for cls in classes if cls.wants(ctx, field)]
            if active and _stream_field(ctx, field, dset, active, budget, pool):
                for r in active:
                    ctx.results.setdefault(r.name, {})[field.path] = r.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _stream_field(ctx, field, dset, active, budget: int, pool) -> bool:
    """Feed every block of one field to ``active``; False when a read failed."""
    plan = ReadPlan(field, dset, budget, ctx.options.limits.direct_chunks)
    size = plan.frames_per_block * max(1, math.prod(
        plan.frame if plan.rows_per_slab is None else (plan.rows_per_slab, *plan.frame[1:])))
    bufs = [np.empty(size, dtype=np.float32) for _ in range(2 if pool else 1)]
    reads = _schedule(plan)
    if not reads:
        return True
    ahead = pool.submit(_read, dset, plan, reads[0], bufs[0]) if pool else None
    try:
        for i, rd in enumerate(reads):
            if pool:
                data, err = ahead.result()
                ahead = (pool.submit(_read, dset, plan, reads[i + 1], bufs[(i + 1) % 2])
                         if i + 1 < len(reads) else None)
            else:
                data, err = _read(dset, plan, rd, bufs[0])
            if err:
                ctx.stream_errors.append((field.path, region(
                    trajectory=rd.traj, time=(rd.t0, rd.t0 + rd.nf - 1)
                    if field.time_varying else None), err))
                return False
            blk = Block(rd.traj, rd.t0, data, field.ncomp, rd.rows, rd.slab)
            for r in active:
                r.block(blk)
            if rd.last:
                for r in active:
                    r.end_trajectory(rd.traj)
    finally:
        if ahead is not None:
            ahead.result()  # never leave a read writing into a buffer being dropped
    return True


def _sel_shape(plan: ReadPlan, nf: int, shape) -> tuple[int, ...]:
    """Shape of the selected region (h5py drops integer-indexed axes)."""
    return ((nf,) if plan.field.time_varying else ()) + tuple(shape)


def _read_chunks(dset, plan: ReadPlan, traj, t0: int, data: np.ndarray) -> bool:
    """Read whole-frame chunks raw into ``data``; False (caller falls back to a normal
    read) when a chunk is missing, filtered or not exactly one frame of bytes."""
    raw = data.reshape(data.shape[0], -1).view(np.uint8)
    zeros = (0,) * len(plan.frame)
    try:
        for j in range(data.shape[0]):
            t = t0 + j
            off = ((traj,) if plan.n_traj is not None else ()) + \
                ((t,) if plan.field.time_varying else ()) + zeros
            mask, mv = dset.id.read_direct_chunk(off, out=raw[j])
            if mask != 0 or len(mv) != plan.frame_bytes:
                return False
    except Exception:  # noqa: BLE001 - unallocated chunk etc.: the normal read decides
        return False
    return True
