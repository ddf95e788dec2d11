"""gray_scott_reaction_diffusion: the Gray–Scott model of two reacting, diffusing species.

As in the Well (generated there with Chebfun ``spin2``, ETDRK4, dt = 1):

    dt(A) - delta_A lap(A) + F A       = - A B^2 + F
    dt(B) - delta_B lap(B) + (F + k) B =   A B^2

with delta_A = 2e-5, delta_B = 1e-5 on x, y in [-1, 1), both periodic (RealFourier).
The six (F, k) pairs of the Well give gliders, bubbles, maze, worms, spirals and spots.
There is no advection: the runner takes fixed steps of ``cfl.max_dt``.
"""

from __future__ import annotations

import numpy as np
from wellforge.schema.card import AxisCard, FieldCard, InvariantCard, ParamCard, SystemCard

from ..system import BuildContext, CFLSettings, ICParam, Setup, StationaryCheck, System
from .ic import band_limited_noise, min_max_normalise, periodic_gaussians

DELTA_A, DELTA_B = 2e-5, 1e-5
BOUNDS = (-1.0, 1.0)

#: the Well's six patterns: name -> (F, k)
PATTERNS = {
    "gliders": (0.014, 0.054),
    "bubbles": (0.098, 0.057),
    "maze": (0.029, 0.057),
    "worms": (0.058, 0.065),
    "spirals": (0.018, 0.051),
    "spots": (0.030, 0.062),
}

# the Well's Gaussian-bump IC: m in [10, 100] bumps, amplitude U[1, 3], sharpness U[150, 300]
BUMPS = dict(count=(10, 100), amplitude=(1.0, 3.0), sharpness=(150.0, 300.0))

