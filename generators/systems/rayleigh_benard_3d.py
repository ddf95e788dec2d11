"""rayleigh_benard_3d: Boussinesq convection in a box between no-slip isothermal walls.

The equations, tau form and free-fall units of ``rayleigh_benard`` (``boussinesq.
boussinesq_box``) in three dimensions: x, y in [0, Γ) periodic (RealFourier), z in [0, 1]
(ChebyshevT), Γ the aspect ratio (a parameter; 4 as the 2-D system's box):

    div(u) + tau_p = 0
    dt(b) - kappa lap(b) + lift(tau_b2) = -u.grad(b)          kappa = (Ra Pr)^(-1/2)
    dt(u) - nu lap(u) + grad(p) - b e_z + lift(tau_u2) = -u.grad(u)    nu = (Ra/Pr)^(-1/2)
    b(z=0) = 1, b(z=1) = 0, u(z=0) = u(z=1) = 0, integ(p) = 0

Onset at Ra_c = 1707.76, k_c = 3.117 (Chandrasekhar 1961), whatever the planform.
"""

from __future__ import annotations

from wellforge.schema.card import AxisCard, FieldCard, InvariantCard, ParamCard, SystemCard

from ..system import BuildContext, Setup, System
from .boussinesq import IC_PARAMS, boussinesq_box

ASPECT, LZ = 4.0, 1.0

CARD = SystemCard(
    name="rayleigh_benard_3d",
    title="Rayleigh–Bénard convection in a periodic box (Boussinesq, no-slip isothermal "
          "walls)",
    equations=r"""
\partial_t b - \kappa \nabla^2 b = -\mathbf u\cdot\nabla b,\quad
\partial_t \mathbf u - \nu \nabla^2 \mathbf u + \nabla p - b\,\mathbf e_z = -\mathbf u\cdot\nabla\mathbf u,
\quad \nabla\cdot\mathbf u = 0,\quad \kappa = (\mathrm{Ra\,Pr})^{-1/2},\ \nu = (\mathrm{Ra/Pr})^{-1/2}
""",
    fields=(
        FieldCard("buoyancy", 0, "1", "buoyancy b"),
        FieldCard("pressure", 0, "1", "pressure p (zero mean)"),
        FieldCard("velocity", 1, "1", "velocity (u_x, u_y, u_z)"),
    ),
    parameters=(
        ParamCard("Rayleigh", "1", "Rayleigh number", 1.0, 1e12),
        ParamCard("Prandtl", "1", "Prandtl number", 1e-3, 1e3),
        ParamCard("aspect", "1", "aspect ratio Γ: x, y in [0, Γ), height 1", 0.1, 100.0),
    ),
    axes=(
        AxisCard("x", "fourier", (0.0, ASPECT), "1", "PERIODIC"),
        AxisCard("y", "fourier", (0.0, ASPECT), "1", "PERIODIC"),
        AxisCard("z", "chebyshev", (0.0, LZ), "1", "WALL", "dirichlet",
                 bc_values={"buoyancy": (1.0, 0.0), "velocity_x": (0.0, 0.0),
                            "velocity_y": (0.0, 0.0), "velocity_z": (0.0, 0.0)},
                 bc_fields=("buoyancy", "velocity")),
    ),
    invariants=(
        InvariantCard("divergence_free", "velocity", 1e-3),
        InvariantCard("bounded", "buoyancy", 0.05, "maximum principle: 0 <= b <= 1 (+ IC noise)"),
        InvariantCard("zero_mean", "pressure", 1e-6, "gauge integ(p) = 0"),
    ),
    references=("Dedalus example ivp_3d_rayleigh_benard; the 2-D system rayleigh_benard",
                "Critical Rayleigh number 1707.76 at k_c = 3.117 for no-slip walls "
                "(Chandrasekhar 1961)"),
    notes=(
        "x, y ∈ [0, Γ) with Γ the file's parameter 'aspect' (the card's bounds show Γ = 4).",
        "z is stored at the Gauss–Chebyshev nodes z_j = (1 - cos(π(j+1/2)/N))/2 (walls are "
        "not grid points), or on request on N uniform points including both walls "
        "(option z_grid=uniform).",
        "IC 'consistent' (default): b = 1 - z + dT-scaled noise × z(1 - z), which satisfies "
        "the BCs; IC 'well': noise × z(1-z) + dT (1 - z), the 2-D Well dataset's IC.",
    ),
)


class RayleighBenard3D(System):
    name = "rayleigh_benard_3d"
    card = CARD
    ic_params = IC_PARAMS
    options = {"z_grid": "chebyshev"}
    option_choices = {"z_grid": ("chebyshev", "uniform")}
    presets = {
        # tiny: convection cells at Ra = 1e4 and 2e4 (Pr = 1) in the 4 × 4 × 1 box, from
        # noise of 1 % after a spin-up of 30 free-fall times
        "tiny": dict(resolution=[16, 16, 8], stored_resolution=[16, 16, 8],
                     time=dict(dt_out=0.5, n_frames=6, spinup=30.0),
                     parameters={"zip": {"Rayleigh": [1e4, 2e4], "Prandtl": [1.0, 1.0],
                                         "aspect": [ASPECT, ASPECT]}},
                     initial_conditions={"product": {"noise": [0.01],
                                                     "realization": [0, 1, 2]}},
                     expected_runs=6),
        "mid": dict(resolution=[128, 128, 32], stored_resolution=[128, 128, 32],
                    time=dict(dt_out=0.25, n_frames=200),
                    parameters={"product": {"Rayleigh": [1e5, 1e6], "Prandtl": [0.7, 1.0, 7.0],
                                            "aspect": [ASPECT]}},
                    initial_conditions={"product": {"realization": list(range(10))}},
                    expected_runs=60),
    }

    def build(self, ctx: BuildContext) -> Setup:
        G = ctx.params["aspect"]
        return boussinesq_box(ctx, ("x", "y", "z"), (G, G, LZ), ctx.params["Rayleigh"],
                              ctx.params["Prandtl"])
