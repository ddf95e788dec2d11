"""Baseline: the Rayleigh–Bénard problem stepped by a plain Dedalus script.

The Dedalus example ``ivp_2d_rayleigh_benard`` (same equations, tau form, IC and CFL
settings as wellforge's rayleigh_benard system), stopped at ``t_end``. Without ``--output``
nothing is written; with ``--output DIR`` Dedalus's own file handler writes b, p and u every
``--dt-out`` (as the example does), for ``--runs`` initial conditions (seeds 42, 43, ...)
one after the other, each built afresh as the example would be. Prints one JSON line.
Usage: python bench/plain_rayleigh_benard.py NX NZ RAYLEIGH T_END [--runs N] [--output DIR]
"""

import json
import time

import numpy as np


def main(Nx, Nz, Rayleigh, t_end, Prandtl=1.0, seed=42, output=None, dt_out=0.25):
    t0 = time.perf_counter()
    import dedalus.public as d3

    Lx, Lz = 4, 1
    coords = d3.CartesianCoordinates("x", "z")
    dist = d3.Distributor(coords, dtype=np.float64)
    xbasis = d3.RealFourier(coords["x"], size=Nx, bounds=(0, Lx), dealias=3 / 2)
    zbasis = d3.ChebyshevT(coords["z"], size=Nz, bounds=(0, Lz), dealias=3 / 2)
    p = dist.Field(name="p", bases=(xbasis, zbasis))
    b = dist.Field(name="b", bases=(xbasis, zbasis))
    u = dist.VectorField(coords, name="u", bases=(xbasis, zbasis))
    tau_p = dist.Field(name="tau_p")
    tau_b1 = dist.Field(name="tau_b1", bases=xbasis)
    tau_b2 = dist.Field(name="tau_b2", bases=xbasis)
    tau_u1 = dist.VectorField(coords, name="tau_u1", bases=xbasis)
    tau_u2 = dist.VectorField(coords, name="tau_u2", bases=xbasis)
    kappa = (Rayleigh * Prandtl) ** (-1 / 2)
    nu = (Rayleigh / Prandtl) ** (-1 / 2)
    x, z = dist.local_grids(xbasis, zbasis)
    ex, ez = coords.unit_vector_fields(dist)
    lift_basis = zbasis.derivative_basis(1)
    lift = lambda A: d3.Lift(A, lift_basis, -1)  # noqa: E731
    grad_u = d3.grad(u) + ez * lift(tau_u1)
    grad_b = d3.grad(b) + ez * lift(tau_b1)
    problem = d3.IVP([p, b, u, tau_p, tau_b1, tau_b2, tau_u1, tau_u2], namespace=locals())
    problem.add_equation("trace(grad_u) + tau_p = 0")
    problem.add_equation("dt(b) - kappa*div(grad_b) + lift(tau_b2) = - u@grad(b)")
    problem.add_equation("dt(u) - nu*div(grad_u) + grad(p) - b*ez + lift(tau_u2) = - u@grad(u)")
    problem.add_equation("b(z=0) = Lz")
    problem.add_equation("u(z=0) = 0")
    problem.add_equation("b(z=Lz) = 0")
    problem.add_equation("u(z=Lz) = 0")
    problem.add_equation("integ(p) = 0")
    solver = problem.build_solver(d3.RK222)
    solver.stop_sim_time = t_end
    b.fill_random("g", seed=seed, distribution="normal", scale=1e-3)
    b["g"] *= z * (Lz - z)
    b["g"] += Lz - z
    CFL = d3.CFL(solver, initial_dt=0.125, cadence=10, safety=0.5, threshold=0.05,
                 max_change=1.5, min_change=0.5, max_dt=0.125)
    CFL.add_velocity(u)
    if output:
        snapshots = solver.evaluator.add_file_handler(f"{output}/run_{seed}", sim_dt=dt_out,
                                                      max_writes=10**6)
        snapshots.add_task(b, name="buoyancy")
        snapshots.add_task(p, name="pressure")
        snapshots.add_task(u, name="velocity")
    while solver.proceed:
        solver.step(CFL.compute_timestep())
    return {"wall_s": time.perf_counter() - t0, "steps": solver.iteration,
            "sim_time": solver.sim_time}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("nx", type=int)
    ap.add_argument("nz", type=int)
    ap.add_argument("rayleigh", type=float)
    ap.add_argument("t_end", type=float)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--output", default=None)
    a = ap.parse_args()
    t0 = time.perf_counter()
    runs = [main(a.nx, a.nz, a.rayleigh, a.t_end, seed=42 + i, output=a.output)
            for i in range(a.runs)]
    print(json.dumps({"wall_s": time.perf_counter() - t0,
                      "steps": sum(r["steps"] for r in runs), "runs": a.runs}))
