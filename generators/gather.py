"""Global data of a distributed Dedalus field: gathered to a group's leader (output
frames, checkpoints) and scattered back (a restored checkpoint); or passed to the leader
one rank's piece at a time (``pieces``: the leader never holds more than one piece)."""

from __future__ import annotations

import numpy as np


def gather(field_, comm, layout: str = "g", root: int = 0) -> np.ndarray | None:
    """Global data of a Dedalus field on ``root`` (None elsewhere), tensor axes first as
    Dedalus stores them: grid values at scale 1 (``"g"``) or coefficients (``"c"``)."""
    if layout == "g":
        field_.change_scales(1)
    local = np.asarray(field_[layout])
    if comm is None or comm.size == 1:
        return local.copy()
    rank = len(field_.tensorsig)
    sl = tuple(field_.layout.slices(field_.domain, field_.scales))
    pieces = comm.gather((sl, local), root=root)
    if comm.rank != root:
        return None
    gshape = tuple(cs.dim for cs in field_.tensorsig) + tuple(
        int(n) for n in field_.layout.global_shape(field_.domain, field_.scales))
    data = np.empty(gshape, dtype=local.dtype)
    for s, piece in pieces:
        data[(slice(None),) * rank + s] = piece
    return data


def scatter_coeffs(field_, data: np.ndarray) -> None:
    """Set a field's coefficients from the global array (every rank takes its part)."""
    field_.change_layout("c")
    rank = len(field_.tensorsig)
    sl = tuple(field_.layout.slices(field_.domain, field_.scales))
    field_.data[...] = data[(slice(None),) * rank + sl]


def gather_global(field_, comm, root: int = 0) -> np.ndarray | None:
    """Global grid data (scale 1) of a Dedalus field on ``root``; spatial axes first."""
    data = gather(field_, comm, "g", root)
    if data is None:
        return None
    rank = len(field_.tensorsig)
    return np.moveaxis(data, list(range(rank)), list(range(data.ndim - rank, data.ndim)))


def pieces(field_, comm, root: int = 0):
    """On ``root``: yield ``(slices, piece)`` for every rank's part of the field's grid data
    (scale 1, spatial axes first, tensor axes last), its own first, then one rank at a time;
    elsewhere: send the part to ``root`` and yield nothing. Every rank must exhaust it. The
    leader's memory stays at one piece (a frame of a 256³ run on 16 ranks: 1/16 of it)."""
    field_.change_scales(1)
    rank = len(field_.tensorsig)
    data = np.asarray(field_["g"])  # grid layout first: its slices are the ones below
    sl = tuple(field_.layout.slices(field_.domain, field_.scales))
    local = np.moveaxis(data, list(range(rank)), list(range(-rank, 0))) if rank else data
    if comm.rank != root:
        comm.send((sl, np.ascontiguousarray(local)), dest=root, tag=71)
        return
    yield sl, local
    for r in range(comm.size):
        if r != root:
            yield comm.recv(source=r, tag=71)
