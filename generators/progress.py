"""Progress of one run on a terminal (the sweep's progress: ``pipeline.SweepProgress``)."""

from __future__ import annotations

import logging
import math
import sys
import time as _time

logger = logging.getLogger("wellforge.runner")


class RunProgress:
    """Progress of one run: on a terminal one rewritten line (after the sweep's ``[k/N]``
    in the label), elsewhere debug log lines (``-v``; the sweep logs one line per run)."""

    def __init__(self, label: str, t0: float, t1: float, enabled: bool):
        self.label, self.t0, self.t1, self.enabled = label, t0, t1, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.start = _time.perf_counter()
        self.last = -1.0

    def update(self, t: float, steps: int) -> None:
        if not self.enabled:
            return
        frac = (t - self.t0) / (self.t1 - self.t0) if self.t1 > self.t0 else 1.0
        el = _time.perf_counter() - self.start
        eta = el * (1 - frac) / frac if frac > 0 else math.nan
        msg = (f"{self.label}: t = {t:.4g}/{self.t1:.4g} ({100 * frac:3.0f}%), "
               f"{steps / el if el else 0:.1f} steps/s, ETA {eta:.0f} s")
        if self.tty:
            sys.stderr.write("\r" + msg + " " * 4)
            if frac >= 1:
                sys.stderr.write("\r" + " " * (len(msg) + 4) + "\r")  # the sweep's line follows
            sys.stderr.flush()
        elif frac - self.last >= 0.25 or frac >= 1:
            self.last = frac
            logger.debug(msg)
