"""3-D solvers couple every local axis past the first (``solver.matrix_coupling``): fewer
subproblems, the same solution as Dedalus's default coupling."""

import numpy as np
import pytest
from wellforge.generators.registry import get_system
from wellforge.generators.solver import build, matrix_coupling
from wellforge.generators.system import BuildContext

CASES = {"taylor_green_3d": ({"Reynolds": 400.0}, {"amplitude": 0.05}, (8, 8, 8)),
         "rayleigh_benard_3d": ({"Rayleigh": 5e3, "Prandtl": 1.0, "aspect": 2.0},
                                {"noise": 0.05}, (8, 8, 8)),
         "kolmogorov_flow": ({"Reynolds": 40.0, "n_forcing": 4}, {}, (16, 16))}


def _state(system, params, ic, res, default):
    import dedalus.public as d3

    ctx = BuildContext(params=params, ic=ic, resolution=res, seed=3)
    if default:  # Dedalus's own choice of coupling
        setup = system.build(ctx)
        solver = setup.problem.build_solver(getattr(d3, setup.timestepper))
    else:
        st = build(system, ctx)
        setup, solver = st.setup, st.solver
    for _ in range(5):
        solver.step(0.05)
    u = setup.outputs["velocity"]
    u.change_scales(1)
    return np.array(u["g"]), solver


@pytest.mark.parametrize("name", sorted(CASES))
def test_coupled_solver_gives_dedalus_solution(name):
    system = get_system(name)
    params, ic, res = CASES[name]
    ours, solver = _state(system, params, ic, res, default=False)
    theirs, default = _state(system, params, ic, res, default=True)
    if len(res) == 3:  # one rank: every axis but the first coupled, one subproblem per pair
        assert list(solver.matrix_coupling) == [False, True, True]
        assert len(solver.subproblems) == res[0] // 2 < len(default.subproblems)
    else:  # 2-D: Dedalus's choice
        assert matrix_coupling(solver.problem) is None
        assert len(solver.subproblems) == len(default.subproblems)
    assert np.abs(ours - theirs).max() <= 1e-12 * np.abs(theirs).max()
    assert np.abs(ours).max() > 0
