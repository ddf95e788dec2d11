"""FactorCache: Dedalus's LHS factorisations reused across recurring step sizes give the
same state, bit for bit, as refactorising at every change of dt."""

from __future__ import annotations

import numpy as np
import pytest
from wellforge.generators.engine import dedalus
from wellforge.generators.factor_cache import FactorCache


def burgers(timestepper="RK222", n=32):
    """Viscous Burgers on a periodic line: one implicit diffusion term, so the LHS
    M + k H_ii L changes with every step size."""
    d3 = dedalus()
    xc = d3.Coordinate("x")
    dist = d3.Distributor(xc, dtype=np.float64)
    xb = d3.RealFourier(xc, size=n, bounds=(0, 2 * np.pi), dealias=3 / 2)
    u = dist.Field(name="u", bases=xb)
    nu = 0.05
    dx = lambda A: d3.Differentiate(A, xc)
    problem = d3.IVP([u], namespace={"u": u, "nu": nu, "dx": dx})
    problem.add_equation("dt(u) - nu*dx(dx(u)) = - u*dx(u)")
    x = dist.local_grid(xb)
    u["g"] = np.sin(x) + 0.3 * np.cos(3 * x)
    return problem.build_solver(getattr(d3, timestepper)), u


DTS = [0.01, 0.01, 0.013, 0.013, 0.01, 0.007, 0.013, 0.01, 0.01, 0.007]


def run(size):
    solver, u = burgers()
    cache = FactorCache(solver, size=size)
    for dt in DTS:
        solver.step(dt)
    return u["c"].copy(), cache


def test_cached_factorisations_give_the_same_state_bit_for_bit():
    ref, off = run(0)
    got, cache = run(4)
    assert not off.active and cache.active
    assert np.array_equal(ref, got) and np.all(np.isfinite(got))
    # three distinct step sizes: factorised once each; the seven later changes reused
    changes = sum(a != b for a, b in zip(DTS[1:], DTS[:-1]))
    assert cache.misses == 3 and cache.hits == changes - 2


def test_cache_keeps_at_most_size_step_sizes():
    _, cache = run(2)
    assert len(cache.cache) == 2
    assert cache.misses > 3  # evicted step sizes are factorised again


def test_multistep_schemes_are_left_alone():
    solver, _ = burgers("SBDF2")
    assert not FactorCache(solver).active
    assert "step" not in vars(solver.timestepper)  # the timestepper was not wrapped


@pytest.mark.parametrize("budget", [0, 1])
def test_memory_budget_keeps_only_the_current_factorisation(budget):
    solver, _ = burgers()
    cache = FactorCache(solver, size=4, budget=budget)
    for dt in DTS:
        solver.step(dt)
    assert len(cache.cache) == 1 and cache.hits == 0
