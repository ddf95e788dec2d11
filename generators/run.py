"""What a run is: the spec of one trajectory to simulate, and what came of it.

Resolved from a config by ``config.build_plan``; read by the runner, the scheduler, the
work directory and the checkpoints (types only: this module imports nothing of theirs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class RunSpec:
    """One trajectory to simulate (resolved from a config by ``plan``)."""

    run_id: str
    index: int
    system: str
    dataset_name: str
    params: dict[str, float]
    ic: dict[str, Any]
    seed: int
    resolution: tuple[int, ...]
    stored_resolution: tuple[int, ...]
    t_start: float
    dt_out: float
    n_frames: int
    split: str = "train"
    file_key: str = ""
    spinup: float = 0.0  # simulated from t_start before the first stored frame
    options: dict[str, Any] = field(default_factory=dict)
    param_names: dict[str, str] = field(default_factory=dict)  # stored name per parameter

    @property
    def times(self) -> np.ndarray:
        """Stored times: ``t_start + spinup + k dt_out``."""
        return self.t_start + self.spinup + self.dt_out * np.arange(self.n_frames)

    @property
    def span(self) -> float:
        """Simulated time: the spin-up and the stored interval."""
        return self.spinup + self.dt_out * (self.n_frames - 1)

    @property
    def cost(self) -> float:
        """Relative expected cost: grid points × simulated time span (refined by the queue)."""
        return float(np.prod(self.resolution)) * (self.span if self.span > 0 else self.dt_out)


class RunFailed(Exception):
    """A trajectory that cannot be finished (blow-up, dt collapse); not a user error."""

    def __init__(self, reason: str, sim_time: float):
        super().__init__(f"{reason} at t = {sim_time:.6g}")
        self.reason, self.sim_time = reason, sim_time


@dataclass
class RunResult:
    run_id: str
    status: str  # "done" | "failed"
    reason: str = ""
    fail_time: float | None = None
    path: str | None = None
    steps: int = 0
    wall_s: float = 0.0
    core_s: float = 0.0
    dt_min: float = math.nan
    dt_max: float = math.nan
    dt_mean: float = math.nan
