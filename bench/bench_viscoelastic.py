"""Cost of viscoelastic_instability: core-seconds per stored frame, tiny and Well size.

One trajectory on one rank (``OMP_NUM_THREADS=1``; core-seconds = this process's CPU
seconds, less disturbed by other jobs than wall time) of the preset's first run: once to
build the solver (reported: first_run_s), then with ``n0`` and ``n1`` stored frames on the
kept solver, twice, interleaved; cost per stored frame = (cpu(n1) − cpu(n0))/(n1 − n0)
(time stepping and output, without the setup), the smaller of the two pairs.
At Well size one stored frame (dt_out = 1) is hundreds of CFL steps, too many to time
here: the frames are timed at ``--well-dt-out`` (default 0.02) and the cost per Well frame
is extrapolated as (core-s per step) × (steps per unit time) × dt_out. The timed frames
start at t = 0, where the step is the CFL's initial 1e-3, so the steps per unit time
printed for Well size are that start's, not the developed flow's (see bench/RESULTS.md).

Usage: python bench/bench_viscoelastic.py [--sizes tiny well] [--well-dt-out 0.02]
"""

import argparse
import json
import logging
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMEXPR_MAX_THREADS", "1")

from wellforge.generators.config import build_plan, merge_config
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory
from wellforge.generators.solver import SolverCache

NAME = "viscoelastic_instability"
FRAMES = {"tiny": (2, 10), "well": (1, 2)}
PAIRS = {"tiny": 2, "well": 1}  # a Well-size pair is ~1 min of CPU


def one(system, spec, n, dt_out, out, solvers):
    s = RunSpec(spec.run_id, spec.index, spec.system, spec.dataset_name, spec.params, spec.ic,
                spec.seed, spec.resolution, spec.stored_resolution, spec.t_start,
                dt_out, n, options=spec.options)
    t0 = time.process_time()
    r = run_trajectory(system, s, out, progress=False, solvers=solvers)
    assert r.status == "done", r.reason
    return time.process_time() - t0, r.steps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", nargs="+", default=["tiny", "well"])
    p.add_argument("--well-dt-out", type=float, default=0.005)
    args = p.parse_args()
    logging.disable(logging.WARNING)
    system = get_system(NAME)
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            plan = build_plan(system, merge_config(system, size, None, None))
            spec = plan.runs[0]
            dt_out = spec.dt_out if size == "tiny" else args.well_dt_out
            n0, n1 = FRAMES[size]
            solvers = SolverCache()  # built once (timed apart), then reused: A B A B
            t0 = time.process_time()
            one(system, spec, 1, dt_out, os.path.join(tmp, "w.hdf5"), solvers)
            setup = time.process_time() - t0
            pairs = []
            for _ in range(PAIRS[size]):
                w0, s0 = one(system, spec, n0, dt_out, os.path.join(tmp, "a.hdf5"), solvers)
                w1, s1 = one(system, spec, n1, dt_out, os.path.join(tmp, "b.hdf5"), solvers)
                pairs.append((w1 - w0) / (n1 - n0))
            per_frame = min(pairs)
            steps_per_time = (s1 - s0) / ((n1 - n0) * dt_out)
            per_step = per_frame / max((s1 - s0) / (n1 - n0), 1)
            row = dict(size=size, resolution=list(spec.resolution), params=spec.params,
                       ic=spec.ic, dt_out_timed=dt_out, core_s_per_timed_frame=per_frame,
                       steps_per_time_unit=steps_per_time, core_s_per_step=per_step,
                       core_s_per_stored_frame=per_step * steps_per_time * spec.dt_out,
                       pairs=pairs, first_run_s=setup, runs=len(plan.runs),
                       run_frames=plan.config["time"]["n_frames"],
                       load=os.getloadavg())
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