CARD = SystemCard(
    name="gray_scott_reaction_diffusion",
    title="Gray–Scott reaction–diffusion (two species, periodic square)",
    equations=r"""
\partial_t A = \delta_A \nabla^2 A - A B^2 + F (1 - A),
\quad \partial_t B = \delta_B \nabla^2 B + A B^2 - (F + k) B,
\quad \delta_A = 2\cdot 10^{-5},\ \delta_B = 10^{-5}
""",
    fields=(
        FieldCard("A", 0, "1", "concentration of the fed species A (the Well's u)"),
        FieldCard("B", 0, "1", "concentration of the autocatalytic species B (the Well's v)"),
    ),
    parameters=(
        ParamCard("F", "1", "feed rate", 0.0, 0.3, (0.014, 0.098, 0.029, 0.058, 0.018, 0.030)),
        ParamCard("k", "1", "kill rate", 0.0, 0.3, (0.054, 0.057, 0.057, 0.065, 0.051, 0.062)),
    ),
    axes=(
        AxisCard("x", "fourier", BOUNDS, "1", "PERIODIC"),
        AxisCard("y", "fourier", BOUNDS, "1", "PERIODIC"),
    ),
    invariants=(
        InvariantCard("bounded", "A", 0.7, "0 <= A <= 1 is invariant under the reaction; "
                      "the Well's Fourier-noise IC (trigonometric interpolant of uniform noise) "
                      "starts up to ~0.6 outside, and the excess only decays",
                      bounds=(0.0, 1.0)),
    ),
    references=("Well dataset gray_scott_reaction_diffusion; danfortunato/spectral-gray-scott "
                "(gen_gs.m, random_gaussians.m, init_fourier.m)",
                "Pearson, Complex patterns in a simple system, Science 261 (1993)"),
    notes=(
        "Patterns (F, k): gliders (0.014, 0.054), bubbles (0.098, 0.057), maze (0.029, 0.057),"
        " worms (0.058, 0.065), spirals (0.018, 0.051), spots (0.030, 0.062).",
        "IC 'gaussians': A = normalise(1 - G_A), B = normalise(G_B), G = m in [10, 100] "
        "Gaussian bumps a exp(-s r^2), a ~ U[1, 3], s ~ U[150, 300], centres uniform, "
        "periodised over the 3×3 tiled boxes; normalise = min-max to [0, 1] on the grid.",
        "IC 'fourier': (A, B) = (Ā, B̄) + 0.5 (dA, dB) × noise, noise = uniform [-1/2, 1/2) "
        "on an n_noise² grid, trigonometrically interpolated; (Ā, B̄, dA, dB) = (1, 0, 1, 1) "
        "unless k < (√F - 2F)/2, then the third steady state Ā = (a - √(a²-4))/(2a), "
        "B̄ = √F (a + √(a²-4))/2, a = √F/(F+k), dX = 0.9 min(X̄, 1 - X̄).",
        "IC 'mode' (tests): A = 1 + amplitude cos(π mode x), B = 0, an exact solution "
        "A - 1 ∝ exp(-(δ_A π² mode² + F) t).",
        "Random ICs draw from numpy default_rng(run seed): reproducible, independent of the "
        "MPI layout. Trajectories that become stationary (A constant) are detected; option "
        "stationary = keep | flag | replace.",
        "The Well used ETDRK4 with dt = 1; here RK443 (IMEX: diffusion and linear decay "
        "implicit, A B² explicit) with a fixed dt = 0.5 (dt = 1 is unstable for RK443 on the "
        "Gaussian-bump ICs; at dt = 0.5 the max error in A at t = 500 is ~2e-4 against "
        "dt = 0.125).",
        "Fidelity (issue 19, bench/fidelity.py): linear theory (computed): (1, 0) is stable "
        "to every mode for all F, k > 0 (rates −(F + δ_A q²), −(F + k + δ_B q²)), and none of "
        "the six (F, k) has a Turing instability: only bubbles has non-trivial states, the "
        "upper one (0.430380, 0.360147) stable (−0.03635 ± 0.05994i at q = 0, all q > 0 "
        "decay); so the patterns are finite-amplitude (excitable, self-replicating) "
        "dynamics, not Turing patterns. Pearson's (1993) classes are qualitative; the "
        "measured descriptor of B > ½(min + max) on generated files (64², Gaussian bumps, "
        "t = 1500) "
        "tells spots (103 isolated components, no loops, largest 1.8 % of the cover) from "
        "the maze (8 components, 12 loops, largest 84 % of the cover); worms are not "
        "reproduced at 64² (39 round dots: under-resolved) but are at 128² (47 components, "
        "median axis ratio 3.3), where spots (160, ratio 1.2), maze and worms each satisfy "
        "exactly their own of the three descriptors. Gap: the descriptors for gliders, "
        "spirals and bubbles do not yet discriminate (open).",
    ),
)


def third_steady_state(F: float, k: float) -> tuple[float, float] | None:
    """The non-trivial uniform steady state (A, B) the Well's Fourier IC perturbs, or None
    when k >= (√F - 2F)/2 (then only (1, 0) is used)."""
    if not k < (np.sqrt(F) - 2 * F) / 2:
        return None
    a = np.sqrt(F) / (F + k)
    r = np.sqrt(a * a - 4)
    return float((a - r) / (2 * a)), float(np.sqrt(F) * (a + r) / 2)


def gaussians_ic(rng, x, y, comm=None):
    box = (BOUNDS, BOUNDS)
    A = 1 - periodic_gaussians(rng, x, y, box, **BUMPS)
    B = periodic_gaussians(rng, x, y, box, **BUMPS)
    return min_max_normalise(A, comm), min_max_normalise(B, comm)


def fourier_ic(rng, x, y, F: float, k: float, n_noise: int, amplitude: float = 1.0):
    mean_a, mean_b, da, db = 1.0, 0.0, 1.0, 1.0
    state = third_steady_state(F, k)
    if state is not None:
        mean_a, mean_b = state
        da, db = 0.9 * min(mean_a, 1 - mean_a), 0.9 * min(mean_b, 1 - mean_b)
    box = (BOUNDS, BOUNDS)
    A = mean_a + 0.5 * amplitude * da * band_limited_noise(rng, n_noise, box, x, y)
    B = mean_b + 0.5 * amplitude * db * band_limited_noise(rng, n_noise, box, x, y)
    return A, B


