"""Reading HDF5 attributes tolerantly: a value, ``MISSING`` or an ``Unreadable`` marker,
and typed views of a value that answer None when it has another type.

Every layer reads attributes through these (the layout, the card lookup, the physics
plan, the L1 checks), so a mistyped or unreadable attribute is the finding of the check
that looks for it and never a crash of another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from wellforge.schema.reader import attr_str

MISSING = object()


class Unreadable:
    """An attribute whose value could not be read."""

    def __init__(self, error: str):
        self.error = error

    def __repr__(self):
        return f"<unreadable: {self.error}>"


#: (object id, name) -> value while one file is read (``one_file``), else None
_seen: dict | None = None


@contextmanager
def one_file() -> Iterator[None]:
    """While one file is validated: each attribute is read from HDF5 once (the layout,
    the L1 checks, the card lookup and the physics plan read many of the same; h5py
    takes ~50 us a read). Arrays come back as copies, so no reader sees another's
    changes."""
    global _seen
    before, _seen = _seen, {}
    try:
        yield
    finally:
        _seen = before


def _read(obj, name: str) -> Any:
    try:
        if name not in obj.attrs:
            return MISSING
        return obj.attrs[name]
    except Exception as e:  # noqa: BLE001 - odd types, broken messages
        return Unreadable(f"{type(e).__name__}: {e}")


def read_attr(obj, name: str) -> Any:
    """An attribute's value, ``MISSING``, or an ``Unreadable`` marker."""
    if _seen is None:
        return _read(obj, name)
    try:
        key = (hash(obj.id), name)
    except Exception:  # noqa: BLE001 - not an HDF5 object: no memo
        return _read(obj, name)
    if key not in _seen:
        _seen[key] = _read(obj, name)
    v = _seen[key]
    return v.copy() if isinstance(v, np.ndarray) else v


def as_bool(v) -> bool | None:
    return bool(v) if isinstance(v, (bool, np.bool_)) else None


def as_int(v) -> int | None:
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    return None


def as_str(v) -> str | None:
    return v if isinstance(v, str) else None


def as_str_list(v) -> list[str] | None:
    """A list of str, as the Well's checker wants it (list or 1-D array)."""
    if isinstance(v, np.ndarray) and v.ndim == 1:
        if v.size == 0:
            return []
        items = v.tolist()
    elif isinstance(v, list):
        items = v
    else:
        return None
    if all(isinstance(x, str) for x in items):
        return list(items)
    if all(isinstance(x, bytes) for x in items):
        return [attr_str(x) for x in items]
    return None


def as_bool_list(v) -> list[bool] | None:
    if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype == np.bool_:
        return [bool(x) for x in v]
    if isinstance(v, list) and all(isinstance(x, (bool, np.bool_)) for x in v):
        return [bool(x) for x in v]
    return None


def flags(obj) -> tuple[bool | None, bool | None]:
    """(@sample_varying, @time_varying) of an object, each None when missing or mistyped."""
    return as_bool(read_attr(obj, "sample_varying")), as_bool(read_attr(obj, "time_varying"))
