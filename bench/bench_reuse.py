"""Setup per run with and without solver reuse, for the initial conditions of one cell.

The runs of one parameter cell of a system's ``well`` preset (same equations, parameters
and resolution; ``--runs`` initial conditions, default 10) are simulated in one process,
one after the other, as a rank group of ``wellforge generate`` runs them: once with a fresh
solver for every run (the setup of the last round: problem, matrices, factorisations,
initial-condition solves every time) and once with one ``SolverCache`` for the cell (the
first run builds, the others copy their initial state into it). Each run stores
``--frames`` frames ``--dt-out`` apart (short: the setup is what is measured). Setup per
run = the ``build_s`` each run records in its provenance; wall = the whole run.

Usage: python bench/bench_reuse.py [--system kolmogorov_flow] [--runs 10] [--frames 2]
"""

import argparse
import json
import logging
import os
import statistics
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMEXPR_MAX_THREADS", "1")

import h5py

from wellforge.generators.config import build_plan, merge_config
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory
from wellforge.generators.solver import SolverCache
from wellforge.schema.reader import read_provenance


def cell_runs(system, runs: int, frames: int, dt_out: float | None):
    plan = build_plan(system, merge_config(system, "well", None, None))
    first = plan.runs[0]
    cell = [s for s in plan.runs if s.params == first.params][:runs]
    return [RunSpec(s.run_id, s.index, s.system, s.dataset_name, s.params, s.ic, s.seed,
                    s.resolution, s.stored_resolution, s.t_start, dt_out or s.dt_out, frames,
                    options=s.options) for s in cell]


def sweep(system, specs, reuse: bool, tmp: str) -> list[dict]:
    shared = SolverCache()
    out = []
    for i, spec in enumerate(specs):
        path = os.path.join(tmp, f"{'reuse' if reuse else 'fresh'}_{i}.hdf5")
        t0 = time.perf_counter()
        r = run_trajectory(system, spec, path, progress=False,
                           solvers=shared if reuse else SolverCache())
        wall = time.perf_counter() - t0
        assert r.status == "done", r.reason
        with h5py.File(path) as f:
            pv = read_provenance(f)
        out.append({"build_s": pv["build_s"][0], "reused": pv["solver_reused"][0],
                    "wall_s": wall, "steps": r.steps})
        print(json.dumps({"reuse": reuse, "run": i, **out[-1]}), flush=True)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--system", default="kolmogorov_flow")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--frames", type=int, default=2)
    p.add_argument("--dt-out", type=float, default=None,
                   help="output interval (default: the preset's)")
    args = p.parse_args()
    logging.disable(logging.WARNING)
    system = get_system(args.system)
    specs = cell_runs(system, args.runs, args.frames, args.dt_out)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = sweep(system, specs, False, tmp)
        reuse = sweep(system, specs, True, tmp)
    load1 = os.getloadavg()[0]

    def total(rows, k):
        return sum(r[k] for r in rows)

    print(f"\n{args.system}, well preset cell {specs[0].params}, {len(specs)} ICs, "
          f"{'×'.join(map(str, specs[0].resolution))}, {args.frames} frames every "
          f"{specs[0].dt_out:g}; load average {load0:.1f} → {load1:.1f}")
    print("| | setup s, first run | setup s, median of the others | setup s, cell total |"
          " wall s, cell total |")
    print("|---|---|---|---|---|")
    for name, rows in (("fresh build per run", fresh), ("built once per cell", reuse)):
        print(f"| {name} | {rows[0]['build_s']:.2f} | "
              f"{statistics.median(r['build_s'] for r in rows[1:]):.3f} | "
              f"{total(rows, 'build_s'):.1f} | {total(rows, 'wall_s'):.1f} |")
    print(f"setup of the cell: {total(fresh, 'build_s') / total(reuse, 'build_s'):.1f}× less; "
          f"whole cell: {total(fresh, 'wall_s') / total(reuse, 'wall_s'):.2f}× less")


if __name__ == "__main__":
    main()
