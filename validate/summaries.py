"""A file's result as JSON, and back: what the result cache stores and what a JSON report
carries per file for the dataset checks (``--slice``, ``merge-reports``).

A file's result is what ``runner.validate_file`` returns: its findings, its layout
``facts``, the ``summary`` (the results of the reducers the dataset checks asked for:
content hashes per trajectory, the Well's moments, frame RMS), ``refused`` and
``notes``. ``encode`` makes it plain JSON (numbers, strings, lists, objects); ``decode``
gives back the same values and types (numpy arrays, tuples, ``Moments``, ``FrameSet``,
non-finite floats), so that a result read back compares equal to a fresh one.

Only these types are tagged, by name, and only these are made back: nothing in a JSON
file chooses code to run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from wellforge.schema.stats import Moments

from .findings import Finding
from .robust import FrameSet

#: the version of this encoding; a result of another version is not read back
FORMAT = 1


def _enc(v: Any) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else {"__float__": repr(v)}
    if isinstance(v, np.ndarray):
        return {"__array__": _enc(v.tolist()), "dtype": v.dtype.str, "shape": list(v.shape)}
    if isinstance(v, tuple):
        return {"__tuple__": [_enc(x) for x in v]}
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _enc(x) for k, x in v.items()}
    if isinstance(v, Moments):
        return {"__moments__": [_enc(v.count), _enc(v.mean), _enc(v.m2)]}
    if isinstance(v, FrameSet):
        return {"__frames__": [_enc(v.runs), v.count, v.first, v.last]}
    raise TypeError(f"cannot encode a {type(v).__name__} in a file summary")


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if not isinstance(v, dict):
        return v
    if "__float__" in v:
        return float(v["__float__"])
    if "__array__" in v:
        a = np.array(_dec(v["__array__"]), dtype=np.dtype(v["dtype"]))
        return a.reshape(v["shape"])
    if "__tuple__" in v:
        return tuple(_dec(x) for x in v["__tuple__"])
    if "__moments__" in v:
        count, mean, m2 = (_dec(x) for x in v["__moments__"])
        return Moments(count, mean, m2)
    if "__frames__" in v:
        runs, count, first, last = v["__frames__"]
        return FrameSet([tuple(r) for r in _dec(runs)], count, first, last)
    return {k: _dec(x) for k, x in v.items()}


def _facts(facts: dict | None) -> dict | None:
    """Facts as a fresh file pass makes them (fields are (order, name, time_varying))."""
    if facts is None:
        return None
    facts = dict(facts)
    facts["fields"] = [tuple(x) for x in facts.get("fields") or []]
    return facts


def encode_value(v: Any) -> Any:
    return _enc(v)


def decode_value(v: Any) -> Any:
    return _dec(v)


def encode(res: dict) -> dict:
    """A file's result as plain JSON (findings with what the report leaves out)."""
    return {
        "format": FORMAT,
        "findings": [{**f.to_dict(), "refused": f.refused, "logical_path": f.logical_path}
                     for f in res["findings"]],
        "facts": _enc(res.get("facts")),
        "summary": _enc(res.get("summary") or {}),
        "refused": bool(res.get("refused")),
        "notes": list(res.get("notes") or []),
    }


def decode(d: dict) -> dict:
    """``encode``'s inverse; ValueError when ``d`` is not a result of this format."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ValueError("not a wellforge file result of this format")
    return {
        "findings": [Finding.from_dict(f) for f in d["findings"]],
        "facts": _facts(_dec(d.get("facts"))),
        "summary": _dec(d.get("summary") or {}),
        "refused": bool(d.get("refused")),
        "notes": list(d.get("notes") or []),
    }
