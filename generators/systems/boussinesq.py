"""The Boussinesq equations between no-slip isothermal walls, in 2 or 3 dimensions: the
one problem of ``rayleigh_benard`` (x periodic, y vertical) and ``rayleigh_benard_3d``
(x, y periodic, z vertical). As the Dedalus example ``ivp_2d_rayleigh_benard``, in
free-fall units with layer height H = 1:

    div(u) + tau_p = 0
    dt(b) - kappa lap(b) + lift(tau_b2) = -u.grad(b)          kappa = (Ra Pr)^(-1/2)
    dt(u) - nu lap(u) + grad(p) - b e_v + lift(tau_u2) = -u.grad(u)    nu = (Ra/Pr)^(-1/2)
    b(v=0) = 1, b(v=H) = 0, u(v=0) = u(v=H) = 0, integ(p) = 0

first-order tau form (the tau terms live on the horizontal bases and are lifted on the
first derivative basis of the vertical ChebyshevT basis); v is the last coordinate.
"""

from __future__ import annotations

import numpy as np

from ..system import BuildContext, CFLSettings, ICParam, Setup

#: the initial-condition parameters of both Boussinesq systems (2-D and 3-D)
IC_PARAMS = (
    ICParam("ic", "consistent", "IC family", choices=("consistent", "well")),
    ICParam("dT", 1.0, "IC amplitude scale (the Well's δb0)", low=0.0, high=10.0),
    ICParam("noise", 1e-3, "noise standard deviation", low=0.0, high=1.0),
    ICParam("noise_seed", None, "fill_random seed (default: the run's seed)"),
)


def boussinesq_box(ctx: BuildContext, names: tuple[str, ...], lengths: tuple[float, ...],
                   Ra: float, Pr: float) -> Setup:
    """The problem on [0, L_1) × ... × [0, H] (the last of ``names`` vertical, the others
    periodic) with the IC of ``ctx.ic``: noise (σ ``noise``, ``fill_random``: the same for
    any process mesh) × v(H - v) on the conductive profile H - v (IC ``consistent``: the
    noise scaled by dT; IC ``well``: dT (H - v) + noise, as in the Well); ``roll_pairs``
    = m > 0 adds noise × sin(π v/H) cos(2π m x_1/L_1), which selects 2m rolls."""
    import dedalus.public as d3

    coords = d3.CartesianCoordinates(*names)
    dist = ctx.distributor(coords)
    *horizontal, vertical = [
        d3.RealFourier(coords[c], size=n, bounds=(0, L), dealias=ctx.dealias)
        for c, n, L in zip(names[:-1], ctx.resolution[:-1], lengths[:-1])
    ] + [d3.ChebyshevT(coords[names[-1]], size=ctx.resolution[-1], bounds=(0, lengths[-1]),
                       dealias=ctx.dealias)]
    bases, hbases = (*horizontal, vertical), tuple(horizontal)
    p = dist.Field(name="p", bases=bases)
    b = dist.Field(name="b", bases=bases)
    u = dist.VectorField(coords, name="u", bases=bases)
    tau_p = dist.Field(name="tau_p")
    tau_b1 = dist.Field(name="tau_b1", bases=hbases)
    tau_b2 = dist.Field(name="tau_b2", bases=hbases)
    tau_u1 = dist.VectorField(coords, name="tau_u1", bases=hbases)
    tau_u2 = dist.VectorField(coords, name="tau_u2", bases=hbases)

    H = lengths[-1]
    kappa = (Ra * Pr) ** (-1 / 2)
    nu = (Ra / Pr) ** (-1 / 2)
    ev = coords.unit_vector_fields(dist)[-1]
    lift_basis = vertical.derivative_basis(1)
    lift = lambda A: d3.Lift(A, lift_basis, -1)  # noqa: E731
    grad_u = d3.grad(u) + ev * lift(tau_u1)
    grad_b = d3.grad(b) + ev * lift(tau_b1)

    v = names[-1]
    problem = d3.IVP([p, b, u, tau_p, tau_b1, tau_b2, tau_u1, tau_u2], namespace=locals())
    problem.add_equation("trace(grad_u) + tau_p = 0")
    problem.add_equation("dt(b) - kappa*div(grad_b) + lift(tau_b2) = - u@grad(b)")
    problem.add_equation("dt(u) - nu*div(grad_u) + grad(p) - b*ev + lift(tau_u2) = - u@grad(u)")
    problem.add_equation(f"b({v}=0) = H")
    problem.add_equation(f"u({v}=0) = 0")
    problem.add_equation(f"b({v}=H) = 0")
    problem.add_equation(f"u({v}=H) = 0")
    problem.add_equation("integ(p) = 0")

    ic = ctx.ic
    dT = float(ic.get("dT", 1.0))
    seed = ic.get("noise_seed")
    seed = int(ctx.seed if seed is None else seed)
    height = dist.local_grids(*bases)[-1]
    b.fill_random("g", seed=seed, distribution="normal", scale=float(ic.get("noise", 1e-3)))
    b["g"] *= height * (H - height)  # damp noise at the walls
    pairs = int(ic.get("roll_pairs", 0))
    if pairs:  # a roll mode of the noise's size along the first horizontal axis: 2 pairs rolls
        first = dist.local_grids(*bases)[0]
        b["g"] += float(ic.get("noise", 1e-3)) * np.sin(np.pi * height / H) * np.cos(
            2 * np.pi * pairs * first / lengths[0])
    if ic.get("ic", "consistent") == "well":
        b["g"] += dT * (H - height)
    else:
        b["g"] *= dT
        b["g"] += H - height

    return Setup(
        problem=problem,
        outputs={"buoyancy": b, "pressure": p, "velocity": u},
        velocity=u,
        timestepper="RK222",
        cfl=CFLSettings(initial_dt=0.125, max_dt=0.125, safety=0.5, threshold=0.05),
    )
