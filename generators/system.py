"""The interface a physical system implements: physics only.

A system module defines bases, equations, boundary conditions, initial conditions and
which fields are stored, and carries its card. Its axes are its Dedalus bases (the runner
reads them there and checks them against the card: ``axes``), declared once. Timestepping,
exact output times, CFL, guards, resampling, float32 conversion, streaming writes and
provenance live in the shared runner (``runner.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from wellforge.schema.card import SystemCard


@dataclass
class CFLSettings:
    initial_dt: float
    max_dt: float
    safety: float
    threshold: float = 0.05
    cadence: int = 10
    max_change: float = 1.5
    min_change: float = 0.5
    min_dt: float = 1e-8  # below this the run is declared failed (dt collapse)


@dataclass
class Setup:
    """What ``System.build`` returns: a ready problem and what to store from it."""

    problem: Any  # dedalus IVP
    outputs: dict[str, Any]  # Well field name -> dedalus field or operator (axes: its bases)
    velocity: Any  # field the CFL condition reads; None: no advection, fixed step cfl.max_dt
    timestepper: str
    cfl: CFLSettings
    dtype: Any = np.float64
    #: card diagnostic name -> dedalus expression of a number (no bases, e.g. a volume
    #: mean ``integ(u@u/2)/V``), stored once per frame as a time-varying scalar
    diagnostics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StationaryCheck:
    """How to tell that a trajectory has stopped changing (e.g. a Gray–Scott run that decays
    to a uniform state): the relative RMS change of stored ``field`` between consecutive
    frames, ``||f_k - f_{k-1}|| / ||f_k||``, stays below ``rtol`` for the last ``frames``
    frame pairs. What happens then is the run option ``stationary``: ``keep`` (no check),
    ``flag`` (record per trajectory in the provenance) or ``replace`` (redraw the initial
    condition with a derived seed, up to ``max_replace`` times, then flag)."""

    field: str
    rtol: float = 1e-5
    frames: int = 10
    max_replace: int = 3


STATIONARY_POLICIES = ("keep", "flag", "replace")


@dataclass
class BuildContext:
    """Everything a system needs to build one trajectory's problem."""

    params: dict[str, float]  # PDE parameters
    ic: dict[str, Any]  # initial-condition parameters
    resolution: tuple[int, ...]
    seed: int
    comm: Any = None  # MPI communicator of the run group
    mesh: tuple[int, ...] | None = None
    dealias: float = 3 / 2
    options: dict[str, Any] = field(default_factory=dict)  # system switches (e.g. consistent IC)

    def distributor(self, coords, dtype=np.float64):
        import dedalus.public as d3

        return d3.Distributor(coords, comm=self.comm, mesh=self.mesh, dtype=dtype)


@dataclass(frozen=True)
class ICParam:
    """An initial-condition parameter of a system (swept like PDE parameters)."""

    name: str
    default: Any
    doc: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None


class System:
    """Base class for a system module. Subclasses set the class attributes and ``build``."""

    name: str
    card: SystemCard
    ic_params: tuple[ICParam, ...] = ()
    options: dict[str, Any] = {}  # system switches with defaults (documented in the card)
    #: allowed values of the options that are choices (checked when a config is planned)
    option_choices: dict[str, tuple] = {}
    #: detection of trajectories that stop changing (policy: option ``stationary``)
    stationary: StationaryCheck | None = None
    #: presets: name -> config mapping (resolution, stored_resolution, time, parameters, ...)
    presets: dict[str, dict] = {}
    #: PDE parameter renames for ``--well-compat`` (reproduce the Well's released naming)
    well_compat_names: dict[str, str] = {}

    def check_parameters(self, params: dict[str, float]) -> None:
        """Reject a parameter combination the card's ranges cannot express (e.g. an integer
        wavenumber) with a ``ConfigError`` naming the key; called when a config is planned."""

    def diagnostics(self, ctx: BuildContext, times: np.ndarray):
        """A per-trajectory diagnostic of the stored frames, or None (the default): an
        object with ``update(k, frame)`` (frame ``k`` as stored: field name -> array) and
        ``record() -> dict`` (per-trajectory provenance entries, as one-element lists)."""
        return None

    def build(self, ctx: BuildContext) -> Setup:  # pragma: no cover - interface
        raise NotImplementedError
