"""The shared runner: one trajectory of any system, from initial condition to a shard file.

Everything that is not physics lives here, in steps:

1. build the solver and its step control (``solver.build``: shared with ``plan``);
2. declare the file from the card (``schema.declare``: shared with ``convert``), the
   stored axes read from the system's Dedalus bases (``axes``);
3. step with the ``OutputClock`` (exact output times), NaN/Inf and dt-collapse guards;
4. at each output time gather, resample and check the frame, and write it
   (``WellWriter``: float32, streaming, atomic);
5. finish: provenance (``provenance``), close, or drop everything on failure.

A trajectory that stops changing (``monitor``) may be simulated again from a redrawn
initial condition; a run with a ``checkpoint.Checkpoint`` continues from its last one.
"""

from __future__ import annotations

import logging
import math
import time as _time
from dataclasses import asdict

import numpy as np
from wellforge.schema.declare import declare_from_card
from wellforge.schema.writer import WellWriter

from wellforge.errors import DiskFull

from .axes import simulated_axes, stored_order
from .clock import OutputClock
from .gather import gather_global, pieces
from .monitor import StationaryMonitor
from .progress import RunProgress
from .provenance import run_provenance
from .resample import Resampler, stored_grid
from .run import RunFailed, RunResult, RunSpec
from .solver import SolverCache
from .system import BuildContext, System

logger = logging.getLogger("wellforge.runner")


def run_trajectory(system: System, spec: RunSpec, out_path: str, *, comm=None,
                   mesh: tuple[int, ...] | None = None, progress: bool = True,
                   provenance: dict | None = None, checkpoint=None,
                   label: str | None = None, solvers: SolverCache | None = None) -> RunResult:
    """Simulate one trajectory and write it (rank 0 of ``comm``) as a one-trajectory file.

    On failure nothing is left at ``out_path`` (the writer's partial file is removed) and
    the result says why and when. With a system's stationary check and the option
    ``stationary: replace``, a trajectory that stops changing is simulated again from an
    initial condition drawn with a derived seed (the seed used is recorded). With a
    ``checkpoint.Checkpoint`` the run saves its state every few frames and, when one is
    available, continues from it. With a ``solver.SolverCache`` the solver of the previous
    run of the same cell is reused (its matrices are not built again).
    """
    from mpi4py import MPI

    comm = comm if comm is not None else MPI.COMM_SELF
    options = {**system.options, **spec.options}
    policy = options.get("stationary", "keep")
    check = system.stationary if policy in ("flag", "replace") else None
    tries = 1 + (check.max_replace if check is not None and policy == "replace" else 0)
    wall0, seed, result = _time.perf_counter(), int(spec.seed), None
    solvers = solvers if solvers is not None else SolverCache()
    for attempt in range(tries):
        run = _Run(system, spec, out_path, seed, comm, mesh, check, attempt, wall0,
                   checkpoint, provenance, solvers)
        result = run.simulate(progress, label or f"{system.name} {spec.run_id}",
                              replace_if_stationary=attempt < tries - 1)
        if result.status != "replaced":
            break
        logger.warning("run %s became stationary at t = %.6g; redrawing its initial "
                       "condition (attempt %d of %d)", spec.run_id, result.fail_time,
                       attempt + 2, tries)
        seed = replacement_seed(spec.seed, attempt + 1)
    return result


def _number(f) -> float:
    """The value of a Dedalus field without bases (a volume mean): rank 0 holds it."""
    data = np.asarray(f["g"]).ravel()
    return float(data[0]) if data.size else math.nan


def replacement_seed(seed: int, attempt: int) -> int:
    """Seed of the ``attempt``-th redraw of a run (deterministic: a resumed sweep redraws
    the same initial conditions)."""
    return int(np.random.SeedSequence([int(seed), attempt]).generate_state(1)[0])


