"""kolmogorov_flow: 2-D incompressible Navier–Stokes driven by a sinusoidal body force.

    dt(u) + grad(p) - nu lap(u) = -u.grad(u) + sin(n y) e_x        nu = 1/Re
    div(u) + tau_p = 0,   integ(p) = 0

on x, y in [0, 2π), both periodic (RealFourier). The laminar solution is
u = sin(n y)/(nu n^2) e_x; it loses stability at Re ≈ 9.97 for n = 4 in this box
(Meshalkin & Sinai 1961: Re_eff = U/(nu n) -> √2 for long waves; here Re_eff = Re^2/n^3).
"""

from __future__ import annotations

import numpy as np
from wellforge.schema.card import AxisCard, FieldCard, InvariantCard, ParamCard, SystemCard

from wellforge.errors import ConfigError

from ..system import BuildContext, CFLSettings, ICParam, Setup, System
from .ic import global_rms, smooth_noise

L = 2 * np.pi

CARD = SystemCard(
    name="kolmogorov_flow",
    title="Kolmogorov flow: 2-D Navier–Stokes with sinusoidal forcing on a periodic square",
    equations=r"""
\partial_t \mathbf u + \nabla p - \nu \nabla^2 \mathbf u = -\mathbf u\cdot\nabla \mathbf u
+ \sin(n y)\,\mathbf e_x,\quad \nabla\cdot\mathbf u = 0,\quad \nu = 1/\mathrm{Re},
\quad \mathbf u_{\rm lam} = \frac{\sin(n y)}{\nu n^2}\,\mathbf e_x
""",
    fields=(
        FieldCard("pressure", 0, "1", "pressure p (zero mean)"),
        FieldCard("vorticity", 0, "1", "vorticity ω = ∂x u_y - ∂y u_x"),
        FieldCard("velocity", 1, "1", "velocity (u_x, u_y)"),
    ),
    parameters=(
        ParamCard("Reynolds", "1", "Reynolds number Re = 1/nu (unit forcing amplitude)",
                  0.1, 1e5, (20.0, 40.0, 100.0, 200.0)),
        ParamCard("n_forcing", "1", "forcing wavenumber n (integer)", 1, 64, (4.0,)),
    ),
    axes=(
        AxisCard("x", "fourier", (0.0, L), "1", "PERIODIC"),
        AxisCard("y", "fourier", (0.0, L), "1", "PERIODIC"),
    ),
    invariants=(
        InvariantCard("divergence_free", "velocity", 1e-3),
        InvariantCard("conserved_mean", "velocity", 1e-6,
                      "the forcing has zero mean: mean momentum (zero) is conserved"),
        InvariantCard("zero_mean", "pressure", 1e-6, "gauge integ(p) = 0"),
        InvariantCard("energy_balance", "velocity", 1e-3,
                      "d<|u|²/2>/dt = <sin(n y) u_x> - nu <ω²> (area means)"),
    ),
    references=("Meshalkin & Sinai, J. Appl. Math. Mech. 25 (1961): linear stability of "
                "Kolmogorov flow; Chandler & Kerswell, J. Fluid Mech. 722 (2013)",),
    notes=(
        "Unit forcing amplitude: the laminar state u = sin(n y)/(nu n²) e_x has amplitude "
        "Re/n². Linear theory in the 2π box gives Re_c = 9.967 for n = 4 (x-wavenumber 1).",
        "No large-scale drag: at high Re energy accumulates in the box-scale modes.",
        "IC 'laminar_noise': laminar state + a divergence-free perturbation u' = "
        "skew(grad ψ), ψ = fill_random normal noise (run seed) low-passed to wavenumbers "
        "< k_ic, scaled to RMS 'amplitude'. amplitude = 0 gives the exact laminar state.",
        "Fidelity (issue 19, bench/fidelity.py): n = 4, Re = 40 is Chandler & Kerswell's "
        "(2013) set-up exactly (their Re with χ = 1, L = 2π is 1/ν). Measured time means over t ∈ "
        "[200, 500] of one trajectory from laminar + noise, over the laminar values "
        "E_lam = Re²/(4n⁴), D_lam = I_lam = Re/(2n²): 64²: ⟨D⟩/D_lam = 0.097 ± 0.009, "
        "⟨E⟩/E_lam = 0.438 ± 0.005, ⟨I⟩ = ⟨D⟩ (energy balance); 32²: 0.088 ± 0.002, "
        "0.436 ± 0.005. CK13's own means (figures and PDFs) were not retrievable here; an "
        "independent pseudo-spectral DNS (computed, not published; 64², T = 4000) gives "
        "0.091 ± 0.002 and 0.440 ± 0.002: the gaps (+7 %, −0.5 %) are within 1 SE.",
    ),
)


