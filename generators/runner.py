"""The shared runner: one trajectory of any system, from initial condition to a shard file.

Everything that is not physics lives here: building the solver, CFL stepping that lands
exactly on every output time, NaN/Inf and dt-collapse guards, gathering and spectral
resampling of output frames, float32 conversion, streaming writes through ``WellWriter``,
provenance and progress.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sys
import time as _time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from wellforge import __version__
from wellforge.errors import DiskFull
from wellforge.schema.cardfile import card_json
from wellforge.schema.writer import WellWriter

from .resample import Resampler
from .solver import build
from .system import BuildContext, System

logger = logging.getLogger("wellforge.runner")


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


def gather(field_, comm, layout: str = "g", root: int = 0) -> np.ndarray | None:
    """Global data of a Dedalus field on ``root`` (None elsewhere), tensor axes first as
    Dedalus stores them: grid values at scale 1 (``"g"``) or coefficients (``"c"``)."""
    if layout == "g":
        field_.change_scales(1)
    local = np.asarray(field_[layout])
    if comm is None or comm.size == 1:
        return local.copy()
    rank = len(field_.tensorsig)
    sl = tuple(field_.layout.slices(field_.domain, field_.scales))
    pieces = comm.gather((sl, local), root=root)
    if comm.rank != root:
        return None
    gshape = tuple(cs.dim for cs in field_.tensorsig) + tuple(
        int(n) for n in field_.layout.global_shape(field_.domain, field_.scales))
    data = np.empty(gshape, dtype=local.dtype)
    for s, piece in pieces:
        data[(slice(None),) * rank + s] = piece
    return data


def scatter_coeffs(field_, data: np.ndarray) -> None:
    """Set a field's coefficients from the global array (every rank takes its part)."""
    field_.change_layout("c")
    rank = len(field_.tensorsig)
    sl = tuple(field_.layout.slices(field_.domain, field_.scales))
    field_.data[...] = data[(slice(None),) * rank + sl]


def gather_global(field_, comm, root: int = 0) -> np.ndarray | None:
    """Global grid data (scale 1) of a Dedalus field on ``root``; spatial axes first."""
    data = gather(field_, comm, "g", root)
    if data is None:
        return None
    rank = len(field_.tensorsig)
    return np.moveaxis(data, list(range(rank)), list(range(data.ndim - rank, data.ndim)))


class _Progress:
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


def _squared_norm(f):
    return f @ f if len(f.tensorsig) else f * f


def _replacement_seed(seed: int, attempt: int) -> int:
    """Seed of the ``attempt``-th redraw of a run (deterministic: a resumed sweep redraws
    the same initial conditions)."""
    return int(np.random.SeedSequence([int(seed), attempt]).generate_state(1)[0])


def run_trajectory(system: System, spec: RunSpec, out_path: str, *, comm=None,
                   mesh: tuple[int, ...] | None = None, progress: bool = True,
                   provenance: dict | None = None, checkpoint=None,
                   label: str | None = None) -> RunResult:
    """Simulate one trajectory and write it (rank 0 of ``comm``) as a one-trajectory file.

    On failure nothing is left at ``out_path`` (the writer's partial file is removed) and
    the result says why and when. With a system's stationary check and the option
    ``stationary: replace``, a trajectory that stops changing is simulated again from an
    initial condition drawn with a derived seed (the seed used is recorded). With a
    ``checkpoint.Checkpoint`` the run saves its state every few frames and, when one is
    available, continues from it.
    """
    from mpi4py import MPI

    comm = comm if comm is not None else MPI.COMM_SELF
    options = {**system.options, **spec.options}
    policy = options.get("stationary", "keep")
    check = system.stationary if policy in ("flag", "replace") else None
    tries = 1 + (check.max_replace if check is not None and policy == "replace" else 0)
    wall0, seed, result = _time.perf_counter(), int(spec.seed), None
    for attempt in range(tries):
        result = _simulate(system, spec, out_path, seed, comm, mesh, progress, provenance,
                           check, attempt, replace_if_stationary=attempt < tries - 1,
                           wall0=wall0, checkpoint=checkpoint,
                           label=label or f"{system.name} {spec.run_id}")
        if result.status != "replaced":
            break
        logger.warning("run %s became stationary at t = %.6g; redrawing its initial "
                       "condition (attempt %d of %d)", spec.run_id, result.fail_time,
                       attempt + 2, tries)
        seed = _replacement_seed(spec.seed, attempt + 1)
    return result


