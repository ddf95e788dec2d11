"""taylor_green_3d: the Taylor–Green vortex, triply periodic incompressible Navier–Stokes.

    dt(u) + grad(p) - nu lap(u) = -u.grad(u)        nu = 1/Re
    div(u) + tau_p = 0,   integ(p) = 0

on x, y, z in [0, 2π), all periodic (RealFourier), from

    u = sin x cos y cos z,   v = -cos x sin y cos z,   w = 0

(Brachet et al. 1983; the benchmark of van Rees et al. 2011 at Re = 1600). Stored per
frame besides the fields: the kinetic energy E = <|u|²>/2 and the dissipation rate
ε = nu <|ω|²> (volume means; ε = -dE/dt for a periodic incompressible flow).

Short-time expansion (a single Fourier shell |k|² = 3 at t = 0, where the vortex
stretching <ω·S·ω> vanishes and grows as (5/64) t², Brachet et al. 1983):

    E(t) = e^{-6 nu t}/8 - (5 nu / 192) t³ + O(nu t⁵, nu² t⁴),   ε(0) = 3 nu / 4.
"""

from __future__ import annotations

import numpy as np
from wellforge.schema.card import AxisCard, FieldCard, InvariantCard, ParamCard, SystemCard

from ..system import BuildContext, CFLSettings, ICParam, Setup, System
from .ic import global_rms, smooth_noise

L = 2 * np.pi

CARD = SystemCard(
    name="taylor_green_3d",
    title="Taylor–Green vortex: 3-D incompressible Navier–Stokes on a periodic cube",
    equations=r"""
\partial_t \mathbf u + \nabla p - \nu \nabla^2 \mathbf u = -\mathbf u\cdot\nabla \mathbf u,
\quad \nabla\cdot\mathbf u = 0,\quad \nu = 1/\mathrm{Re},
\quad \mathbf u_0 = (\sin x\cos y\cos z,\ -\cos x\sin y\cos z,\ 0)
""",
    fields=(
        FieldCard("pressure", 0, "1", "pressure p (zero mean)"),
        FieldCard("velocity", 1, "1", "velocity (u_x, u_y, u_z)"),
    ),
    parameters=(
        ParamCard("Reynolds", "1", "Reynolds number Re = 1/nu (unit velocity and length)",
                  1.0, 1e5, (100.0, 400.0, 800.0, 1600.0)),
    ),
    axes=(
        AxisCard("x", "fourier", (0.0, L), "1", "PERIODIC"),
        AxisCard("y", "fourier", (0.0, L), "1", "PERIODIC"),
        AxisCard("z", "fourier", (0.0, L), "1", "PERIODIC"),
    ),
    invariants=(
        InvariantCard("divergence_free", "velocity", 1e-3),
        InvariantCard("conserved_mean", "velocity", 1e-6, "no forcing: the mean momentum "
                      "(zero) is conserved"),
        InvariantCard("zero_mean", "pressure", 1e-6, "gauge integ(p) = 0"),
        InvariantCard("energy_non_increasing", "velocity", 1e-3,
                      "no forcing: <|u|²>/2 decays (dE/dt = -ε)"),
    ),
    references=("Brachet, Meiron, Orszag, Nickel, Morf & Frisch, J. Fluid Mech. 130 (1983)",
                "van Rees, Leonard, Pullin & Koumoutsakos, J. Comput. Phys. 230 (2011): "
                "Re = 1600, peak dissipation 0.0127 near t = 9"),
    notes=(
        "Unit velocity and length: Re = 1/nu. E(0) = 1/8 and ε(0) = 3 nu/4 exactly.",
        "IC 'taylor_green' with 'amplitude' > 0 adds a divergence-free perturbation "
        "u' = curl(A), A = fill_random normal noise (run seed) low-passed to wavenumbers "
        "< k_ic, scaled to RMS 'amplitude' (the realizations of a Reynolds number differ "
        "only there).",
        "kinetic_energy and dissipation_rate are time-varying scalars (/scalars, (n_traj, T)): "
        "the Well's WellDataset returns them as input_scalars / output_scalars; its "
        "downsampler create_mini_well has no rule for them and refuses the files.",
    ),
    diagnostics=(
        FieldCard("kinetic_energy", 0, "1", "E = <|u|²>/2 (volume mean)"),
        FieldCard("dissipation_rate", 0, "1", "ε = nu <|ω|²> (volume mean; = -dE/dt)"),
    ),
)


