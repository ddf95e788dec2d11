"""Trajectories that stop changing (a Gray–Scott run decaying to a uniform state): detected
while the run goes, from the stored frames (``system.StationaryCheck``)."""

from __future__ import annotations

import math

import numpy as np


class StationaryMonitor:
    """Streaming test for a trajectory that stops changing (leader only, one frame kept).

    Per stored frame: the relative RMS change ``||f_k - f_{k-1}|| / ||f_k||`` of the checked
    field. The trajectory is stationary when the trailing streak of changes below ``rtol``
    covers ``check.frames`` frame pairs (all pairs of a shorter trajectory); it became
    stationary at the time of the streak's first frame.
    """

    def __init__(self, check, times: np.ndarray):
        self.check, self.times = check, np.asarray(times)
        self.prev: np.ndarray | None = None
        self.pairs, self.start = 0, 0
        self.max_change = 0.0

    def update(self, k: int, frame: dict[str, np.ndarray]) -> None:
        f = np.asarray(frame[self.check.field], dtype=np.float64)
        if self.prev is not None:
            norm = float(np.sqrt(np.mean(f**2)))
            change = float(np.sqrt(np.mean((f - self.prev) ** 2))) / max(norm, 1e-300)
            self.max_change = max(self.max_change, change)
            if change < self.check.rtol:
                if self.pairs == 0:
                    self.start = k - 1
                self.pairs += 1
            else:
                self.pairs = 0
        self.prev = f

    @property
    def stationary(self) -> bool:
        return self.pairs >= max(1, min(self.check.frames, self.times.size - 1))

    @property
    def time(self) -> float:
        return float(self.times[self.start]) if self.stationary else math.nan
