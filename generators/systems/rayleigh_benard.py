"""rayleigh_benard: 2-D Boussinesq convection between no-slip walls.

As in the Well (Dedalus ``ivp_2d_rayleigh_benard``; free-fall units, layer height 1;
the problem: ``boussinesq.boussinesq_box``, shared with ``rayleigh_benard_3d``):

    div(u) + tau_p = 0
    dt(b) - kappa lap(b) + lift(tau_b2) = -u.grad(b)          kappa = (Ra Pr)^(-1/2)
    dt(u) - nu lap(u) + grad(p) - b e_y + lift(tau_u2) = -u.grad(u)    nu = (Ra/Pr)^(-1/2)
    b(y=0) = 1, b(y=1) = 0, u(y=0) = u(y=1) = 0, integ(p) = 0

first-order tau form, x in [0, 4) periodic (RealFourier), y in [0, 1] (ChebyshevT).
"""

from __future__ import annotations

from wellforge.schema.card import AxisCard, FieldCard, InvariantCard, ParamCard, SystemCard

from ..system import BuildContext, ICParam, Setup, System
from .boussinesq import IC_PARAMS, boussinesq_box

LX, LY = 4.0, 1.0

CARD = SystemCard(
    name="rayleigh_benard",
    title="Rayleigh–Bénard convection (Boussinesq, no-slip isothermal walls)",
    equations=r"""
\partial_t b - \kappa \nabla^2 b = -\mathbf u\cdot\nabla b,\quad
\partial_t \mathbf u - \nu \nabla^2 \mathbf u + \nabla p - b\,\mathbf e_y = -\mathbf u\cdot\nabla\mathbf u,
\quad \nabla\cdot\mathbf u = 0,\quad \kappa = (\mathrm{Ra\,Pr})^{-1/2},\ \nu = (\mathrm{Ra/Pr})^{-1/2}
""",
    fields=(
        FieldCard("buoyancy", 0, "1", "buoyancy b"),
        FieldCard("pressure", 0, "1", "pressure p (zero mean)"),
        FieldCard("velocity", 1, "1", "velocity (u_x, u_y)"),
    ),
    parameters=(
        ParamCard("Rayleigh", "1", "Rayleigh number", 1.0, 1e12, (1e6, 1e7, 1e8, 1e9, 1e10)),
        ParamCard("Prandtl", "1", "Prandtl number", 1e-3, 1e3,
                  (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)),
    ),
    axes=(
        AxisCard("x", "fourier", (0.0, LX), "1", "PERIODIC"),
        AxisCard("y", "chebyshev", (0.0, LY), "1", "WALL", "dirichlet",
                 bc_values={"buoyancy": (1.0, 0.0), "velocity_x": (0.0, 0.0),
                            "velocity_y": (0.0, 0.0)},
                 bc_fields=("buoyancy", "velocity")),
    ),
    invariants=(
        InvariantCard("divergence_free", "velocity", 1e-3),
        InvariantCard("bounded", "buoyancy", 0.05, "maximum principle: 0 <= b <= 1 (+ IC noise)"),
        InvariantCard("zero_mean", "pressure", 1e-6, "gauge integ(p) = 0"),
    ),
    references=("Well dataset rayleigh_benard; Dedalus example ivp_2d_rayleigh_benard",
                "Critical Rayleigh number 1707.76 for no-slip walls (Chandrasekhar 1961)"),
    notes=(
        "y is stored at the Gauss–Chebyshev nodes y_j = (1 - cos(π(j+1/2)/N))/2 (walls are "
        "not grid points), or on request on N uniform points including both walls "
        "(spectral interpolation; option y_grid=uniform).",
        "IC 'well': noise (σ = 1e-3, fill_random) × y(1-y) + dT (1 - y), as in the Well; for "
        "dT < 1 it contradicts b(0) = 1 and a thin boundary layer forms at y = 0. IC "
        "'consistent' (default here): b = 1 - y + dT-scaled noise, which satisfies the BCs. "
        "The 'well' preset uses IC 'well', as the Well's sweep did.",
        "IC 'roll_pairs' = m > 0 adds noise × sin(π y) cos(2π m x/L_x) to either IC: it "
        "selects 2m rolls (α = 2π m/L_x) near onset; 0 (default) leaves the noise alone.",
        "Fidelity (issue 19, bench/fidelity.py): Nu from both walls (Chebyshev interpolant "
        "of the stored b) and from the volume flux 1 + √(Ra Pr)⟨u_y b⟩ agree within 0.03 % "
        "once resolved. Against Clever & Busse (1974, JFM 65; steady 2-D rolls, no-slip, "
        "Pr 0.71, α ≈ 3.117), with 4 rolls (roll_pairs = 2, α = π), measured: Ra 1e4: 2.654 "
        "vs 2.661 (gap −0.3 %, 32×16 and 64×16); Ra 5e4: 4.165 vs 4.245 (gap −1.9 %, "
        "128×32; 4.180 at 64×16). 2-D Nu depends on the roll count (α); not measured "
        "here: Ra 1e7 (Johnston & Doering 2009's fit 0.138 Ra^0.285 = 13.64 is a fit, at "
        "Pr 1 and Γ 2).",
    ),
)


class RayleighBenard(System):
    name = "rayleigh_benard"
    card = CARD
    ic_params = (
        *IC_PARAMS,
        ICParam("roll_pairs", 0, "IC: seed 2 roll_pairs convection rolls, b += noise "
                "sin(π y) cos(2π roll_pairs x/L_x) (0: noise only)", low=0, high=512),
    )
    options = {"y_grid": "chebyshev"}
    option_choices = {"y_grid": ("chebyshev", "uniform")}
    presets = {
        # tiny: convection rolls (spin-up 20 free-fall times from noise of 1 %); at 64 x 16
        # Ra = 1e7 overshoots the maximum principle (b < -0.1): 1e5 and 1e6 are resolved
        "tiny": dict(resolution=[64, 16], stored_resolution=[64, 16],
                     time=dict(dt_out=0.25, n_frames=12, spinup=20.0),
                     parameters={"zip": {"Rayleigh": [1e5, 1e6], "Prandtl": [1.0, 1.0]}},
                     initial_conditions={"product": {"dT": [1.0], "noise": [0.01],
                                                     "realization": [0, 1, 2]}},
                     expected_runs=6),
        "well": dict(resolution=[512, 128], stored_resolution=[512, 128],
                     time=dict(dt_out=0.25, n_frames=200),
                     parameters={"product": {"Rayleigh": [1e6, 1e7, 1e8, 1e9, 1e10],
                                             "Prandtl": [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]}},
                     # the Well's own IC (mpi_runs/configs/rayleigh_benard_well.yaml: the same)
                     initial_conditions={"product": {"ic": ["well"],
                                                     "dT": [0.2, 0.4, 0.6, 0.8, 1.0],
                                                     "noise_seed": list(range(40, 50))}},
                     expected_runs=1750),
    }

    def build(self, ctx: BuildContext) -> Setup:
        return boussinesq_box(ctx, ("x", "y"), (LX, LY), ctx.params["Rayleigh"],
                              ctx.params["Prandtl"])
