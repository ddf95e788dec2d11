"""viscoelastic_instability: 2-D FENE-P channel flow (elasto-inertial instabilities).

As in the Well's README (Beneitez, Page, Dubief & Kerswell 2024; lengths by the half
height, y in [-1, 1] between no-slip walls, x in [0, 2π) periodic):

    Re (dt(u) + u.grad(u)) + grad(p) = beta lap(u) + (1 - beta) div(T) + G e_x
    div(u) = 0,   integ(u_x) = Q Lx                       constant flux Q = 4/3
    dt(C) + u.grad(C) + T = C.grad(u) + grad(u)^T.C + eps lap(C)
    T = (f C - I)/Wi,   f = 1/(1 - (tr C - 3)/Lmax^2),   tr C = c_xx + c_yy + c_zz

with c_xx, c_xy, c_yy (the in-plane conformation, symmetric by construction) and c_zz
solved, first-order tau form as rayleigh_benard. The mean pressure gradient G(t) is an
unknown that holds the flux at the laminar Newtonian value (Q = 4/3: U = 1 - y^2 for
beta = 1), as the Kerswell group's channel studies do; the drag of a state is then G.

Walls: u = v_w(x, t) e_y (v_w = 0 but during a blowing/suction pulse) and, for C, "eps = 0
at the wall" (Sureshkumar & Beris; Dubief et al.): the C equations without their diffusion
term are the boundary conditions, ``dt(c)(y=±1) = (rhs)(y=±1)``. With eps = 0 the C
equations are hyperbolic (the walls are characteristics) and carry no tau terms at all.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from wellforge.schema.card import AxisCard, FieldCard, InvariantCard, ParamCard, SystemCard
from wellforge.schema.grids import chebyshev_nodes

from ..system import BuildContext, CFLSettings, ICParam, Setup, System
from .ic import global_rms, smooth_noise

LX = 2 * math.pi
FLUX = 4 / 3  # ∫ u_x dy: the Newtonian laminar flux of U = 1 - y^2

CARD = SystemCard(
    name="viscoelastic_instability",
    title="Viscoelastic (FENE-P) channel flow at constant flux",
    equations=r"""