class GrayScott(System):
    name = "gray_scott_reaction_diffusion"
    card = CARD
    ic_params = (
        ICParam("ic", "gaussians", "IC family", choices=("gaussians", "fourier", "mode")),
        ICParam("n_noise", 32, "Fourier IC: noise grid size per direction", low=2, high=1024),
        ICParam("amplitude", 1.0, "Fourier IC: noise scale (1 = the Well); mode IC: "
                "amplitude", low=0.0, high=10.0),
        ICParam("mode", 1, "mode IC: wavenumber index m of cos(π m x)", low=0, high=512),
    )
    options = {"stationary": "flag"}
    option_choices = {"stationary": ("keep", "flag", "replace")}
    stationary = StationaryCheck("A", rtol=1e-5, frames=10)
    presets = {
        # tiny: spots and a maze have formed (spin-up 600; 64 points resolve the pattern
        # scale sqrt(delta_B / k) ~ 0.013 of [-1, 1] poorly but recognisably, 32 do not)
        "tiny": dict(resolution=[64, 64], stored_resolution=[64, 64],
                     time=dict(dt_out=10.0, n_frames=10, spinup=600.0),
                     parameters={"zip": {"F": [0.030, 0.029], "k": [0.062, 0.057]}},
                     initial_conditions={"list": [{"ic": "gaussians"}, {"ic": "fourier"},
                                                  {"ic": "gaussians", "realization": 1}]},
                     expected_runs=6),
        "well": dict(resolution=[128, 128], stored_resolution=[128, 128],
                     time=dict(dt_out=10.0, n_frames=1001),
                     parameters={"zip": {"F": [p[0] for p in PATTERNS.values()],
                                         "k": [p[1] for p in PATTERNS.values()]}},
                     initial_conditions={"product": {"ic": ["gaussians", "fourier"],
                                                     "realization": list(range(100))}},
                     expected_runs=1200),
    }

    def build(self, ctx: BuildContext) -> Setup:
        import dedalus.public as d3

        Nx, Ny = ctx.resolution
        F, k = ctx.params["F"], ctx.params["k"]
        coords = d3.CartesianCoordinates("x", "y")
        dist = ctx.distributor(coords)
        xbasis = d3.RealFourier(coords["x"], size=Nx, bounds=BOUNDS, dealias=ctx.dealias)
        ybasis = d3.RealFourier(coords["y"], size=Ny, bounds=BOUNDS, dealias=ctx.dealias)
        A = dist.Field(name="A", bases=(xbasis, ybasis))
        B = dist.Field(name="B", bases=(xbasis, ybasis))
        delta_A, delta_B = DELTA_A, DELTA_B

        problem = d3.IVP([A, B], namespace=locals())
        problem.add_equation("dt(A) - delta_A*lap(A) + F*A = - A*B**2 + F")
        problem.add_equation("dt(B) - delta_B*lap(B) + (F + k)*B = A*B**2")

        x, y = dist.local_grids(xbasis, ybasis)
        ic = ctx.ic
        family = ic.get("ic", "gaussians")
        rng = np.random.default_rng(ctx.seed)
        if family == "gaussians":
            A["g"], B["g"] = gaussians_ic(rng, x, y, ctx.comm)
        elif family == "fourier":
            A["g"], B["g"] = fourier_ic(rng, x, y, F, k, int(ic.get("n_noise", 32)),
                                        float(ic.get("amplitude", 1.0)))
        else:
            m = int(ic.get("mode", 1))
            A["g"] = 1 + float(ic.get("amplitude", 1.0)) * np.cos(np.pi * m * x) + 0 * y
            B["g"] = 0.0

        return Setup(
            problem=problem,
            outputs={"A": A, "B": B},
            velocity=None,  # reaction–diffusion: fixed step dt = max_dt
            timestepper="RK443",
            cfl=CFLSettings(initial_dt=0.5, max_dt=0.5, safety=1.0),
        )
