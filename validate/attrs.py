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


def _utf8(s: str) -> bool:
    """Whether a str is real text: h5py decodes stored bytes that are not UTF-8 with
    surrogate escapes (lone surrogates), which no encoder accepts."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def as_str(v) -> str | None:
    return v if isinstance(v, str) and _utf8(v) else None


def text(v) -> str | None:
    """A text attribute (str, or bytes holding UTF-8) as str; None for anything else,
    bytes that are not UTF-8 included (a hostile file's names and units)."""
    if isinstance(v, str):
        return v if _utf8(v) else None
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def not_utf8(v) -> bool:
    """Whether ``v`` is bytes (or an array or list of them) that are not UTF-8 text."""
    if isinstance(v, np.void):
        v = v.tobytes()
    if isinstance(v, (bytes, str)):
        return text(v) is None
    if isinstance(v, np.ndarray) and v.dtype.kind in "SOU":
        v = v.ravel().tolist()
    if isinstance(v, list):
        return any(isinstance(x, (bytes, str)) and text(x) is None for x in v)
    return False


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
        return list(items) if all(_utf8(x) for x in items) else None
    if all(isinstance(x, bytes) for x in items):
        out = [text(x) for x in items]
        return None if None in out else out  # bytes that are not UTF-8: not text
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