class KolmogorovFlow(System):
    name = "kolmogorov_flow"
    card = CARD
    ic_params = (
        ICParam("ic", "laminar_noise", "IC family", choices=("laminar_noise",)),
        ICParam("amplitude", 0.1, "RMS velocity of the perturbation", low=0.0, high=100.0),
        ICParam("k_ic", 8, "perturbation wavenumbers < k_ic", low=1, high=512),
    )
    presets = {
        # tiny: the chaotic attractor (n = 4, Re = 40 as in Chandler & Kerswell 2013, and
        # Re = 60), after a spin-up of 50 from the perturbed laminar flow
        "tiny": dict(resolution=[32, 32], stored_resolution=[32, 32],
                     time=dict(dt_out=0.5, n_frames=10, spinup=50.0),
                     parameters={"product": {"Reynolds": [40.0, 60.0], "n_forcing": [4]}},
                     initial_conditions={"product": {"realization": [0, 1, 2]}},
                     expected_runs=6),
        "well": dict(resolution=[256, 256], stored_resolution=[256, 256],
                     time=dict(dt_out=0.5, n_frames=200),
                     parameters={"product": {"Reynolds": [20.0, 40.0, 100.0, 200.0],
                                             "n_forcing": [4]}},
                     initial_conditions={"product": {"realization": list(range(40))}},
                     expected_runs=160),
    }

    def check_parameters(self, params):
        n = params["n_forcing"]
        if float(n) != int(n):
            raise ConfigError(f"parameters.n_forcing: {n!r} is not an integer (the forcing "
                              "sin(n y) must be periodic)")

    def build(self, ctx: BuildContext) -> Setup:
        import dedalus.public as d3

        Nx, Ny = ctx.resolution
        Re, n = ctx.params["Reynolds"], int(ctx.params["n_forcing"])
        coords = d3.CartesianCoordinates("x", "y")
        dist = ctx.distributor(coords)
        xbasis = d3.RealFourier(coords["x"], size=Nx, bounds=(0, L), dealias=ctx.dealias)
        ybasis = d3.RealFourier(coords["y"], size=Ny, bounds=(0, L), dealias=ctx.dealias)
        p = dist.Field(name="p", bases=(xbasis, ybasis))
        u = dist.VectorField(coords, name="u", bases=(xbasis, ybasis))
        tau_p = dist.Field(name="tau_p")
        forcing = dist.VectorField(coords, name="forcing", bases=ybasis)
        x, y = dist.local_grids(xbasis, ybasis)
        nu = 1 / Re
        forcing["g"][0] = np.sin(n * y)

        problem = d3.IVP([u, p, tau_p], namespace=locals())
        problem.add_equation("dt(u) + grad(p) - nu*lap(u) = - u@grad(u) + forcing")
        problem.add_equation("div(u) + tau_p = 0")
        problem.add_equation("integ(p) = 0")

        amplitude = float(ctx.ic.get("amplitude", 0.1))
        if amplitude > 0:
            k_ic = int(ctx.ic.get("k_ic", 8))
            psi = dist.Field(name="psi", bases=(xbasis, ybasis))
            smooth_noise(psi, ctx.seed, (min(2 * k_ic, Nx), min(2 * k_ic, Ny)))
            perturbation = d3.skew(d3.grad(psi)).evaluate()
            perturbation.change_scales(1)
            rms = global_rms(perturbation["g"], ctx.comm, n_points=Nx * Ny)
            u["g"] = perturbation["g"] * (amplitude / rms if rms > 0 else 0.0)
        u["g"][0] += np.sin(n * y) / (nu * n**2)
        speed = 1 / (nu * n**2) + amplitude  # bounds |u| at t = 0: a safe first step

        vorticity = -d3.div(d3.skew(u))
        return Setup(
            problem=problem,
            outputs={"pressure": p, "vorticity": vorticity, "velocity": u},
            velocity=u,
            timestepper="RK222",
            cfl=CFLSettings(initial_dt=min(0.25, 0.2 * L / max(Nx, Ny) / speed), max_dt=0.25,
                            safety=0.4, threshold=0.1),
        )
