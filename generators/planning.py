"""``wellforge plan``: what a sweep will cost before it starts.

Counts and disk size are exact (from the plan and the stored shapes); time and memory come
from a short calibration run of the most expensive run at full resolution on one rank.
"""

from __future__ import annotations

import math
import resource
import time

import numpy as np
from wellforge.schema.spec import SPLITS

from .config import SweepPlan


def disk_bytes(plan: SweepPlan, runs: int | None = None) -> int:
    """Bytes of float32 field data of ``runs`` trajectories (default: all of the plan)."""
    r = plan.runs[0]
    per_point = sum(len(r.stored_resolution) ** f.order for f in plan.system.card.fields)
    n = len(plan.runs) if runs is None else runs
    return int(n * r.n_frames * np.prod(r.stored_resolution) * per_point * 4)


def frame_bytes(plan: SweepPlan, ranks_per_run: int = 1) -> int:
    """Bytes the group leader holds beyond its own part to write one frame. Resampled
    frames (or one rank): the field being gathered twice in float64 at the simulated
    resolution (the ranks' pieces, then the global array) and every stored field's float32
    frame. Stored as simulated on several ranks: one rank's piece at a time (float64 and
    its float32 copy) — the frame goes to the file in parts (``gather.pieces``)."""
    r = plan.runs[0]
    comps = [len(r.resolution) ** f.order for f in plan.system.card.fields]
    n = int(np.prod(r.resolution))
    if ranks_per_run > 1 and tuple(r.stored_resolution) == tuple(r.resolution):
        return int(max(comps) * -(-n // ranks_per_run) * (8 + 4))
    return int(2 * max(comps) * n * 8 + sum(comps) * np.prod(r.stored_resolution) * 4)


def calibrate(plan: SweepPlan, steps: int) -> dict:
    """Build the costliest run's solver and time ``steps`` CFL steps on this rank."""
    from mpi4py import MPI

    from .solver import build
    from .system import BuildContext

    run = max(plan.runs, key=lambda r: r.cost)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    stepper = build(plan.system, BuildContext(params=run.params, ic=run.ic,
                                              resolution=run.resolution, seed=run.seed,
                                              comm=MPI.COMM_SELF,
                                              options={**plan.system.options, **run.options}))
    build_s = time.perf_counter() - t0
    c = stepper.setup.cfl
    dts = []
    t1 = time.perf_counter()
    for _ in range(steps):
        dt = stepper.target_dt()
        stepper.solver.step(dt)
        dts.append(dt)
    per_step = (time.perf_counter() - t1) / max(steps, 1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    dt = float(np.min(dts))
    span = run.span
    return {"steps": steps, "s_per_step": per_step, "build_s": build_s, "dt": dt,
            "at_max_dt": bool(dt >= c.max_dt), "fixed_dt": stepper.cfl is None,
            "steps_per_run": math.ceil(span / dt),
            "rss_mib": max(rss, rss0) / 1024.0}


def estimate(plan: SweepPlan, ranks: int, ranks_per_run: int, calibrate_steps: int,
             developed: bool = False, coarsen: int = 4) -> dict:
    """Counts, disk, and from a calibration the time: ``calibrate_steps`` steps of the
    costliest run at full resolution give the time per step and the solver's build
    time; the steps per run come from that calibration (a lower bound when the initial
    flow allows larger steps than the developed one) or, with ``developed``, from a coarse
    run of each parameter cell (``forecast``), reported as a range over the cells."""
    files = plan.files()
    groups = ranks // ranks_per_run
    splits = {s: sum(1 for r in plan.runs if r.split == s) for s in SPLITS}
    r0 = plan.runs[0]
    out = {"runs": len(plan.runs), "files": len(files),
           "ics_per_file": len(plan.runs) // max(len(files), 1), "splits": splits,
           "ranks_per_run": ranks_per_run, "groups": groups,
           "rounds": math.ceil(len(plan.runs) / groups),
           "resolution": list(r0.resolution), "stored_resolution": list(r0.stored_resolution),
           "n_frames": r0.n_frames, "dt_out": r0.dt_out, "disk_bytes": disk_bytes(plan),
           "leader_frame_bytes": frame_bytes(plan, ranks_per_run)}
    if calibrate_steps <= 0:
        return out
    cal = calibrate(plan, calibrate_steps)
    out["calibration"] = cal
    # the solver's arrays split over the group's ranks; the leader holds a frame besides
    out["rank_mib"] = cal["rss_mib"] / ranks_per_run
    steps = {key: cal["steps_per_run"] for key in files}
    if developed:
        from .forecast import forecast_cell

        cells = [forecast_cell(plan, runs[0], factor=coarsen) for runs in files.values()]
        out["forecast"] = cells
        for c in cells:
            if c["steps"] is not None:
                steps[c["cell"]] = c["steps"]
    # a group builds a cell's solver once and reuses it for the cell's other runs
    run_s = {key: steps[key] * cal["s_per_step"] for key in files}
    core_s = sum(len(runs) * run_s[key] + cal["build_s"] for key, runs in files.items())
    out["steps_per_run"] = {"min": min(steps.values()), "max": max(steps.values())}
    out["core_hours"] = core_s / 3600  # ideal strong scaling within a run
    out["wall_hours"] = max(core_s / 3600 / max(ranks, 1),
                            max(run_s.values()) / ranks_per_run / 3600)
    out["lower_bound"] = not developed and bool(cal["at_max_dt"]) and not cal["fixed_dt"]
    return out
