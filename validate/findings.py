"""Findings: what a check reports, with a stable fingerprint.

A check yields :class:`Issue` objects (what is wrong, where, expected vs observed);
the runner turns each into a :class:`Finding` by adding the rule's code, severity and
fix, the file, and a fingerprint. Every string that may come from a file (object names,
attribute values) is sanitised here, once: control characters escaped, length capped.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_TEXT = 300  # characters kept of any string that may come from a file


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[str(text).strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}: expected error, warning or info") \
                from None

    @property
    def label(self) -> str:
        return self.name.lower()


def sanitize(text: Any, limit: int = MAX_TEXT) -> str:
    """One printable line: control characters escaped, at most ``limit`` characters."""
    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\n":
            out.append("\\n")
        elif o < 32 or o == 127 or 0x80 <= o < 0xA0 or ch in "\u2028\u2029\u202e\u202d":
            out.append(f"\\x{o:02x}" if o < 256 else f"\\u{o:04x}")
        else:
            out.append(ch)
    s = "".join(out)
    return s if len(s) <= limit else s[: limit - 1] + "…"


MAX_DEPTH = 8  # levels of an expected/observed value kept (a YAML value may nest deeply)


def jsonable(v: Any, limit: int = MAX_TEXT, depth: int = 0) -> Any:
    """A JSON-safe, size- and depth-capped version of an expected/observed value (a value
    that contains itself is cut at ``MAX_DEPTH`` too)."""
    if v is None or isinstance(v, bool):
        return v
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        v = v.tolist()
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, int):
        return v
    if isinstance(v, (list, tuple, dict)) and depth >= MAX_DEPTH:
        return "…"
    if isinstance(v, (list, tuple)):
        items = [jsonable(x, limit, depth + 1) for x in list(v)[:32]]
        if len(v) > 32:
            items.append(f"… {len(v) - 32} more")
        return items
    if isinstance(v, dict):
        return {sanitize(k, 80): jsonable(x, limit, depth + 1)
                for k, x in list(v.items())[:32]}
    return sanitize(v, limit)


def region(trajectory: int | tuple[int, int] | None = None,
           time: int | tuple[int, int] | None = None,
           index: int | tuple[int, int] | None = None) -> dict | None:
    """Index region a finding applies to; each axis an inclusive ``[first, last]``."""
    out = {}
    for name, v in (("trajectory", trajectory), ("time", time), ("index", index)):
        if v is None:
            continue
        lo, hi = (v, v) if isinstance(v, (int,)) or not hasattr(v, "__len__") else v
        out[name] = [int(lo), int(hi)]
    return out or None


def format_region(r: dict | None) -> str:
    if not r:
        return ""
    parts = []
    # "time" holds frame indices (a time axis position), labelled as such
    for k, short in (("trajectory", "traj"), ("time", "frame"), ("index", "i")):
        if k in r:
            lo, hi = r[k]
            parts.append(f"{short} {lo}" if lo == hi else f"{short} {lo}..{hi}")
    return ", ".join(parts)


@dataclass
class Issue:
    """What a check yields: one problem at one place."""

    object: str
    message: str
    expected: Any = None
    observed: Any = None
    region: dict | None = None
    severity: Severity | None = None  # overrides the rule's default
    fix: str | None = None  # overrides the rule's fix hint
    #: a per-frame curve for the JSON report (e.g. the drift of a conserved integral):
    #: {"quantity", "trajectory", "frame": [...], "value": [...]}
    curve: dict | None = None


@dataclass
class Finding:
    code: str
    severity: Severity
    file: str
    object: str
    region: dict | None
    message: str
    expected: Any = None
    observed: Any = None
    fix: str = ""
    fingerprint: str = ""
    #: a per-frame curve (JSON report only; not part of the fingerprint)
    curve: dict | None = field(default=None, repr=False)
    #: not in the report: whether the file was refused (exit 3), and the fingerprint key
    refused: bool = field(default=False, repr=False)
    logical_path: str = field(default="", repr=False)

    def __post_init__(self):
        self.object = sanitize(self.object)
        self.message = sanitize(self.message, 2 * MAX_TEXT)
        self.expected = jsonable(self.expected)
        self.observed = jsonable(self.observed)
        self.fix = sanitize(self.fix or "", 2 * MAX_TEXT)
        if self.curve is not None:
            self.curve = _curve(self.curve)
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.code, self.logical_path or self.file,
                                           self.object, self.region)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("refused")
        d.pop("logical_path")
        if d["curve"] is None:
            d.pop("curve")
        d["severity"] = self.severity.label
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Finding:
        d = dict(d)
        d["severity"] = Severity.parse(d["severity"])
        return cls(**d)

    def sort_key(self):
        return (self.file, -int(self.severity), self.code, self.object,
                json.dumps(self.region, sort_keys=True))


def _curve(c) -> dict | None:
    """A JSON-safe curve: up to 1024 frame indices and values (numbers or null)."""
    if not isinstance(c, dict):
        return None
    frames = [int(x) for x in list(c.get("frame") or [])[:1024]]
    values = [float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None
              for x in list(c.get("value") or [])[:1024]]
    out = {"quantity": sanitize(c.get("quantity", ""), 120), "frame": frames, "value": values}
    if c.get("trajectory") is not None:
        out["trajectory"] = int(c["trajectory"])
    return out


def fingerprint(code: str, logical_path: str, obj: str, reg: dict | None) -> str:
    """Stable id of a finding: code + file path inside its dataset + object + region.

    The message (which holds numbers that drift) is left out, so a baseline keeps
    matching after the data are regenerated.
    """
    key = json.dumps([code, logical_path.replace("\\", "/"), obj, reg], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:24]
