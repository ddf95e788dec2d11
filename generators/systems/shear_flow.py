"""shear_flow: 2-D periodic incompressible shear layers with a passive tracer.

As in the Well (Dedalus ``ivp_2d_shear_flow``, generalised to several layers):

    dt(u) + grad(p) - nu lap(u) = -u.grad(u)          nu = 1/Re
    dt(s) - D lap(s)            = -u.grad(s)          D  = nu/Sc
    div(u) + tau_p = 0,   integ(p) = 0

on x in [0, 1) × y in [-1, 1), both periodic (the Well's y is Dedalus's z).
"""

from __future__ import annotations

import numpy as np
from wellforge.schema.card import AxisCard, FieldCard, InvariantCard, ParamCard, SystemCard

from ..system import BuildContext, CFLSettings, ICParam, Setup, System

LX, LY = 1.0, 2.0

CARD = SystemCard(
    name="shear_flow",
    title="Periodic shear flow: incompressible Navier–Stokes with a passive tracer",
    equations=r"""
\partial_t \mathbf u + \nabla p - \nu \nabla^2 \mathbf u = -\mathbf u\cdot\nabla \mathbf u,
\quad \partial_t s - D \nabla^2 s = -\mathbf u\cdot\nabla s,
\quad \nabla\cdot\mathbf u = 0, \quad \nu = 1/\mathrm{Re},\ D = \nu/\mathrm{Sc}
""",
    fields=(
        FieldCard("tracer", 0, "1", "passive tracer s"),
        FieldCard("pressure", 0, "1", "pressure p (zero mean)"),
        FieldCard("velocity", 1, "1", "velocity (u_x, u_y)"),
    ),
    parameters=(
        ParamCard("Reynolds", "1", "Reynolds number Re = 1/nu", 1.0, 1e7,
                  (1e4, 5e4, 1e5, 5e5)),
        ParamCard("Schmidt", "1", "Schmidt number Sc = nu/D", 1e-3, 1e3,
                  (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)),
    ),
    axes=(
        AxisCard("x", "fourier", (0.0, LX), "1", "PERIODIC"),
        AxisCard("y", "fourier", (-LY / 2, LY / 2), "1", "PERIODIC"),
    ),
    invariants=(
        InvariantCard("conserved_mean", "tracer", 1e-6, "periodic domain: ∫s dA is conserved"),
        InvariantCard("conserved_mean", "velocity", 1e-6, "no forcing: mean momentum conserved"),
        InvariantCard("divergence_free", "velocity", 1e-3),
        InvariantCard("zero_mean", "pressure", 1e-6, "gauge integ(p) = 0"),
    ),
    references=("Well dataset shear_flow; Dedalus example ivp_2d_shear_flow",),
    notes=(
        "Initial condition 'default' follows the Well's generator code (not its README): "
        "u_x = 1/2 + 1/2 Σ_k σ_k tanh(5 n_s (y - y_k)/w), "
        "u_y = a Σ_k sin(σ_k n_b π x) exp(-25 n_s² (y - y_k)²/w²), s = u_x, with a = "
        "'perturbation' = 0.1 (the Well's value).",
        "For odd n_blobs sin(n_b π x) is not 1-periodic (a kink at x = 0), as in the Well.",
        "Stored data are spectrally truncated from the simulated resolution (no point picking).",
        "Fidelity (issue 19, bench/fidelity.py): the Kelvin–Helmholtz growth rate. The "
        "layers are U tanh((y - y_k)/δ) with U = 1/2, δ = w/(5 n_s); the x-mode m has "
        "kδ = 2π m δ. Anchor: Michalke (1964, JFM 19), inviscid tanh layer, most unstable "
        "kδ = 0.4446, σδ/U = 0.1897. Measured on generated files (n_s = 2, w = 0.70761 so "
        "that m = 1 sits at kδ = 0.4446, Re = 1e5, perturbation 1e-5, fit of ln|û_y| over "
        "t ∈ [1.5, 4]): measured σδ/U = 0.1869 at 16×64, 32×96 and 64×256 alike, gap −1.5 % "
        "from Michalke; the finite Re (Re_δ = 3538), the periodic box (two layers 14 δ apart) "
        "and the diffusing base flow account for −1.7 % (Orr–Sommerfeld solve of this "
        "profile, computed not published): +0.25 % from the corrected value.",
        "With n_s = 2 and w = 2 or 4 (δ ≥ 0.2) every mode that fits L_x = 1 has kδ ≥ 1.26 > 1: "
        "those Well cases are linearly Kelvin–Helmholtz-stable and evolve only through the "
        "large seeded perturbation and viscous decay.",
    ),
)


def default_ic(x, y, n_shear: int, n_blobs: int, width: float, perturbation: float = 0.1):
    """The Well's multi-layer shear IC (its generator code, reference §1.2); ``perturbation``
    is the amplitude of the seeded u_y (the Well's 0.1, i.e. 0.2 of the half-jump U = 1/2)."""
    ux = np.full(np.broadcast_shapes(x.shape, y.shape), 0.5)
    uy = np.zeros_like(ux)
    for k in range(n_shear):
        yk = -1 + 2 * k / n_shear + 1 / n_shear
        sk = 2 * (k % 2) - 1
        zeta = n_shear * (y - yk) / (2 * width)
        ux = ux + sk * 0.5 * np.tanh(zeta / 0.1)
        uy = uy + perturbation * np.sin(sk * n_blobs * np.pi * x / LX) * np.exp(-zeta**2 / 0.01)
    return ux, uy