class TaylorGreen3D(System):
    name = "taylor_green_3d"
    card = CARD
    ic_params = (
        ICParam("ic", "taylor_green", "IC family", choices=("taylor_green",)),
        ICParam("amplitude", 0.0, "RMS velocity of the random perturbation", low=0.0,
                high=10.0),
        ICParam("k_ic", 4, "perturbation wavenumbers < k_ic", low=1, high=512),
    )
    presets = {
        # tiny: the laminar-to-transition early phase at 16³ (resolved to t = 4 at these Re)
        "tiny": dict(resolution=[16, 16, 16], stored_resolution=[16, 16, 16],
                     time=dict(dt_out=0.5, n_frames=9),
                     parameters={"product": {"Reynolds": [100.0, 200.0]}},
                     initial_conditions={"product": {"amplitude": [0.01],
                                                     "realization": [0, 1, 2]}},
                     expected_runs=6),
        # the benchmark: the unperturbed vortex at Re = 1600 to t = 20 (the reference is
        # a 512³ spectral DNS; 256³ resolves the dissipation peak), one test trajectory
        "benchmark": dict(resolution=[256, 256, 256], stored_resolution=[128, 128, 128],
                          time=dict(dt_out=0.25, n_frames=81),
                          parameters={"product": {"Reynolds": [1600.0]}},
                          initial_conditions={"product": {"realization": [0]}},
                          splits={"test": 1.0}, expected_runs=1),
    }

    def build(self, ctx: BuildContext) -> Setup:
        import dedalus.public as d3

        Nx, Ny, Nz = ctx.resolution
        nu = 1 / ctx.params["Reynolds"]
        coords = d3.CartesianCoordinates("x", "y", "z")
        dist = ctx.distributor(coords)
        bases = tuple(d3.RealFourier(coords[c], size=n, bounds=(0, L), dealias=ctx.dealias)
                      for c, n in zip("xyz", (Nx, Ny, Nz)))
        p = dist.Field(name="p", bases=bases)
        u = dist.VectorField(coords, name="u", bases=bases)
        tau_p = dist.Field(name="tau_p")

        problem = d3.IVP([u, p, tau_p], namespace=locals())
        problem.add_equation("dt(u) + grad(p) - nu*lap(u) = - u@grad(u)")
        problem.add_equation("div(u) + tau_p = 0")
        problem.add_equation("integ(p) = 0")

        amplitude = float(ctx.ic.get("amplitude", 0.0))
        if amplitude > 0:
            k_ic = int(ctx.ic.get("k_ic", 4))
            A = dist.VectorField(coords, name="A", bases=bases)
            smooth_noise(A, ctx.seed, tuple(min(2 * k_ic, n) for n in (Nx, Ny, Nz)))
            perturbation = d3.curl(A).evaluate()
            perturbation.change_scales(1)
            rms = global_rms(perturbation["g"], ctx.comm, n_points=Nx * Ny * Nz)
            u["g"] = perturbation["g"] * (amplitude / rms if rms > 0 else 0.0)
        x, y, z = dist.local_grids(*bases)
        u["g"][0] += np.sin(x) * np.cos(y) * np.cos(z)
        u["g"][1] -= np.cos(x) * np.sin(y) * np.cos(z)

        volume = L**3
        omega = d3.curl(u)
        speed = 1.0 + amplitude
        return Setup(
            problem=problem,
            outputs={"pressure": p, "velocity": u},
            velocity=u,
            timestepper="RK222",
            cfl=CFLSettings(initial_dt=0.2 * L / max(Nx, Ny, Nz) / speed, max_dt=0.1,
                            safety=0.4, threshold=0.1),
            diagnostics={"kinetic_energy": d3.integ(u @ u / 2) / volume,
                         "dissipation_rate": nu * d3.integ(omega @ omega) / volume},
        )
