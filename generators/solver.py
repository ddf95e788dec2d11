"""Build a system's solver and its time-step control: one place for the runner and for
``wellforge plan``'s calibration.

``build`` turns a system and a :class:`~wellforge.generators.system.BuildContext` into a
:class:`Stepper`: the Dedalus IVP solver, its CFL controller (none for a system without a
velocity: it steps at the fixed ``cfl.max_dt``), and the factorisation cache. The CFL
controller exists exactly when the system names a velocity, wherever the solver is built
(the ``plan`` crash of systems without one came from a copy of this code that lost it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .factor_cache import FactorCache
from .system import BuildContext, Setup, System

#: step sizes whose LHS factorisations are kept (``FactorCache``; 0 = Dedalus's own: one)
FACTOR_CACHE = 4


@dataclass
class Stepper:
    """A built solver with its step-size control."""

    setup: Setup
    solver: Any  # dedalus InitialValueSolver
    cfl: Any  # dedalus CFL, or None: fixed step setup.cfl.max_dt
    factors: FactorCache

    def target_dt(self) -> float:
        """The step the CFL condition allows now (the fixed step without a velocity)."""
        return self.cfl.compute_timestep() if self.cfl is not None else self.setup.cfl.max_dt


def build(system: System, ctx: BuildContext, t_start: float = 0.0,
          factor_cache: int = FACTOR_CACHE) -> Stepper:
    """Build ``system`` for ``ctx``: solver at ``t_start``, CFL on the system's velocity."""
    from .engine import dedalus

    d3 = dedalus()
    setup = system.build(ctx)
    solver = setup.problem.build_solver(getattr(d3, setup.timestepper))
    factors = FactorCache(solver, factor_cache)
    solver.sim_time = t_start
    cfl = None
    if setup.velocity is not None:
        c = setup.cfl
        cfl = d3.CFL(solver, initial_dt=c.initial_dt, cadence=c.cadence, safety=c.safety,
                     threshold=c.threshold, max_change=c.max_change, min_change=c.min_change,
                     max_dt=c.max_dt)
        cfl.add_velocity(setup.velocity)
    return Stepper(setup, solver, cfl, factors)
