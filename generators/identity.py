"""What a run's data depend on beyond its config: the system's code and the generator.

A sweep records :func:`code_identity` in its manifest and in every shard. When a system's
equations are edited after some runs finished, the same command would otherwise keep the
old data (or mix old and new after a resume); ``generate`` compares the identity of the
code now with the one the finished runs were made with and refuses, naming what changed.

The system's code is the source of the module defining the system class plus the modules
of the same package it takes names from (an IC helper module, say), and its card. The
generator is the wellforge version.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import types
from dataclasses import asdict, is_dataclass

from wellforge import __version__

#: what each key of the identity covers, for messages
PARTS = {"system_code": "the system's module source", "card": "the system's card",
         "generator": "the wellforge version"}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _module_sources(cls) -> str:
    """Source of ``cls``'s module and of the sibling modules (same directory) it uses."""
    mod = sys.modules[cls.__module__]
    here = os.path.dirname(os.path.abspath(getattr(mod, "__file__", "") or ""))
    mods = {mod.__name__: mod}
    for value in vars(mod).values():
        m = value if isinstance(value, types.ModuleType) else sys.modules.get(
            getattr(value, "__module__", None) or "")
        f = getattr(m, "__file__", None)
        if m is not None and f and os.path.dirname(os.path.abspath(f)) == here:
            mods.setdefault(m.__name__, m)
    parts = []
    for name in sorted(mods):
        try:
            parts.append(f"# {name}\n{inspect.getsource(mods[name])}")
        except (OSError, TypeError):  # no source (a compiled module): its name only
            parts.append(f"# {name} (no source)")
    return "\n".join(parts)


def code_identity(system) -> dict[str, str]:
    """Hashes of the system's code and card, and the generator version."""
    card = system.card
    card_text = json.dumps(asdict(card) if is_dataclass(card) else repr(card), sort_keys=True,
                           default=str)
    return {"system_code": _sha(_module_sources(type(system))), "card": _sha(card_text),
            "generator": __version__}


def changed_parts(old: dict, new: dict) -> list[str]:
    """Human names of the parts that differ between two identities."""
    return [PARTS.get(k, k) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
