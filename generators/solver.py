"""Build a system's solver and its time-step control: one place for the runner and for
``wellforge plan``'s calibration; and reuse it for the next initial condition of a cell.

``build`` turns a system and a :class:`~wellforge.generators.system.BuildContext` into a
:class:`Stepper`: the Dedalus IVP solver, its CFL controller (none for a system without a
velocity: it steps at the fixed ``cfl.max_dt``), the factorisation cache and the guard
that watches for a blow-up. The CFL controller exists exactly when the system names a
velocity, wherever the solver is built.

**Build once per cell.** Building a solver (the matrices of every subproblem) costs tens of
seconds at the Well's sizes and depends only on the equations, the parameters, the
resolution and the process mesh — not on the initial condition. The Well's sweeps run
40–50 initial conditions per parameter cell. :class:`SolverCache` keeps a group's last
solver; a run of the same cell builds only its problem (fields and initial condition,
cheap), copies the initial state into the kept solver and restarts it: time, iteration,
the multistep history, the CFL controller and the evaluator's schedules as a fresh solver
has them, so the run is bit for bit the run of a fresh build (tested for Runge–Kutta and
multistep schemes). A system whose equations hold fields computed from the initial
condition sets ``System.reuse_solver = False``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any

from .factor_cache import FactorCache
from .system import BuildContext, Setup, System

#: step sizes whose LHS factorisations are kept (``FactorCache``; 0 = Dedalus's own: one)
FACTOR_CACHE = 4


def _squared_norm(f):
    return f @ f if len(f.tensorsig) else f * f


@dataclass
class Stepper:
    """A built solver with its step-size control and blow-up guard."""

    setup: Setup
    solver: Any  # dedalus InitialValueSolver
    cfl: Any  # dedalus CFL, or None: fixed step setup.cfl.max_dt
    factors: FactorCache
    guard: Any  # dedalus GlobalFlowProperty: the squared norm of the watched field
    watched: str  # "velocity", or the name of the first stored field
    build_s: float = 0.0  # seconds this run spent building (the problem, and the solver)
    reused: bool = False  # the solver was kept from the previous run of the cell

    def target_dt(self) -> float:
        """The step the CFL condition allows now (the fixed step without a velocity)."""
        return self.cfl.compute_timestep() if self.cfl is not None else self.setup.cfl.max_dt

    def restart(self, fresh: Setup, t_start: float) -> None:
        """Start again from ``fresh``'s initial condition (a problem of the same cell, just
        built), as a fresh solver would: the state copied in, time and iteration reset,
        the multistep history and every evaluator schedule cleared, the CFL step back to
        its initial value (which may depend on the initial condition)."""
        solver = self.solver
        for kept, new in zip(solver.state, fresh.problem.variables):
            new.change_layout("c")
            kept.change_layout("c")
            kept.data[...] = new.data
        solver.sim_time = t_start
        solver.iteration = solver.initial_iteration = 0
        ts = solver.timestepper
        if hasattr(ts, "_iteration"):  # multistep: restart from first order
            ts._iteration = 0
            for i in range(len(ts.dt)):
                ts.dt[i] = 0.0
        for h in solver.evaluator.handlers:
            h.last_wall_div = h.last_sim_div = h.last_iter_div = -1
        self.setup = replace(self.setup, cfl=fresh.cfl)
        if self.cfl is not None:
            self.cfl.stored_dt = fresh.cfl.initial_dt
        self.reused = True


def matrix_coupling(problem) -> list[bool] | None:
    """The axes the solver's matrices couple, for 3-D problems (None: Dedalus's choice).

    Dedalus couples a problem along the axes its equations need (a Chebyshev axis) and a
    fully separable one along its last axis, so a 3-D run has one subproblem per pair of
    modes of two axes (32 × 32 at 64³), each paying Python overhead when the matrices are
    built and in every step. Coupling also every other axis past the first that is local
    in coefficient space (all of them on one rank; with a 2-D mesh none is) leaves one
    subproblem per mode pair of the first axis: the same solution to round-off, the
    matrices built 6-15 times faster and steps 1.5-2 times faster (bench/RESULTS.md,
    "3-D"). 1-D and 2-D problems keep Dedalus's choice."""
    need = [bool(c) for c in problem.matrix_coupling]
    if len(need) < 3:
        return None
    local = problem.dist.coeff_layout.local
    return [c or (i > 0 and bool(local[i])) for i, c in enumerate(need)]


def build(system: System, ctx: BuildContext, t_start: float = 0.0,
          factor_cache: int = FACTOR_CACHE) -> Stepper:
    """Build ``system`` for ``ctx``: solver at ``t_start``, CFL on the system's velocity."""
    from .engine import dedalus

    d3 = dedalus()
    t0 = time.perf_counter()
    setup = system.build(ctx)
    coupling = matrix_coupling(setup.problem)
    solver = setup.problem.build_solver(getattr(d3, setup.timestepper),
                                        **({} if coupling is None else
                                           {"matrix_coupling": coupling}))
    factors = FactorCache(solver, factor_cache)
    solver.sim_time = t_start
    cfl = None
    c = setup.cfl
    if setup.velocity is not None:
        cfl = d3.CFL(solver, initial_dt=c.initial_dt, cadence=c.cadence, safety=c.safety,
                     threshold=c.threshold, max_change=c.max_change, min_change=c.min_change,
                     max_dt=c.max_dt)
        cfl.add_velocity(setup.velocity)
    # the guard: the CFL velocity, or without advection the first stored field
    field, watched = ((setup.velocity, "velocity") if setup.velocity is not None
                      else next((f, n) for n, f in setup.outputs.items()))
    guard = d3.GlobalFlowProperty(solver, cadence=c.cadence)
    guard.add_property(_squared_norm(field), name="u2")
    return Stepper(setup, solver, cfl, factors, guard, watched,
                   build_s=time.perf_counter() - t0)


class SolverCache:
    """The last solver a rank group built, for the next run of the same cell (same system,
    parameters, resolution, options and process mesh). One solver at a time: a group
    keeps at most one extra set of matrices in memory."""

    def __init__(self):
        self.key: str | None = None
        self.stepper: Stepper | None = None
        self.builds = self.reuses = 0

    @staticmethod
    def key_of(system: System, ctx: BuildContext) -> str:
        return json.dumps({"system": system.name, "params": ctx.params,
                           "resolution": list(ctx.resolution), "options": ctx.options,
                           "mesh": list(ctx.mesh) if ctx.mesh else None,
                           "dealias": ctx.dealias, "comm": id(ctx.comm)},
                          sort_keys=True, default=str)

    def get(self, system: System, ctx: BuildContext, t_start: float) -> Stepper:
        key = self.key_of(system, ctx)
        if self.stepper is not None and key == self.key and getattr(system, "reuse_solver",
                                                                    True):
            t0 = time.perf_counter()
            fresh = system.build(ctx)  # the problem alone: fields and initial condition
            self.stepper.restart(fresh, t_start)
            self.stepper.build_s = time.perf_counter() - t0
            self.reuses += 1
            return self.stepper
        self.stepper = self.key = None  # free the old matrices before building new ones
        self.stepper = build(system, ctx, t_start)
        self.key = key
        self.builds += 1
        return self.stepper
