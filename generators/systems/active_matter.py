"""active_matter: a 2-D suspension of immotile apolar active rods, Bingham-closed moments.

The Well's active_matter model (Maddu, Weady & Shelley, JCP 504, 112869 (2024), eqs. 1-5;
the moment form of Gao, Betterton, Jhang & Shelley, PRFluids 2, 093302 (2017) and
Weady, Stein & Shelley, JCP (2022)), in its moments c = ∫ψ dθ and D = ∫pp ψ dθ
(tr D = c), with the fourth moment S = S[D] from the Bingham closure (``bingham.py``):

    dt(c) - d_T lap(c)                     = - u.grad(c)
    dt(D) - d_T lap(D) + 4 d_R (D - c I/2)  = - u.grad(D) + grad(u)^T.D + D.grad(u)
                                              - 2 S:E + 4 ζ (D.D - S:D)
    -lap(u) + grad(q) = div(Σ),  div(u) = 0,  Σ = α (D - c I/2) + β S:E - 2 ζ β (D.D - S:D)
    E = (grad(u) + grad(u)^T)/2,   (grad u)_ij = ∂_i u_j

on x, y in [0, L) periodic (RealFourier). With q̃ = D/c - I/2 and s the eigenvalue gap of
D/c, D.D - S:D = 2 g c² q̃ and S:E = 2 g c E + (D:E) I/2 + h (D:E) q̃ (g, h: ``bingham_g_h``),
evaluated pointwise on the dealiased grid at every step (one ``GeneralFunction``).

Stokes: the isotropic part β E/4 of β S:E (the closure at isotropy) and the active stress
α (D - c I/2) are implicit, the rest of the stress explicit (lagged by the multistep
scheme, as the Well's generator lags all of β S:E): u is an algebraic unknown solved with
(c, D) at every step. The linear theory of the isotropic state is exactly the kinetic
theory's (the closure is exact to first order there).
"""

from __future__ import annotations

import numpy as np
from wellforge.schema.card import AxisCard, FieldCard, InvariantCard, ParamCard, SystemCard

from ..system import BuildContext, CFLSettings, ICParam, Setup, System
from .bingham import bingham_g_h

L_WELL = 10.0
#: fixed coefficients of the Well's generator (Learning_closures Kinetic_simulations.py)
BETA, D_T, D_R = 0.8, 0.05, 0.05


def growth_rates(alpha: float, zeta: float, k: float, beta: float = BETA, d_T: float = D_T,
                 d_R: float = D_R) -> dict[str, float]:
    """Linear growth rates of plane waves exp(i k.x + σ t) about the isotropic state
    c = 1, D = I/2, u = 0 (derived from the moment equations; the closure is exact there):
    shear (q' ∝ k̂k̂⊥ + k̂⊥k̂, drives flow), splay (q' ∝ k̂k̂ - k̂⊥k̂⊥, no flow), concentration."""
    return {"shear": (beta * zeta - 2 * alpha) / (8 + beta) + zeta - 4 * d_R - d_T * k * k,
            "splay": zeta - 4 * d_R - d_T * k * k,
            "concentration": -d_T * k * k}