\mathrm{Re}(\partial_t\mathbf u+\mathbf u\cdot\nabla\mathbf u)+\nabla p=\beta\nabla^2\mathbf u
+(1-\beta)\nabla\cdot\mathbf T(\mathbf C)+G(t)\,\mathbf e_x,\quad \nabla\cdot\mathbf u = 0,
\quad \textstyle\int u_x\,dx\,dy = \tfrac43 L_x,
\quad \partial_t\mathbf C+\mathbf u\cdot\nabla\mathbf C+\mathbf T(\mathbf C)
=\mathbf C\cdot\nabla\mathbf u+(\nabla\mathbf u)^T\cdot\mathbf C+\epsilon\nabla^2\mathbf C,
\quad \mathbf T = \frac{f(\mathrm{tr}\,\mathbf C)\mathbf C-\mathbf I}{\mathrm{Wi}},
\ f(s)=\Big(1-\frac{s-3}{L_{max}^2}\Big)^{-1}
""",
    fields=(
        FieldCard("pressure", 0, "1", "pressure p (zero mean; the mean gradient -G is not "
                  "included)"),
        FieldCard("c_zz", 0, "1", "out-of-plane conformation component C_zz"),
        FieldCard("velocity", 1, "1", "velocity (u_x, u_y)"),
        FieldCard("C", 2, "1", "in-plane conformation tensor (symmetric positive definite)"),
    ),
    parameters=(
        ParamCard("Re", "1", "Reynolds number", 0.0, 1e6, (1000.0,)),
        ParamCard("Wi", "1", "Weissenberg number", 1e-6, 1e4, (50.0,)),
        ParamCard("beta", "1", "viscosity ratio (solvent / total)", 0.0, 1.0, (0.9,)),
        ParamCard("epsilon", "1", "polymer diffusivity", 0.0, 1.0, (2e-6,)),
        ParamCard("Lmax", "1", "maximum polymer extensibility", 1.0, 1e4, (70.0,)),
    ),
    axes=(
        AxisCard("x", "fourier", (0.0, LX), "1", "PERIODIC"),
        AxisCard("y", "chebyshev", (-1.0, 1.0), "1", "WALL", "noslip",
                 bc_values={"velocity_x": (0.0, 0.0), "velocity_y": (0.0, 0.0)},
                 bc_fields=("velocity",)),
    ),
    invariants=(
        InvariantCard("divergence_free", "velocity", 1e-3,
                      "div(u) + tau_p = 0 with tau lifts in the highest Chebyshev mode"),
        InvariantCard("symmetric", "C", 1e-6, "c_xy solved once: C_xy = C_yx exactly"),
        InvariantCard("positive_definite", "C", 1e-3, "FENE-P conformation tensor"),
        InvariantCard("non_negative", "c_zz", 1e-3),
        InvariantCard("zero_mean", "pressure", 1e-6, "gauge integ(p) = 0"),
    ),
    references=(
        "Well dataset viscoelastic_instability (Beneitez, Page, Dubief & Kerswell, JFM 981 "
        "A30, 2024)",
        "Newtonian limit: Re_c = 5772.22 at alpha = 1.02056 (Orszag 1971)",
    ),
    notes=(
        "Driving: constant flux ∫u_x dy = 4/3 (the laminar Newtonian flux; the Well's README "
        "does not state its driving); the mean pressure gradient G(t) is a solver unknown "
        "(the drag; not stored: the stored pressure is the periodic part p).",
        "Polymer boundary condition: the C equations without diffusion at the walls "
        "(README: 'epsilon = 0 at the wall').",
        "y is stored at the Gauss–Chebyshev nodes (the walls are not grid points), or with "
        "option y_grid=uniform on N uniform points including both walls (the 'well' preset: "
        "the README says 'uniform cartesian').",
        "IC 'laminar': the analytic laminar FENE-P state (epsilon = 0) plus divergence-free "
        "noise of rms 'amplitude'. IC 'blowing_suction' (the Well's route to EIT): the "
        "laminar state and a wall-normal velocity v(x, y=±1, t) = A (t/τ) e^(1-t/τ) "
        "sin(k x + φ) at both walls (peak A at t = τ, option blowing_time).",
        "Each trajectory's final state is classified (laminar / steady_arrowhead / chaotic) "
        "from the perturbation kinetic energy of its stored frames (last half): provenance "
        "'flow_state' and 'flow_diagnostics' (thresholds included).",
        "Time is per trajectory (dimensions/time of shape (n_traj, T), as in the Well's files) "
        "when the runs of a file have different spin-ups (IC parameter 'spinup').",
    ),
)


# -- the laminar state ----------------------------------------------------------------------
def fene_f(shear, Wi: float, Lmax: float):
    """f ≥ 1 of the laminar FENE-P state at shear rate U': the root of
    f²(f − 1) = 2 Wi² U'²/(Lmax² + 3) (from f c_yy = 1 and tr C = 3/f + 2 Wi² U'²/f³)."""
    a = 2 * Wi**2 * np.asarray(shear, dtype=float) ** 2 / (Lmax**2 + 3)
    f = 1 + np.cbrt(a)  # above the root; Newton on the convex f³ − f² − a decreases to it
    for _ in range(40):
        f = f - (f**3 - f**2 - a) / (3 * f**2 - 2 * f)
    return f


def shear_stress(shear, Wi: float, beta: float, Lmax: float):
    """Total shear stress of the laminar state: U' (β + (1 − β)/f(U'))."""
    return shear * (beta + (1 - beta) / fene_f(shear, Wi, Lmax))


class Laminar:
    """The laminar FENE-P channel flow u = U(y) e_x at flux ``flux`` (epsilon = 0):
    U'(β + (1 − β)/f) = −G y, U(±1) = 0, c_yy = c_zz = 1/f, c_xy = Wi U'/f²,
    c_xx = (1 + 2 Wi² U'²/f²)/f. ``G`` solves ∫U dy = flux."""

    def __init__(self, Wi: float, beta: float, Lmax: float, flux: float = FLUX, n: int = 256):
        self.Wi, self.beta, self.Lmax = Wi, beta, Lmax
        nodes = np.cos(np.pi * (np.arange(n) + 0.5) / n)  # Chebyshev–Gauss points
        cheb = np.polynomial.chebyshev

        def profile(G):  # U' as a Chebyshev series on [-1, 1]
            s = _invert_monotone(lambda v: shear_stress(v, Wi, beta, Lmax), -G * nodes)
            return cheb.chebfit(nodes, s, n - 1)

        def flux_of(G):
            dU = profile(G)
            U = cheb.chebint(dU, lbnd=-1)
            return cheb.chebval(1, cheb.chebint(U, lbnd=-1))

        self.G = brentq(lambda G: flux_of(G) - flux, 1e-6, 1e4 * flux, xtol=1e-15, rtol=1e-15)
        self._dU = profile(self.G)
        self._U = cheb.chebint(self._dU, lbnd=-1)

    def velocity(self, y):
        return np.polynomial.chebyshev.chebval(y, self._U)

    def shear(self, y):
        return np.polynomial.chebyshev.chebval(y, self._dU)

    def conformation(self, y) -> dict[str, np.ndarray]:
        s = self.shear(y)
        f = fene_f(s, self.Wi, self.Lmax)
        Wi = self.Wi
        return {"c_xx": (1 + 2 * Wi**2 * s**2 / f**2) / f, "c_xy": Wi * s / f**2,
                "c_yy": 1 / f, "c_zz": 1 / f}


@lru_cache(maxsize=8)
def laminar(Wi: float, beta: float, Lmax: float) -> Laminar:
    """The laminar state at flux 4/3 (computed once per parameter set)."""
    return Laminar(Wi, beta, Lmax)


def _invert_monotone(func, target, iterations: int = 64):
    """Pointwise v with func(v) = target for an increasing odd func (vectorised bisection)."""
    goal = np.abs(np.asarray(target, dtype=float))
    hi = np.maximum(goal, 1.0)
    while np.any(func(hi) < goal):
        hi = np.where(func(hi) < goal, 2 * hi, hi)
    lo = np.zeros_like(goal)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        below = func(mid) < goal
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return np.sign(target) * 0.5 * (lo + hi)


# -- the state a trajectory ends in ----------------------------------------------------------
FLOW_STATES = ("laminar", "steady_arrowhead", "chaotic")


class FlowState:
    """Classify a trajectory's final state from its stored velocity frames.

    Diagnostic: the perturbation kinetic energy E'(t) = ½⟨|u − ⟨u⟩_x|²⟩ (deviation from the
    x-average: the laminar state is x-independent) relative to the kinetic energy ½⟨|u|²⟩
    (⟨·⟩: trapezoidal average over the stored grid), on the last half of the frames:

    - ``laminar``: E'/E < ``laminar_below`` throughout, or E' decays (the least-squares
      fit of log E' falls by more than ``steady_rtol`` over the window and varies about the
      fit by less than ``chaotic_above``): on its way back to the laminar state;
    - ``steady_arrowhead``: E' constant to ``steady_rtol`` (its fit changes, and it varies
      about it, by less): a travelling wave, steady in its own frame (the SAR);
    - ``chaotic``: otherwise (EIT; also a perturbation still growing at the end).
    """

    laminar_below = 1e-6
    steady_rtol = 0.02
    chaotic_above = 0.1

    def __init__(self, y_grid: str, times: np.ndarray):
        self.y_grid, self.times = y_grid, np.asarray(times, dtype=float)
        self.y: np.ndarray | None = None  # the stored y grid, from the first frame's size
        self.energy: list[float] = []
        self.perturbation: list[float] = []

    def _average(self, density: np.ndarray) -> float:  # density (Nx, Ny)
        return float(np.trapezoid(density.mean(axis=0), self.y) / (self.y[-1] - self.y[0]))

    def update(self, k: int, frame: dict[str, np.ndarray]) -> None:
        u = np.asarray(frame["velocity"], dtype=np.float64)
        if self.y is None:
            n = u.shape[1]
            self.y = (np.linspace(-1, 1, n) if self.y_grid == "uniform"
                      else chebyshev_nodes(n, -1.0, 1.0))
        du = u - u.mean(axis=0, keepdims=True)
        self.energy.append(0.5 * self._average(np.sum(u**2, axis=-1)))
        self.perturbation.append(0.5 * self._average(np.sum(du**2, axis=-1)))

    def classify(self) -> tuple[str, dict]:
        e = np.asarray(self.perturbation) / max(np.mean(self.energy), 1e-300)
        start = len(e) // 2 if len(e) >= 4 else 0
        tail, t = e[start:], self.times[start:len(e)]
        log_e = np.log(np.maximum(tail, 1e-300))
        if tail.size > 1:
            slope, icept = np.polyfit(t, log_e, 1)
            change = float(np.expm1(slope * (t[-1] - t[0])))  # relative change of the fit
            scatter = float(np.std(log_e - (slope * t + icept)))  # about the fit
        else:
            change, scatter = 0.0, 0.0
        if tail.max() < self.laminar_below or (change < -self.steady_rtol
                                                and scatter < self.chaotic_above):
            state = "laminar"
        elif abs(change) <= self.steady_rtol and scatter <= self.steady_rtol:
            state = "steady_arrowhead"
        else:
            state = "chaotic"
        return state, {"perturbation_energy_mean": float(np.mean(tail)),
                       "perturbation_energy_final": float(e[-1]),
                       "relative_change": change, "relative_scatter": scatter,
                       "window": [float(t[0]), float(t[-1])],
                       "laminar_below": self.laminar_below, "steady_rtol": self.steady_rtol,
                       "chaotic_above": self.chaotic_above}

    def record(self) -> dict:
        state, diagnostics = self.classify()
        return {"flow_state": [state], "flow_diagnostics": [diagnostics]}


class ViscoelasticInstability(System):
    name = "viscoelastic_instability"
    card = CARD
    ic_params = (
        ICParam("ic", "blowing_suction", "IC family", choices=("blowing_suction", "laminar")),
        ICParam("amplitude", 0.05, "blowing/suction peak wall velocity A, or (laminar) the "
                "rms of the velocity noise", low=0.0, high=1.0),
        ICParam("wavenumber", 1, "blowing/suction wavenumber k along x (integer)",
                low=1, high=64),
        ICParam("phase", 0.0, "blowing/suction phase φ", low=0.0, high=2 * math.pi),
        ICParam("noise_seed", None, "noise seed (default: the run's seed)"),
        ICParam("spinup", None, "this run's spin-up (default: the config's time.spinup); "
                "runs of one file with different spin-ups store a per-trajectory time",
                low=0.0, high=1e6),
    )
    options = {"y_grid": "chebyshev", "blowing_time": 1.0}
    option_choices = {"y_grid": ("chebyshev", "uniform")}
    presets = {
        # tiny: Wi = 5 at 24 x 32 (the laminar wall value of c_xx is ~190); blowing/suction
        # and noise decay back to the laminar state at Re = 1000
        "tiny": dict(resolution=[24, 32], stored_resolution=[24, 32],
                     options={"blowing_time": 0.2},
                     time=dict(dt_out=0.5, n_frames=8, spinup=4.0),
                     parameters={"product": {"Re": [1000.0], "Wi": [5.0], "beta": [0.9],
                                             "epsilon": [1e-3], "Lmax": [70.0]}},
                     initial_conditions={"zip": {
                         "ic": ["blowing_suction", "blowing_suction", "laminar"],
                         "amplitude": [0.05, 0.1, 0.01], "wavenumber": [1, 2, 1]}},
                     expected_runs=3),
        # the Well's parameters and stored grid; its EIT class (34 trajectories of 60
        # frames, stored every time unit, each at its own times); the spin-up is not stated
        # by the Well: ours, 100 to 140, lets the blowing/suction pulse (τ = 1) and its
        # transient pass, and differs between runs (a per-trajectory time, as the Well's)
        "well": dict(resolution=[512, 512], stored_resolution=[512, 512],
                     options={"y_grid": "uniform"},
                     time=dict(dt_out=1.0, n_frames=60, spinup=100.0),
                     parameters={"product": {"Re": [1000.0], "Wi": [50.0], "beta": [0.9],
                                             "epsilon": [2e-6], "Lmax": [70.0]}},
                     initial_conditions={"list": [
                         {"ic": "blowing_suction", "amplitude": a, "wavenumber": k,
                          "phase": phase, "spinup": 100.0 + 5.0 * j}
                         for a in (0.05, 0.1) for k in (1, 2)
                         for j, phase in enumerate((0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5,
                                                    1.5))]},
                     expected_runs=36),
    }

    def check_parameters(self, params):
        from wellforge.errors import ConfigError

        if params.get("beta", 0.5) == 0 and params.get("Re", 1.0) == 0:
            raise ConfigError("Re = 0 with beta = 0 leaves no equation for u: give beta > 0")

    def diagnostics(self, ctx: BuildContext, times: np.ndarray) -> FlowState:
        return FlowState(ctx.options.get("y_grid", "chebyshev"), times)

    def build(self, ctx: BuildContext) -> Setup:
        import dedalus.public as d3

        Nx, Ny = ctx.resolution
        Re, Wi, beta, eps, Lmax = (float(ctx.params[k]) for k in
                                   ("Re", "Wi", "beta", "epsilon", "Lmax"))
        tau_b = float(ctx.options.get("blowing_time", 1.0))
        coords = d3.CartesianCoordinates("x", "y")
        dist = ctx.distributor(coords)
        xbasis = d3.RealFourier(coords["x"], size=Nx, bounds=(0, LX), dealias=ctx.dealias)
        ybasis = d3.ChebyshevT(coords["y"], size=Ny, bounds=(-1, 1), dealias=ctx.dealias)
        bases = (xbasis, ybasis)
        u = dist.VectorField(coords, name="u", bases=bases)
        p = dist.Field(name="p", bases=bases)
        c_xx, c_xy, c_yy, c_zz = (dist.Field(name=n, bases=bases)
                                  for n in ("c_xx", "c_xy", "c_yy", "c_zz"))
        G = dist.Field(name="G")  # mean pressure gradient: holds the flux
        v_w, w = (dist.Field(name=n, bases=xbasis) for n in ("v_w", "w"))  # wall pulse
        tau_p = dist.Field(name="tau_p")
        tau_u1, tau_u2 = (dist.VectorField(coords, name=n, bases=xbasis)
                          for n in ("tau_u1", "tau_u2"))
        ex, ey = coords.unit_vector_fields(dist)
        lift = lambda A: d3.Lift(A, ybasis.derivative_basis(1), -1)  # noqa: E731
        dx = lambda A: d3.Differentiate(A, coords["x"])  # noqa: E731
        dy = lambda A: d3.Differentiate(A, coords["y"])  # noqa: E731
        grad_u = d3.grad(u) + ey * lift(tau_u1)
        Q = FLUX * LX

        # the polymer: f(tr C), T(C) and the upper-convected stretching C.∇u + (∇u)^T.C
        ux, uy = ex @ u, ey @ u
        f = Lmax**2 / (Lmax**2 + 3 - (c_xx + c_yy + c_zz))
        T_xx, T_yy, T_zz = ((f * c - 1) / Wi for c in (c_xx, c_yy, c_zz))
        T_xy = f * c_xy / Wi
        T = T_xx * (ex * ex) + T_xy * (ex * ey + ey * ex) + T_yy * (ey * ey)
        stretch = {"c_xx": 2 * (c_xx * dx(ux) + c_xy * dy(ux)),
                   "c_xy": c_xx * dx(uy) + c_yy * dy(ux) + c_xy * (dx(ux) + dy(uy)),
                   "c_yy": 2 * (c_xy * dx(uy) + c_yy * dy(uy)),
                   "c_zz": 0}
        relax = {"c_xx": T_xx, "c_xy": T_xy, "c_yy": T_yy, "c_zz": T_zz}
        comps = {"c_xx": c_xx, "c_xy": c_xy, "c_yy": c_yy, "c_zz": c_zz}

        variables = [u, p, c_xx, c_xy, c_yy, c_zz, G, v_w, w, tau_p, tau_u1, tau_u2]
        taus = {}
        if eps > 0:
            for n in comps:
                taus[n] = tuple(dist.Field(name=f"tau_{n}{i}", bases=xbasis) for i in (1, 2))
                variables += taus[n]
        problem = d3.IVP(variables, namespace=dict(locals()))
        ns = problem.namespace
        problem.add_equation("trace(grad_u) + tau_p = 0")
        problem.add_equation("Re*dt(u) - beta*div(grad_u) + grad(p) - G*ex + lift(tau_u2) "
                             "= - Re*u@grad(u) + (1 - beta)*div(T)")
        for n, c in comps.items():
            ns[f"rhs_{n}"] = rhs = -u @ d3.grad(c) + stretch[n] - relax[n]
            if eps > 0:  # diffusion in the interior; "eps = 0 at the wall"
                t1, t2 = taus[n]
                ns.update(c=c, t1=t1, t2=t2, rhs=rhs)
                problem.add_equation("dt(c) - eps*div(grad(c) + ey*lift(t1)) + lift(t2) = rhs")
                problem.add_equation("dt(c)(y=-1) = rhs(y=-1)")
                problem.add_equation("dt(c)(y=1) = rhs(y=1)")
            else:  # hyperbolic: no wall condition (v = 0 there)
                ns.update(c=c, rhs=rhs)
                problem.add_equation("dt(c) = rhs")
        problem.add_equation("u(y=-1) - v_w*ey = 0")
        problem.add_equation("u(y=1) - v_w*ey = 0")
        problem.add_equation("integ(ux) = Q")
        problem.add_equation("integ(p) = 0")
        # the blowing/suction pulse v_w = A (t/τ) e^(1-t/τ) sin(k x + φ): w(0) = e A sin
        problem.add_equation("dt(w) + w/tau_b = 0")
        problem.add_equation("dt(v_w) + v_w/tau_b - w/tau_b = 0")

        self._initial_condition(ctx, dist, xbasis, ybasis, u, comps, G, w, Wi, beta, Lmax)
        return Setup(
            problem=problem,
            outputs={"pressure": p, "c_zz": c_zz, "velocity": u,
                     "C": c_xx * (ex * ex) + c_xy * (ex * ey + ey * ex) + c_yy * (ey * ey)},
            velocity=u,
            timestepper="SBDF2",
            cfl=CFLSettings(initial_dt=1e-3, max_dt=0.05, safety=0.4, threshold=0.1),
        )

    @staticmethod
    def _initial_condition(ctx, dist, xbasis, ybasis, u, comps, G, w, Wi, beta, Lmax):
        import dedalus.public as d3

        ic = ctx.ic
        x, y = dist.local_grids(xbasis, ybasis)
        lam = laminar(Wi, beta, Lmax)
        for n, values in lam.conformation(y).items():
            comps[n]["g"] = np.broadcast_to(values, comps[n]["g"].shape)
        u["g"][0] = lam.velocity(y)
        u["g"][1] = 0.0
        G["g"] = lam.G
        A = float(ic.get("amplitude", 0.0))
        if ic.get("ic", "blowing_suction") == "blowing_suction":
            (xw,) = dist.local_grids(xbasis)
            k, phase = int(ic.get("wavenumber", 1)), float(ic.get("phase", 0.0))
            w["g"] = math.e * A * np.sin(k * xw + phase)
        elif A > 0:  # divergence-free noise vanishing with its normal derivative at the walls
            seed = ic.get("noise_seed")
            psi = dist.Field(bases=(xbasis, ybasis))
            smooth_noise(psi, int(ctx.seed if seed is None else seed),
                         (max(ctx.resolution[0] // 4, 2), max(ctx.resolution[1] // 4, 2)))
            psi["g"] *= (1 - y**2) ** 2
            du = d3.skew(d3.grad(psi)).evaluate()
            du.change_scales(1)
            rms = global_rms(du["g"], ctx.comm, int(np.prod(ctx.resolution)))
            u["g"] += A * du["g"] / max(rms, 1e-300)