def taylor_green(x, y, amplitude: float):
    """Taylor–Green vortex with one wave in each direction: an exact NS solution whose
    amplitude decays as exp(-nu |k|^2 t)."""
    kx, ky = 2 * np.pi / LX, 2 * np.pi / LY
    ux = amplitude * np.sin(kx * x) * np.cos(ky * y)
    uy = -amplitude * (kx / ky) * np.cos(kx * x) * np.sin(ky * y)
    return ux, uy


class ShearFlow(System):
    name = "shear_flow"
    card = CARD
    ic_params = (
        ICParam("ic", "default", "initial condition family", choices=("default", "taylor_green")),
        ICParam("n_shear", 2, "number of shear layers", low=2, high=16),
        ICParam("n_blobs", 2, "perturbation wavenumber along x", low=1, high=32),
        ICParam("width", 1.0, "shear-layer width factor", low=0.05, high=16),
        ICParam("amplitude", 1.0, "Taylor–Green amplitude", low=0, high=100),
        ICParam("perturbation", 0.1, "default IC: amplitude of the seeded u_y (the Well: "
                "0.1; small values seed the linear Kelvin–Helmholtz mode)", low=0, high=10),
    )
    well_compat_names = {"Reynolds": "Rayleigh"}  # the Well's released files say 'Rayleigh'
    presets = {
        # tiny: the layers have rolled up into Kelvin–Helmholtz billows (spin-up 4: the
        # m = 1 mode of a layer of thickness w/(5 n_shear) grows at ~0.8 per time unit)
        "tiny": dict(resolution=[64, 128], stored_resolution=[64, 128],
                     time=dict(dt_out=0.1, n_frames=10, spinup=4.0),
                     parameters={"zip": {"Reynolds": [1e4, 5e4], "Schmidt": [1.0, 2.0]}},
                     initial_conditions={"zip": {"n_shear": [2, 4, 2], "n_blobs": [2, 3, 2],
                                                 "width": [1.0, 0.5, 0.5]}},
                     expected_runs=6),
        "well": dict(resolution=[1024, 2048], stored_resolution=[256, 512],
                     time=dict(dt_out=0.1, n_frames=200),
                     parameters={"product": {"Reynolds": [1e4, 5e4, 1e5, 5e5],
                                             "Schmidt": [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]}},
                     initial_conditions={"product": {"n_shear": [2, 4], "n_blobs": [2, 3, 4, 5],
                                                     "width": [0.25, 0.5, 1.0, 2.0, 4.0]}},
                     expected_runs=1120),
    }

    def build(self, ctx: BuildContext) -> Setup:
        import dedalus.public as d3

        Nx, Ny = ctx.resolution
        Re, Sc = ctx.params["Reynolds"], ctx.params["Schmidt"]
        coords = d3.CartesianCoordinates("x", "y")
        dist = ctx.distributor(coords)
        xbasis = d3.RealFourier(coords["x"], size=Nx, bounds=(0, LX), dealias=ctx.dealias)
        ybasis = d3.RealFourier(coords["y"], size=Ny, bounds=(-LY / 2, LY / 2),
                                dealias=ctx.dealias)
        p = dist.Field(name="p", bases=(xbasis, ybasis))
        s = dist.Field(name="s", bases=(xbasis, ybasis))
        u = dist.VectorField(coords, name="u", bases=(xbasis, ybasis))
        tau_p = dist.Field(name="tau_p")
        nu = 1 / Re
        D = nu / Sc

        problem = d3.IVP([u, s, p, tau_p], namespace=locals())
        problem.add_equation("dt(u) + grad(p) - nu*lap(u) = - u@grad(u)")
        problem.add_equation("dt(s) - D*lap(s) = - u@grad(s)")
        problem.add_equation("div(u) + tau_p = 0")
        problem.add_equation("integ(p) = 0")

        x, y = dist.local_grids(xbasis, ybasis)
        ic = ctx.ic
        if ic.get("ic", "default") == "taylor_green":
            ux, uy = taylor_green(x, y, float(ic.get("amplitude", 1.0)))
            s["g"] = 0.0
        else:
            ux, uy = default_ic(x, y, int(ic["n_shear"]), int(ic["n_blobs"]), float(ic["width"]),
                                float(ic.get("perturbation", 0.1)))
            s["g"] = ux
        u["g"][0] = ux
        u["g"][1] = uy

        return Setup(
            problem=problem,
            outputs={"tracer": s, "pressure": p, "velocity": u},
            velocity=u,
            timestepper="SBDF3",
            cfl=CFLSettings(initial_dt=1e-3, max_dt=1.0, safety=0.2, threshold=0.1),
        )
