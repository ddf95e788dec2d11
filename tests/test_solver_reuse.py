"""Build once per cell: the runs of one parameter set on one rank group reuse the solver
(its matrices), and give bit for bit the data of solvers built afresh — for a Runge–Kutta
scheme (rayleigh_benard, RK222) and a multistep one (shear_flow, SBDF3), with the CFL
step changing during the runs."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from wellforge.generators.commands import load_plan
from wellforge.generators.runner import run_trajectory
from wellforge.generators.solver import SolverCache
from wellforge.schema.reader import read_provenance

CASES = {
    # convection sets in within the run: the CFL step falls below max_dt and changes
    "rayleigh_benard": ["Rayleigh=1e6", "Prandtl=1", "noise=0.3", "n_frames=8", "dt_out=1",
                        "spinup=0", "resolution=32,16", "stored_resolution=32,16"],
    "shear_flow": ["Reynolds=1e4", "Schmidt=1", "n_frames=6", "dt_out=0.2", "spinup=0",
                   "resolution=32,64", "stored_resolution=32,64"],
}


def data(path):
    with h5py.File(path) as f:
        fields = {f"{g}/{n}": f[g][n][()] for g in ("t0_fields", "t1_fields") for n in f[g]}
        return fields, read_provenance(f)


@pytest.mark.parametrize("system", sorted(CASES))
def test_reuse_is_bitwise_equal_to_fresh_builds(system, tmp_path):
    plan = load_plan(system, "tiny", [f for f in CASES[system]])
    runs = [r for r in plan.runs if r.file_key == plan.runs[0].file_key]
    assert len(runs) == 3 and len({r.seed for r in runs}) == 3  # one cell, three ICs
    shared = SolverCache()
    for r in runs:
        fresh = run_trajectory(plan.system, r, str(tmp_path / f"fresh_{r.index}.hdf5"),
                               progress=False, solvers=SolverCache())
        kept = run_trajectory(plan.system, r, str(tmp_path / f"kept_{r.index}.hdf5"),
                              progress=False, solvers=shared)
        assert fresh.status == kept.status == "done"
        assert fresh.steps == kept.steps and fresh.dt_min == kept.dt_min
        a, pa = data(tmp_path / f"fresh_{r.index}.hdf5")
        b, pb = data(tmp_path / f"kept_{r.index}.hdf5")
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{system} run {r.index} {k}")
        assert pa["solver_reused"] == [False]
        assert pb["solver_reused"] == [r is not runs[0]]
        if r is runs[0]:
            continue
        # the comparison is not between runs that never changed their step
        assert pa["dt_stats"]["min"] < pa["dt_stats"]["max"], pa["dt_stats"]
    assert shared.builds == 1 and shared.reuses == 2


def test_another_cell_builds_a_new_solver(tmp_path):
    plan = load_plan("kuramoto_sivashinsky", "tiny", ["spinup=0", "n_frames=3"])
    cache = SolverCache()
    cells = []
    for r in plan.runs:
        assert run_trajectory(plan.system, r, str(tmp_path / f"{r.index}.hdf5"),
                              progress=False, solvers=cache).status == "done"
        cells.append(r.file_key)
    n_cells = len([k for i, k in enumerate(cells) if i == 0 or k != cells[i - 1]])
    assert cache.builds == n_cells == 2 and cache.reuses == len(plan.runs) - 2