class _Run:
    """One attempt of ``run_trajectory`` with the initial condition drawn from ``seed``."""

    def __init__(self, system, spec, out_path, seed, comm, mesh, check, attempt, wall0,
                 checkpoint, provenance, solvers):
        self.system, self.spec, self.out_path, self.seed = system, spec, out_path, seed
        self.comm, self.leader = comm, comm.rank == 0
        self.check, self.attempt, self.wall0 = check, attempt, wall0
        self.checkpoint, self.extra, self.solvers = checkpoint, provenance, solvers
        self.ctx = BuildContext(params=dict(spec.params), ic=dict(spec.ic),
                                resolution=spec.resolution, seed=seed, comm=comm, mesh=mesh,
                                options={**system.options, **spec.options})
        self.steps, self.dts = 0, []
        self.writer: WellWriter | None = None
        self.monitor = self.diagnostics = None

    # -- 1. the solver ------------------------------------------------------------------
    def _build(self) -> None:
        self.stepper = self.solvers.get(self.system, self.ctx, self.spec.t_start)
        self.factor_counts = (self.stepper.factors.misses, self.stepper.factors.hits)

    # -- 2. the file ----------------------------------------------------------------------
    def _open_file(self) -> None:
        """The stored axes (the card's order: the Well stores a (phi, theta) sphere as
        (theta, phi); a config's resolutions are in that order too), the resampler, and
        on the leader the declared file."""
        spec, system = self.spec, self.system
        axes = simulated_axes(self.stepper.setup.outputs)
        order = stored_order(system, axes, spec.params)
        stored = [0] * len(order)
        for k, i in enumerate(order):
            stored[i] = spec.stored_resolution[k]
        modes = {a.name: self.ctx.options.get(f"{a.name}_grid") for a in axes}
        self.resample = Resampler(axes, tuple(stored), modes, order=order)
        if self.check is not None and self.leader:
            self.monitor = StationaryMonitor(self.check, spec.times)
        if not self.leader:
            return
        self.diagnostics = system.diagnostics(self.ctx, spec.times)
        self.writer = WellWriter(self.out_path, spec.dataset_name, 1, spec.times,
                                 time_units=system.card.time_units,
                                 grid_type=system.card.grid_type)
        coords = [stored_grid(axes[i], stored[i], modes[axes[i].name]) for i in order]
        declare_from_card(self.writer, system.card, coords, spec.params,
                          list(self.stepper.setup.outputs), system=system.name,
                          param_names=spec.param_names,
                          diagnostics=list(self.stepper.setup.diagnostics))

    # -- 4. one stored frame ----------------------------------------------------------
    def _write_frame(self, k: int, t: float) -> None:
        """Gather, check and write stored frame ``k``; every rank of the group takes part
        in every collective and raises the same error (a rank left behind would hang the
        group). On several ranks with nothing to resample and no monitor, each field goes
        to the file one rank's piece at a time (``_write_pieces``: bounded leader memory)."""
        frame, problem = {}, None
        stream = self.comm.size > 1 and self.resample.identity and self.monitor is None
        for name, expr in self.stepper.setup.outputs.items():
            f = expr if not hasattr(expr, "evaluate") else expr.evaluate()
            if stream:
                problem = self._write_pieces(k, name, f, problem)
                continue
            data = gather_global(f, self.comm)
            if self.leader and problem is None:
                data = self.resample(data)
                if np.all(np.isfinite(data)):
                    frame[name] = data.astype(np.float32)
                else:
                    problem = ("nonfinite", f"non-finite values in {name}")
        for name, expr in self.stepper.setup.diagnostics.items():
            value = _number(expr.evaluate())
            if self.leader and problem is None:
                if np.isfinite(value):
                    frame[name] = value
                else:
                    problem = ("nonfinite", f"non-finite diagnostic {name}")
        if self.leader and problem is None:
            try:
                self.writer.write_frame(0, k, frame)
            except DiskFull as e:
                problem = ("disk", str(e))
            for watcher in (self.monitor, self.diagnostics):
                if watcher is not None:
                    watcher.update(k, frame)
        problem = self.comm.bcast(problem, root=0)
        if problem is not None:
            if problem[0] == "disk":
                raise DiskFull(problem[1])
            raise RunFailed(problem[1], t)

    def _write_pieces(self, k: int, name: str, f, problem):
        """Field ``name`` of frame ``k`` written part by part (``gather.pieces``); the
        leader drains every piece even after a problem, so no rank is left waiting."""
        from mpi4py import MPI

        f.change_scales(1)
        bad = not np.all(np.isfinite(np.asarray(f["g"])))
        if self.comm.allreduce(bad, op=MPI.LOR) and problem is None:
            problem = ("nonfinite", f"non-finite values in {name}")
        for region, piece in pieces(f, self.comm):
            if problem is None:
                try:
                    self.writer.write_part(0, k, name, region, piece.astype(np.float32))
                except DiskFull as e:
                    problem = ("disk", str(e))
        return problem

    # -- 3. the step loop ---------------------------------------------------------------
    def _step_until_done(self, bar) -> dict | None:
        """Start (from the IC or a checkpoint) and step to the last stored time; returns
        where a checkpoint resumed the run (or None)."""
        spec, st = self.spec, self.stepper
        solver, c = st.solver, st.setup.cfl
        # with a spin-up the clock also lands on t_start (the IC, not stored): clock
        # index lead + k is stored frame k
        lead = 1 if spec.spinup > 0 else 0
        clock = OutputClock(np.concatenate([[spec.t_start], spec.times]) if lead
                            else spec.times, threshold=c.threshold if st.cfl else 0.0)
        resumed = None
        if self.checkpoint is not None and self.checkpoint.available():
            k, t = self.checkpoint.restore(solver, st.cfl)
            if self.writer is not None:
                self.writer.resume(self.checkpoint.frames, k + 1)
            clock.k, resumed = lead + k + 1, {"frame": k, "time": t}
            logger.info("run %s resumed from its checkpoint at frame %d (t = %g)",
                        spec.run_id, k, t)
        elif not lead:
            for f in solver.state:  # store the state the solver evolves: the IC projected
                f.change_layout("c")  # on the bases (e.g. grid noise loses its Nyquist mode)
            self._write_frame(0, spec.t_start)
        while not clock.done:
            dt_cfl = st.target_dt()
            if not np.isfinite(dt_cfl) or dt_cfl < c.min_dt:
                raise RunFailed(f"time step collapsed to {dt_cfl:.3g} (floor {c.min_dt:g})",
                                solver.sim_time)
            dt, lands = clock.step(solver.sim_time, dt_cfl)
            solver.step(dt)
            self.steps += 1
            self.dts.append(dt)
            if (solver.iteration - 1) % c.cadence == 0 and \
                    not np.isfinite(st.guard.max("u2")):
                raise RunFailed(f"non-finite {st.watched}", solver.sim_time)
            if lands:
                solver.sim_time = float(clock.times[clock.k])  # drop accumulated round-off
                k = clock.k - lead
                self._write_frame(k, solver.sim_time)
                if self.checkpoint is not None and self.checkpoint.due(k, len(spec.times)):
                    self.checkpoint.save(k, solver, st.cfl, self.writer, self.comm)
                clock.k += 1
                bar.update(solver.sim_time, self.steps)
        return resumed

    # -- 5. the result --------------------------------------------------------------------
    def _result(self, status: str, **kw) -> RunResult:
        wall = _time.perf_counter() - self.wall0
        return RunResult(self.spec.run_id, status, steps=self.steps, wall_s=wall,
                         core_s=wall * self.comm.size, **kw)

    def _abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()

    def simulate(self, progress: bool, label: str, replace_if_stationary: bool) -> RunResult:
        """Status "done", "failed" (nothing written) or "replaced" (the trajectory became
        stationary and may be replaced; nothing written)."""
        spec = self.spec
        self._build()
        self._open_file()
        bar = RunProgress(label, spec.t_start, float(spec.times[-1]), progress and self.leader)
        try:
            resumed = self._step_until_done(bar)
        except RunFailed as e:
            self._abort()
            logger.warning("run %s failed: %s", spec.run_id, e)
            return self._result("failed", reason=e.reason, fail_time=e.sim_time)
        except BaseException:
            self._abort()
            raise
        m = self.monitor
        verdict = self.comm.bcast((m.stationary, m.time) if m is not None else
                                  (False, math.nan), root=0)
        if self.check is not None and verdict[0] and replace_if_stationary:
            self._abort()
            return self._result("replaced", reason="stationary", fail_time=verdict[1])
        dts = np.asarray(self.dts) if self.dts else np.array([math.nan])
        result = self._result("done", path=self.out_path, dt_min=float(dts.min()),
                              dt_max=float(dts.max()), dt_mean=float(dts.mean()))
        if self.leader:
            self.writer.set_provenance(run_provenance(
                self.system, spec, self.seed, self.ctx, self.stepper, self.comm, result,
                resumed=resumed, stationary=self._stationary_record(verdict),
                extra={**(self.extra or {}), **(self.diagnostics.record()
                                                if self.diagnostics is not None else {})},
                factors_before=self.factor_counts))
            self.writer.close()
            if self.checkpoint is not None:
                self.checkpoint.remove()
        return result

    def _stationary_record(self, verdict) -> dict:
        check = self.check
        if check is None:
            return {}
        if verdict[0]:
            logger.warning("run %s became stationary at t = %.6g (%s constant to rtol %g)",
                           self.spec.run_id, verdict[1], check.field, check.rtol)
        return {"stationary": [bool(verdict[0])], "stationary_time": [float(verdict[1])],
                "stationary_check": {**asdict(check),
                                     "policy": self.ctx.options.get("stationary"),
                                     "max_change": self.monitor.max_change},
                "replaced": [self.attempt]}
