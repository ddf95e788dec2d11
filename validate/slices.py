"""``--slice I/N``: the files of a run cut into N slices of about equal bytes, for a
cluster job array (one slice per task; ``wellforge merge-reports`` joins their reports).

The cut is deterministic: files sorted by size (largest first, then path) and each given
to the slice with the fewest bytes so far (the lowest index on a tie), so every task of
an array computes the same cut from the same tree without talking to the others.
"""

from __future__ import annotations

import heapq
import os
import re

from wellforge.errors import ConfigError


def parse(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 1 <= I <= N; a ConfigError (exit 2) otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ConfigError(f"--slice {text!r}: expected I/N with 1 <= I <= N (e.g. 2/8; in a "
                          "Slurm array --array=1-N, --slice $SLURM_ARRAY_TASK_ID/N)")
    return int(m.group(1)), int(m.group(2))


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def assign(paths: list[str], n: int) -> list[int]:
    """The slice (1..n) of each path: greedy by size, largest first (see the module doc)."""
    order = sorted(range(len(paths)), key=lambda i: (-_size(paths[i]), paths[i]))
    heap = [(0, s) for s in range(1, n + 1)]
    out = [0] * len(paths)
    for i in order:
        total, s = heapq.heappop(heap)
        out[i] = s
        heapq.heappush(heap, (total + _size(paths[i]), s))
    return out


def options_record(opts) -> dict:
    """The settings a slice's report carries for ``merge-reports``: what the dataset checks
    and the filtering of their findings depend on, and the exit code."""
    return {"level": opts.level, "select": list(opts.select), "ignore": list(opts.ignore),
            "severity": {k: v.label for k, v in sorted(opts.severity.items())},
            "fail_on": opts.fail_on.label,
            "per_path_ignores": [[p, list(c), r] for p, c, r in opts.per_path_ignores],
            "baseline": sorted(opts.baseline)}


def options_from_record(d: dict):
    """``Options`` of the run a slice report was made by (``options_record``)."""
    from .context import Options
    from .findings import Severity

    return Options(level=int(d["level"]), select=list(d["select"]), ignore=list(d["ignore"]),
                   severity={k: Severity.parse(v) for k, v in d["severity"].items()},
                   fail_on=Severity.parse(d["fail_on"]),
                   per_path_ignores=[(p, list(c), r) for p, c, r in d["per_path_ignores"]],
                   baseline=set(d["baseline"]))