def _simulate(system: System, spec: RunSpec, out_path: str, seed: int, comm, mesh,
              progress: bool, provenance: dict | None, check, attempt: int,
              replace_if_stationary: bool, wall0: float, checkpoint=None,
              label: str = "") -> RunResult:
    """One attempt of ``run_trajectory`` with the initial condition drawn from ``seed``;
    status "replaced" (nothing written) when the trajectory became stationary and may be
    replaced. Wall time counts from ``wall0`` (the first attempt's start)."""
    from .engine import dedalus

    d3 = dedalus()
    leader = comm.rank == 0
    steps, dts = 0, []
    ctx = BuildContext(params=dict(spec.params), ic=dict(spec.ic), resolution=spec.resolution,
                       seed=seed, comm=comm, mesh=mesh,
                       options={**system.options, **spec.options})
    stepper = build(system, ctx, spec.t_start)
    setup, solver, cfl, factors = stepper.setup, stepper.solver, stepper.cfl, stepper.factors
    c = setup.cfl
    # guard: the CFL velocity, or without advection the first stored field
    watched, watched_name = ((setup.velocity, "velocity") if setup.velocity is not None
                             else next((f, n) for n, f in setup.outputs.items()))
    guard = d3.GlobalFlowProperty(solver, cadence=c.cadence)
    guard.add_property(_squared_norm(watched), name="u2")
    monitor = StationaryMonitor(check, spec.times) if check is not None and leader else None

    # stored axes follow the card's order (the Well stores a (phi, theta) sphere as
    # (theta, phi)); resolutions in a config are in that order too
    sim_names = [a.name for a in setup.axes]
    order = [sim_names.index(a.name) for a in system.card.axes]
    stored = [0] * len(order)
    for k, i in enumerate(order):
        stored[i] = spec.stored_resolution[k]
    axes_modes = {a.name: ctx.options.get(f"{a.name}_grid") for a in setup.axes}
    resample = Resampler(setup.axes, tuple(stored), axes_modes, order=order)
    writer = None
    if leader:
        writer = WellWriter(out_path, spec.dataset_name, 1, spec.times,
                            time_units=system.card.time_units, grid_type=system.card.grid_type)
        coords = system.stored_axes(setup.axes, tuple(stored), ctx.options)
        for i, ax in zip(order, system.card.axes):
            writer.add_dimension(coords[i][0], coords[i][1], units=ax.units)
        for name, value in spec.params.items():
            p = system.card.param(name)
            writer.add_parameter(spec.param_names.get(name, name), value, units=p.units)
        for name in setup.outputs:
            fc = system.card.field(name)
            writer.add_field(name, order=fc.order, units=fc.units)
        for ax in system.card.axes:
            writer.add_boundary_condition(
                ax.name, ax.bc, variant=ax.bc_variant, fields=ax.bc_fields,
                values=ax.bc_values or None)
        writer.set_root_attrs(wellforge_system=system.name,
                              wellforge_card=card_json(system.card))

    def write_frame(k: int, t: float) -> None:
        """Gather, check and write one frame; every rank of the group takes part in every
        collective and raises the same error (a rank left behind would hang the group)."""
        frame, problem = {}, None
        for name, expr in setup.outputs.items():
            f = expr if not hasattr(expr, "evaluate") else expr.evaluate()
            data = gather_global(f, comm)
            if leader and problem is None:
                data = resample(data)
                if np.all(np.isfinite(data)):
                    frame[name] = data.astype(np.float32)
                else:
                    problem = ("nonfinite", f"non-finite values in {name}")
        if leader and problem is None:
            try:
                writer.write_frame(0, k, frame)
            except DiskFull as e:
                problem = ("disk", str(e))
            if monitor is not None:
                monitor.update(k, frame)
        problem = comm.bcast(problem, root=0)
        if problem is not None:
            if problem[0] == "disk":
                raise DiskFull(problem[1])
            raise RunFailed(problem[1], t)

    # with a spin-up the clock also lands on t_start (the IC, not stored): clock index
    # lead + k is stored frame k
    lead = 1 if spec.spinup > 0 else 0
    clock = OutputClock(np.concatenate([[spec.t_start], spec.times]) if lead else spec.times,
                        threshold=c.threshold if cfl is not None else 0.0)
    bar = _Progress(label, spec.t_start, float(spec.times[-1]), progress and leader)
    resumed = None
    try:
        if checkpoint is not None and checkpoint.available():
            k, t = checkpoint.restore(solver, cfl)
            if leader:
                writer.resume(checkpoint.frames, k + 1)
            clock.k, resumed = lead + k + 1, {"frame": k, "time": t}
            logger.info("run %s resumed from its checkpoint at frame %d (t = %g)",
                        spec.run_id, k, t)
        elif not lead:
            for f in solver.state:  # store the state the solver evolves: the IC projected
                f.change_layout("c")  # on the bases (e.g. grid noise loses its Nyquist mode)
            write_frame(0, spec.t_start)
        while not clock.done:
            dt_cfl = stepper.target_dt()
            if not np.isfinite(dt_cfl) or dt_cfl < c.min_dt:
                raise RunFailed(f"time step collapsed to {dt_cfl:.3g} (floor {c.min_dt:g})",
                                solver.sim_time)
            dt, lands = clock.step(solver.sim_time, dt_cfl)
            solver.step(dt)
            steps += 1
            dts.append(dt)
            if (solver.iteration - 1) % c.cadence == 0 and not np.isfinite(guard.max("u2")):
                raise RunFailed(f"non-finite {watched_name}", solver.sim_time)
            if lands:
                solver.sim_time = float(clock.times[clock.k])  # drop accumulated round-off
                k = clock.k - lead
                write_frame(k, solver.sim_time)
                if checkpoint is not None and checkpoint.due(k, len(spec.times)):
                    checkpoint.save(k, solver, cfl, writer, comm)
                clock.k += 1
                bar.update(solver.sim_time, steps)
    except RunFailed as e:
        if writer is not None:
            writer.abort()
        wall = _time.perf_counter() - wall0
        logger.warning("run %s failed: %s", spec.run_id, e)
        return RunResult(spec.run_id, "failed", reason=e.reason, fail_time=e.sim_time,
                         steps=steps, wall_s=wall, core_s=wall * comm.size)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    wall = _time.perf_counter() - wall0
    verdict = comm.bcast((monitor.stationary, monitor.time) if monitor is not None else
                         (False, math.nan), root=0)
    if check is not None and verdict[0] and replace_if_stationary:
        if writer is not None:
            writer.abort()
        return RunResult(spec.run_id, "replaced", reason="stationary", fail_time=verdict[1],
                         steps=steps, wall_s=wall, core_s=wall * comm.size)
    dts_a = np.asarray(dts) if dts else np.array([math.nan])
    result = RunResult(spec.run_id, "done", path=out_path, steps=steps, wall_s=wall,
                       core_s=wall * comm.size, dt_min=float(dts_a.min()),
                       dt_max=float(dts_a.max()), dt_mean=float(dts_a.mean()))
    if leader:
        import dedalus

        stationary = {}
        if check is not None:
            if verdict[0]:
                logger.warning("run %s became stationary at t = %.6g (%s constant to rtol "
                               "%g)", spec.run_id, verdict[1], check.field, check.rtol)
            stationary = {"stationary": [bool(verdict[0])],
                          "stationary_time": [float(verdict[1])],
                          "stationary_check": {**asdict(check), "policy":
                                               ctx.options.get("stationary"),
                                               "max_change": monitor.max_change},
                          "replaced": [attempt]}
        writer.set_provenance({
            "generator": "wellforge", "system": system.name, "run_ids": [spec.run_id],
            "seeds": [int(seed)], "ic": [spec.ic], "parameters": spec.params,
            "options": ctx.options, "timestepper": setup.timestepper, "dealias": ctx.dealias,
            "cfl": asdict(c) if cfl is not None else {"fixed_dt": c.max_dt},
            "resolution_simulated": list(spec.resolution),
            "resolution_stored": list(spec.stored_resolution),
            "output_times": "exact: steps shortened to land on t_start + spinup + k*dt_out",
            "mpi": {"ranks": comm.size, "mesh": list(mesh) if mesh else None},
            "fftw_planning": "estimate",
            "dt_stats": {"min": result.dt_min, "max": result.dt_max, "mean": result.dt_mean,
                         "steps": steps, **({"factorisations": factors.misses,
                                             "factorisations_reused": factors.hits}
                                            if factors.active else {})},
            "wall_s": [wall], "core_s": [wall * comm.size],
            "host": socket.gethostname(), "dedalus_version": dedalus.__version__,
            "numpy_version": np.__version__, "wellforge_version": __version__,
            "python": sys.version.split()[0], "pid": os.getpid(),
            **stationary, **(provenance or {}),
            **({"resumed_from_checkpoint": [resumed]} if resumed else {}),
        })
        writer.close()
        if checkpoint is not None:
            checkpoint.remove()
    return result
