"""Cost of the issue-7 systems (and active_matter, issue 17): core-seconds per stored frame,
at tiny and at Well size.

One trajectory per system and size on one rank (core-seconds = wall seconds), simulated
twice, with ``n0`` and ``n1`` stored frames: the cost per stored frame is
(wall(n1) - wall(n0)) / (n1 - n0), which excludes the setup (solver matrices, IC LBVPs,
resampling matrices); the setup is reported separately. The last column extrapolates one
full run of the preset (all its frames) times its number of runs.

Usage: python bench/bench_systems.py [--sizes tiny well] [--systems NAME ...] [--well-run N]
                                    [--repeat K] [--frames N0 N1]
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

SYSTEMS = ("gray_scott_reaction_diffusion", "kolmogorov_flow", "kuramoto_sivashinsky",
           "planetswe", "active_matter")
#: frames (n0, n1) per size: Well-size runs are kept short
FRAMES = {"tiny": (2, 10), "well": (2, 4)}
#: which planned run to time at Well size (index into the preset's sweep)
WELL_RUN = {"kolmogorov_flow": 80,  # Re = 100 (runs are Reynolds-major, 40 ICs each)
            # the dearest cell, ζ = 17, α = -5 (zeta-major, 5 ICs each): the step is
            # 0.1/(1 + ζ + |α|), 8 times the cheapest cell's (ζ = 1, α = -1: run 0)
            "active_matter": 220}


def one(system, spec, n, out):
    s = RunSpec(spec.run_id, spec.index, spec.system, spec.dataset_name, spec.params, spec.ic,
                spec.seed, spec.resolution, spec.stored_resolution, spec.t_start,
                spec.dt_out, n, options=spec.options)
    t0, c0 = time.perf_counter(), time.process_time()
    r = run_trajectory(system, s, out, progress=False)
    assert r.status == "done", r.reason
    return time.perf_counter() - t0, r.steps, time.process_time() - c0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", nargs="+", default=["tiny", "well"])
    p.add_argument("--systems", nargs="+", default=list(SYSTEMS))
    p.add_argument("--repeat", type=int, default=1, help="interleaved (n0, n1) pairs")
    p.add_argument("--frames", type=int, nargs=2, default=None, metavar=("N0", "N1"),
                   help="stored frames of the two runs (default: FRAMES of the size)")
    p.add_argument("--well-run", type=int, default=None,
                   help="index of the planned run to time at Well size (default: WELL_RUN)")
    args = p.parse_args()
    logging.disable(logging.WARNING)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.systems:
            system = get_system(name)
            for size in args.sizes:
                plan = build_plan(system, merge_config(system, size, None, None))
                well_run = args.well_run if args.well_run is not None else WELL_RUN.get(name, 0)
                spec = plan.runs[well_run if size == "well" else 0]
                n0, n1 = args.frames or FRAMES[size]
                one(system, spec, n0, os.path.join(tmp, "w.hdf5"))  # warm-up: imports, caches
                # interleaved pairs (n0, n1, n0, n1), the faster of each: less load noise
                pairs = [(one(system, spec, n0, os.path.join(tmp, "a.hdf5")),
                          one(system, spec, n1, os.path.join(tmp, "b.hdf5")))
                         for _ in range(args.repeat)]
                (w0, s0, c0), (w1, s1, c1) = (
                    min((p_[i] for p_ in pairs), key=lambda x: x[0]) for i in (0, 1))
                per = (w1 - w0) / (n1 - n0)
                rows.append(dict(system=name, size=size, resolution=list(spec.resolution),
                                 params=spec.params, ic=spec.ic.get("ic"),
                                 dt_out=spec.dt_out, frames=n1,
                                 steps_per_frame=(s1 - s0) / (n1 - n0),
                                 core_s_per_frame=per, setup_s=w0 - (n0 - 1) * per,
                                 # the process's CPU time: what a loaded machine's wall
                                 # clock inflates (one rank, one thread)
                                 cpu_s_per_frame=(c1 - c0) / (n1 - n0),
                                 run_frames=plan.config["time"]["n_frames"],
                                 runs=len(plan.runs)))
                print(json.dumps(rows[-1]), flush=True)
    print("| system | size | grid (sim) | run timed | steps/frame | core-s/frame | CPU s/frame |"
          " setup s | core-h per full dataset |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        total = r["runs"] * (r["setup_s"] + (r["run_frames"] - 1) * r["core_s_per_frame"])
        print(f"| {r['system']} | {r['size']} | {' × '.join(map(str, r['resolution']))} | "
              f"{r['params'] or ''} {r['ic'] or ''} | {r['steps_per_frame']:.0f} | "
              f"{r['core_s_per_frame']:.3g} | {r['cpu_s_per_frame']:.3g} | {r['setup_s']:.2g} | "
              f"{total / 3600:.3g} |")


if __name__ == "__main__":
    main()