def well_ic_moments(seed: int, x, y, L: float):
    """c, D_xx, D_xy, D_yy of the Well generator's initial distribution
    ψ = (1 + Σ_i A_i X_i cos^(i+1)(2θ + r3_i))/(2π), i = 0..7, A_i = 0.1 (r0_i - 1/2),
    X_i = cos(2π k1_i x/L + r1_i) cos(2π k2_i y/L + r2_i), k1, k2 ∈ 1..8, r ∈ [0, 1)
    (numpy's legacy generator seeded with ``seed``, drawn in the generator's order), in
    closed form: with m_n = C(n, n/2)/2^n (n even, else 0) the θ-mean of cos^n,
    c = 1 + Σ A_i X_i m_{n}, D_xx = c/2 + Σ A_i X_i m_{n+1} cos(r3_i)/2,
    D_xy = -Σ A_i X_i m_{n+1} sin(r3_i)/2 (n = i + 1)."""
    from math import comb

    def m(n):
        return comb(n, n // 2) / 2**n if n % 2 == 0 else 0.0

    rng = np.random.RandomState(int(seed) % 2**32)
    shape = np.broadcast_shapes(np.shape(x), np.shape(y))
    c = np.ones(shape)
    dxx = np.zeros(shape)
    dxy = np.zeros(shape)
    for i in range(8):
        k1, k2 = rng.randint(1, 9), rng.randint(1, 9)
        r = rng.uniform(0, 1, 4)
        X = 0.1 * (r[0] - 0.5) * np.cos(2 * np.pi * k1 * x / L + r[1]) * np.cos(
            2 * np.pi * k2 * y / L + r[2])
        n = i + 1
        c = c + X * m(n)
        dxx = dxx + 0.5 * X * m(n + 1) * np.cos(r[3])
        dxy = dxy - 0.5 * X * m(n + 1) * np.sin(r[3])
    dxx = dxx + c / 2
    return c, dxx, dxy, c - dxx


CARD = SystemCard(
    name="active_matter",
    title="Active matter: immotile apolar active rods in Stokes flow (Bingham-closed "
          "moment model of the Well's kinetic theory)",
    equations=r"""
\partial_t c + \mathbf u\cdot\nabla c = d_T\nabla^2 c,\qquad
\overset{\nabla}{\mathbf D} + 2\,\mathbf S{:}\mathbf E = 4\zeta(\mathbf D\cdot\mathbf D-\mathbf S{:}\mathbf D)
+ d_T\nabla^2\mathbf D - 4 d_R(\mathbf D - \tfrac{c}{2}\mathbf I),
\qquad \overset{\nabla}{\mathbf D} = \partial_t\mathbf D + \mathbf u\cdot\nabla\mathbf D
- (\nabla\mathbf u)^T\cdot\mathbf D - \mathbf D\cdot\nabla\mathbf u
-\nabla^2\mathbf u + \nabla q = \nabla\cdot\Sigma,\quad \nabla\cdot\mathbf u = 0,\quad
\Sigma = \alpha(\mathbf D - \tfrac{c}{2}\mathbf I) + \beta\,\mathbf S{:}\mathbf E
- 2\zeta\beta(\mathbf D\cdot\mathbf D - \mathbf S{:}\mathbf D),\quad
\mathbf E = \tfrac12(\nabla\mathbf u + \nabla\mathbf u^T)
\mathbf S = \mathbf S_{\rm Bingham}[\mathbf D]:\ \mathbf D\cdot\mathbf D - \mathbf S{:}\mathbf D
= 2 g c^2\tilde{\mathbf q},\ \mathbf S{:}\mathbf E = 2 g c\,\mathbf E + \tfrac12(\mathbf D{:}\mathbf E)\mathbf I
+ h(\mathbf D{:}\mathbf E)\tilde{\mathbf q},\ \tilde{\mathbf q} = \mathbf D/c - \mathbf I/2
""",
    fields=(
        FieldCard("concentration", 0, "1", "concentration c = ∫ψ dθ (mean 1)"),
        FieldCard("velocity", 1, "1", "Stokes velocity u (zero mean)"),
        FieldCard("D", 2, "1", "orientation tensor D = ∫pp ψ dθ (symmetric, tr D = c)"),
        FieldCard("E", 2, "1", "strain rate E = (∇u + ∇uᵀ)/2 (symmetric, traceless)"),
    ),
    parameters=(
        ParamCard("L", "1", "box length", 1.0, 1e3, (10.0,)),
        ParamCard("zeta", "1", "alignment strength ζ", 0.0, 100.0,
                  (1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0, 17.0)),
        ParamCard("alpha", "1", "active dipole strength α (< 0: extensile)", -100.0, 100.0,
                  (-1.0, -2.0, -3.0, -4.0, -5.0)),
    ),
    axes=(
        AxisCard("x", "fourier", (0.0, L_WELL), "1", "PERIODIC"),
        AxisCard("y", "fourier", (0.0, L_WELL), "1", "PERIODIC"),
    ),
    invariants=(
        InvariantCard("conserved_mean", "concentration", 1e-5,
                      "advection-diffusion with ∇·u = 0 in a periodic box: ∫c dA conserved"),
        InvariantCard("non_negative", "concentration", 1e-3),
        InvariantCard("divergence_free", "velocity", 1e-3),
        InvariantCard("conserved_mean", "velocity", 1e-6, "gauge: mean(u) = 0"),
        InvariantCard("symmetric", "D", 1e-6),
        InvariantCard("positive_definite", "D", 1e-3,
                      "a second moment of a distribution (at alignment its small "
                      "eigenvalue is c·μ2 > 0)"),
        InvariantCard("trace", "D", 1e-5, "tr D = c (tr of the D equation is the c "
                      "equation)", equals="concentration"),
        InvariantCard("symmetric", "E", 1e-6),
        InvariantCard("traceless", "E", 1e-4, "tr E = ∇·u = 0"),
    ),
    references=(
        "Maddu, Weady & Shelley, J. Comput. Phys. 504, 112869 (2024), arXiv 2308.06675: "
        "the Well's model (kinetic theory, eqs. 1-5) and its generator "
        "(github.com/SuryanarayanaMK/Learning_closures, Kinetic_simulations.py)",
        "Gao, Betterton, Jhang & Shelley, Phys. Rev. Fluids 2, 093302 (2017): the "
        "Bingham-closed moment (BQ-tensor) model",
        "Weady, Stein & Shelley, J. Comput. Phys. (2022): fast Bingham closure",
        "Saintillan & Shelley, Phys. Fluids 20, 123304 (2008): linear theory of the "
        "isotropic suspension",
    ),
    notes=(
        "APPROXIMATION: the Well's data come from the full kinetic (Smoluchowski) theory "
        "for ψ(x, y, θ) on 256³ modes with the exact fourth moment; this system evolves "
        "its moments c, D with the Bingham closure S = S[D] (the closure the Well's paper "
        "compares against). Its linear theory about isotropy is the kinetic theory's "
        "exactly; nonlinear states differ (no cos 4θ and higher angular content).",
        "Fixed coefficients (the Well's generator; not in the Well's card): β = 0.8, "
        "d_T = d_R = 0.05, swimming speed V0 = 0, unit viscosity; recorded as options.",
        "Linear theory of c = 1, D = I/2 (wavenumber k): shear mode σ = (βζ - 2α)/(8 + β) "
        "+ ζ - 4d_R - d_T k², splay σ = ζ - 4d_R - d_T k², concentration σ = -d_T k². "
        "With ζ ≥ 4d_R + d_T k² (every Well cell, ζ ≥ 1) the isotropic state is unstable "
        "for any α; at ζ = 0 the activity threshold is α_c = -(8 + β)(4d_R + d_T k²)/2 "
        "(-0.9669 at k = 2π/10).",
        "IC 'well' (default): the closed-form moments of the Well generator's initial "
        "distribution (8 random products of cosines × cos^(i+1)(2θ + r), amplitude 0.1, "
        "numpy legacy RNG seeded with ic_seed): c is perturbed by about 1 % (the Well's "
        "README says c = 1; its stats give a concentration std of 3e-3). IC 'plane_wave': "
        "c = 1 and D = I/2 + amplitude · cos(k.x + phase) (k̂k̂⊥ + k̂⊥k̂) (shear) or "
        "(k̂k̂ - k̂⊥k̂⊥) (splay), k = 2π(mode_x, mode_y)/L; with c = 1 c stays 1.",
        "u at t = 0 is the Stokes flow of the initial stress with E = 0 in the stress, as "
        "in the Well's generator. SBDF2 (as the Well's), CFL-controlled step with "
        "dt <= 0.1/(1 + ζ + |α|) (the Well: fixed dt = 3.90625e-4).",
        "Stored on the simulation grid (uniform, periodic); E is stored as computed, "
        "traceless to round-off (the Well stores e22 = -e11).",
        "Resolution: an aligned state has D's small eigenvalue c·μ2 ≈ c·d_R/(2ζ) "
        "(1.5e-3 at ζ = 17). At ζ = 17, α = -5 it stays positive on 256² (μ2 ≥ 1.4e-3 "
        "at t = 1, the closure's near-alignment branch in use) but dips below zero on "
        "128² (-2.3e-3) and 64² (-0.06): coarse grids need small ζ and |α| (the tiny "
        "preset: ζ = 1, α ≥ -2 on 32²).",
    ),
)


class ActiveMatter(System):
    name = "active_matter"
    card = CARD
    ic_params = (
        ICParam("ic", "well", "IC family", choices=("well", "plane_wave")),
        ICParam("ic_seed", None, "seed of the Well IC draws (default: the run's seed)"),
        ICParam("amplitude", 1e-2, "plane_wave: amplitude of the D perturbation",
                low=0.0, high=0.5),
        ICParam("mode_x", 1, "plane_wave: x mode number", low=-64, high=64),
        ICParam("mode_y", 0, "plane_wave: y mode number", low=-64, high=64),
        ICParam("branch", "shear", "plane_wave: perturbed eigenvector",
                choices=("shear", "splay")),
        ICParam("phase", 0.0, "plane_wave: phase (radians)", low=-10.0, high=10.0),
    )
    options = {"beta": BETA, "d_T": D_T, "d_R": D_R}
    presets = {
        # tiny: two Well cells (ζ = 1; α = -1, -2) on 32², the Well's 81 frames from its
        # IC: the shear mode (σ ≈ 1.10, 1.33) saturates by t ≈ 10 (α = -1) and 7 (α = -2),
        # the rods align (s = μ1 - μ2 from 0.03 to ~0.98) in bands stirred by a flow of
        # |u| ~ 0.5-2 for the rest of the run. (32² resolves these; at α = -3 the smallest
        # eigenvalue of D dips below zero on 32², at ζ = 3 or α = -5 64² is needed.)
        "tiny": dict(resolution=[32, 32], stored_resolution=[32, 32],
                     time=dict(dt_out=0.25, n_frames=81),
                     parameters={"product": {"L": [10.0], "zeta": [1.0],
                                             "alpha": [-1.0, -2.0]}},
                     initial_conditions={"product": {"ic": ["well"], "ic_seed": [0, 1, 2]}},
                     expected_runs=6),
        "well": dict(resolution=[256, 256], stored_resolution=[256, 256],
                     time=dict(dt_out=0.25, n_frames=81),
                     parameters={"product": {"L": [10.0],
                                             "zeta": [1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0,
                                                      15.0, 17.0],
                                             "alpha": [-1.0, -2.0, -3.0, -4.0, -5.0]}},
                     initial_conditions={"product": {"ic": ["well"],
                                                     "ic_seed": [0, 1, 2, 3, 4]}},
                     expected_runs=225),
    }

    def build(self, ctx: BuildContext) -> Setup:
        import dedalus.public as d3

        Nx, Ny = ctx.resolution
        L, zeta, alpha = (float(ctx.params[k]) for k in ("L", "zeta", "alpha"))
        beta, dT, dR = (float(ctx.options.get(k, v)) for k, v in
                        (("beta", BETA), ("d_T", D_T), ("d_R", D_R)))
        coords = d3.CartesianCoordinates("x", "y")
        dist = ctx.distributor(coords)
        xbasis = d3.RealFourier(coords["x"], size=Nx, bounds=(0, L), dealias=ctx.dealias)
        ybasis = d3.RealFourier(coords["y"], size=Ny, bounds=(0, L), dealias=ctx.dealias)
        bases = (xbasis, ybasis)
        c = dist.Field(name="c", bases=bases)
        D = dist.TensorField((coords, coords), name="D", bases=bases)
        u = dist.VectorField(coords, name="u", bases=bases)
        p = dist.Field(name="p", bases=bases)
        tau_p = dist.Field(name="tau_p")
        tau_u = dist.VectorField(coords, name="tau_u")
        I = dist.TensorField((coords, coords), name="I")  # noqa: E741
        I["g"][0, 0] = I["g"][1, 1] = 1
        ex, ey = coords.unit_vector_fields(dist)

        # the Bingham closure, pointwise on the dealiased grid: (g, h) as one vector field
        def closure(D, c):
            Dg, cg = D["g"], c["g"]
            s = np.sqrt((Dg[0, 0] - Dg[1, 1]) ** 2 + 4 * Dg[0, 1] ** 2) / cg
            return np.stack(bingham_g_h(s))

        gh = d3.GeneralFunction(dist, c.domain, (coords,), np.float64, "g", closure,
                                args=[D, c])
        g, h = gh @ ex, gh @ ey
        E = (d3.grad(u) + d3.trans(d3.grad(u))) / 2
        qt = D / c - I / 2
        DE = d3.trace(D @ E)
        SE = 2 * g * c * E + DE * I / 2 + h * DE * qt  # S:E
        AL = 2 * g * c * c * qt  # D.D - S:D

        problem = d3.IVP([c, D, u, p, tau_p, tau_u], namespace=locals())
        problem.add_equation("dt(c) - dT*lap(c) = - u@grad(c)")
        problem.add_equation("dt(D) - dT*lap(D) + 4*dR*(D - c*I/2) = - u@grad(D) "
                             "+ trans(grad(u))@D + D@grad(u) - 2*SE + 4*zeta*AL")
        problem.add_equation("- (1 + beta/8)*lap(u) + grad(p) - alpha*div(D - c*I/2) + tau_u"
                             " = div(beta*(SE - E/4) - 2*zeta*beta*AL)")
        problem.add_equation("div(u) + tau_p = 0")
        problem.add_equation("integ(p) = 0")
        problem.add_equation("integ(u) = 0")

        x, y = dist.local_grids(xbasis, ybasis)
        self._initial_moments(ctx, x, y, L, c, D)
        self._initial_stokes(d3, dist, coords, bases, c, D, u, I, zeta, alpha, beta, closure)

        return Setup(
            problem=problem,
            outputs={"concentration": c, "velocity": u, "D": D, "E": E},
            velocity=u,
            timestepper="SBDF2",
            cfl=CFLSettings(initial_dt=0.1 / (1 + zeta + abs(alpha)),
                            max_dt=0.1 / (1 + zeta + abs(alpha)), safety=0.5,
                            threshold=0.1),
        )

    @staticmethod
    def _initial_moments(ctx, x, y, L, c, D) -> None:
        ic = ctx.ic
        if ic.get("ic", "well") == "well":
            seed = ic.get("ic_seed")
            cg, dxx, dxy, dyy = well_ic_moments(ctx.seed if seed is None else int(seed),
                                                x, y, L)
        else:
            kx = 2 * np.pi * float(ic.get("mode_x", 1)) / L
            ky = 2 * np.pi * float(ic.get("mode_y", 0)) / L
            k = np.hypot(kx, ky)
            if k == 0:
                raise ValueError("plane_wave: mode_x = mode_y = 0 is not a wave")
            n, m = np.array([kx, ky]) / k, np.array([-ky, kx]) / k  # k̂, k̂⊥
            if ic.get("branch", "shear") == "shear":
                q = np.outer(n, m) + np.outer(m, n)
            else:
                q = np.outer(n, n) - np.outer(m, m)
            wave = float(ic.get("amplitude", 1e-2)) * np.cos(
                kx * x + ky * y + float(ic.get("phase", 0.0)))
            cg = np.ones(np.broadcast_shapes(x.shape, y.shape))
            dxx, dxy, dyy = 0.5 + q[0, 0] * wave, q[0, 1] * wave, 0.5 + q[1, 1] * wave
        c["g"] = cg
        D["g"][0, 0], D["g"][0, 1], D["g"][1, 0], D["g"][1, 1] = dxx, dxy, dxy, dyy

    @staticmethod
    def _initial_stokes(d3, dist, coords, bases, c, D, u, I, zeta, alpha, beta,  # noqa: E741
                        closure) -> None:
        """u(t = 0): the Stokes flow of the initial stress, E = 0 in it (as the Well)."""
        v = dist.VectorField(coords, name="v", bases=bases)
        q = dist.Field(name="q", bases=bases)
        tau_q = dist.Field(name="tau_q")
        tau_v = dist.VectorField(coords, name="tau_v")
        ex, ey = coords.unit_vector_fields(dist)
        gh = d3.GeneralFunction(dist, c.domain, (coords,), np.float64, "g", closure,
                                args=[D, c])
        stress = (alpha * (D - c * I / 2) - 2 * zeta * beta * 2 * (gh @ ex) * c * c
                  * (D / c - I / 2)).evaluate()
        lbvp = d3.LBVP([v, q, tau_q, tau_v], namespace={
            "v": v, "q": q, "tau_q": tau_q, "tau_v": tau_v, "beta": beta, "stress": stress,
            "lap": d3.lap, "grad": d3.grad, "div": d3.div, "integ": d3.integ})
        lbvp.add_equation("- (1 + beta/8)*lap(v) + grad(q) + tau_v = div(stress)")
        lbvp.add_equation("div(v) + tau_q = 0")
        lbvp.add_equation("integ(q) = 0")
        lbvp.add_equation("integ(v) = 0")
        lbvp.build_solver().solve()
        u["g"] = v["g"]
