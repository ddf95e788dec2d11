"""Exact output times: the step sizes that land on every stored time."""

from __future__ import annotations

import math

import numpy as np


class OutputClock:
    """Step sizes that land exactly on each output time.

    An output interval is cut into ``n = ceil(interval / dt_cfl)`` equal steps: never above
    the CFL target, landing on the output time after exactly ``n`` steps. Dedalus
    refactorises its matrices whenever ``dt`` changes in the last bit, so the clock
    changes ``dt`` as rarely as the CFL condition allows, with the hysteresis of Dedalus's
    own CFL ``threshold``:

    - a new interval keeps the previous step if it is still at most the CFL target and
      within ``threshold`` of the best cut (equal intervals reuse the identical float);
    - a new cut into n steps reuses the float of an earlier cut into n (so that step sizes
      recur and ``FactorCache`` can hand back their factorisations);
    - within an interval the rest is re-cut only when the CFL target moved by more than
      ``threshold`` (as Dedalus's CFL keeps its step otherwise): below the step, or so far
      above it that fewer steps reach the output (a run starting from a small initial
      step lengthens it at once instead of at the next output).
    """

    def __init__(self, times: np.ndarray, threshold: float = 0.0):
        self.times = np.asarray(times, dtype=np.float64)
        self.threshold = float(threshold)
        self.k = 1  # index of the next output
        self._dt = math.nan
        self._n = 0  # steps per interval of the current cut
        self._left = 0  # steps left in the current interval
        self._cuts: dict[int, float] = {}  # n -> the step that cut an interval in n

    @property
    def done(self) -> bool:
        return self.k >= self.times.size

    @staticmethod
    def _cut(r: float, dt_cfl: float) -> int:
        return max(1, math.ceil(r / dt_cfl * (1 - 1e-12)))

    def step(self, t: float, dt_cfl: float) -> tuple[float, bool]:
        """Return (dt, lands_on_output)."""
        r = self.times[self.k] - t
        if self._left == 0:  # a new interval
            n = self._cut(r, dt_cfl)
            # keep the same float when it still cuts this interval (equal up to the
            # round-off of the stored times; the landing time is snapped anyway)
            keep = (self._n and abs(r - self._n * self._dt) <= 1e-12 * r
                    and self._dt <= dt_cfl * (1 + 1e-12)
                    and self._n <= n * (1 + self.threshold))
            if not keep:
                # the float this cut had before, when it still cuts this interval: the
                # step sizes recur, and so do their factorisations (FactorCache)
                dt = self._cuts.get(n)
                if dt is None or abs(r - n * dt) > 1e-12 * r:
                    dt = self._cuts[n] = r / n
                self._n, self._dt = n, dt
            self._left = self._n
        elif (self._dt > dt_cfl * (1 + self.threshold)  # the CFL step dropped, or it grew
              or (dt_cfl > self._dt * (1 + self.threshold)  # so much that fewer steps
                  and self._cut(r, dt_cfl) < self._left)):  # reach the output: re-cut
            self._left = self._cut(r, dt_cfl)
            self._dt = r / self._left
            self._n = 0  # the next interval is cut afresh
        self._left -= 1
        return self._dt, self._left == 0
