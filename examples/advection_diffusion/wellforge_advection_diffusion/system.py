"""advection_diffusion: 2-D advection-diffusion of a passive scalar, with an exact solution.

    dt(c) + v.grad(c) - kappa lap(c) = 0        on [0, 1)^2, periodic, v constant

A worked example of a wellforge system plugin (written with ``wellforge new-system`` and
edited). It is not part of wellforge: its ``pyproject.toml`` registers it in the entry
point group ``wellforge.systems``. The initial condition is a finite Fourier sum, so the
solution is known exactly: every mode is carried with ``v`` and decays as
``exp(-kappa |k|^2 t)`` (``exact_solution``), which the tests compare with the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from wellforge.generators.system import BuildContext, CFLSettings, ICParam, Setup, System
from wellforge.schema.cardfile import load_card

CARD = load_card(Path(__file__).with_name("card.yaml"))
(X0, X1), (Y0, Y1) = CARD.axes[0].bounds, CARD.axes[1].bounds
LX, LY = X1 - X0, Y1 - Y0


def modes(seed: int, n_modes: int, amplitude: float):
    """The initial condition's Fourier modes: rows (m, n, a, b) for
    ``a cos(k.x) + b sin(k.x)``, ``k = 2 pi (m / LX, n / LY)``; half-plane m > 0 or
    (m = 0, n > 0), so no mode appears twice. Drawn from ``seed`` alone: the same on every
    rank and every process mesh."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(n_modes + 1):
        for n in range(-n_modes, n_modes + 1):
            if m == 0 and n <= 0:
                continue
            a, b = amplitude * rng.standard_normal(2) / (m * m + n * n)
            rows.append((m, n, a, b))
    return np.array(rows)


def exact_solution(x, y, t: float, params: dict, ic: dict, seed: int) -> np.ndarray:
    """c(x, y, t) for the run with these parameters, IC parameters and seed."""
    kappa, vx, vy = params["kappa"], params["vx"], params["vy"]
    c = np.ones(np.broadcast_shapes(np.shape(x), np.shape(y)))
    for m, n, a, b in modes(seed, int(ic["n_modes"]), float(ic["amplitude"])):
        kx, ky = 2 * np.pi * m / LX, 2 * np.pi * n / LY
        phase = kx * (x - X0 - vx * t) + ky * (y - Y0 - vy * t)
        c = c + np.exp(-kappa * (kx**2 + ky**2) * t) * (a * np.cos(phase) + b * np.sin(phase))
    return c


class AdvectionDiffusion(System):
    name = "advection_diffusion"
    card = CARD
    ic_params = (
        ICParam("n_modes", 3, "largest wavenumber |m|, |n| of the initial modes", low=1,
                high=16),
        ICParam("amplitude", 0.5, "scale of the mode coefficients", low=0.0, high=10.0),
    )
    presets = {
        "tiny": dict(resolution=[32, 32], stored_resolution=[32, 32],
                     time=dict(dt_out=0.025, n_frames=11),
                     parameters={"zip": {"kappa": [1e-2, 2e-3], "vx": [1.0, 0.5],
                                         "vy": [0.5, -0.25]}},
                     initial_conditions={"product": {"realization": [0, 1, 2]}},
                     expected_runs=6),
        "small": dict(resolution=[64, 64], stored_resolution=[64, 64],
                      time=dict(dt_out=0.05, n_frames=41),
                      parameters={"product": {"kappa": [1e-3, 1e-2], "vx": [0.0, 1.0],
                                              "vy": [0.5]}},
                      initial_conditions={"product": {"n_modes": [3, 6],
                                                      "realization": [0, 1, 2, 3, 4]}},
                      expected_runs=40),
    }

    def build(self, ctx: BuildContext) -> Setup:
        import dedalus.public as d3

        Nx, Ny = ctx.resolution
        kappa, vx, vy = ctx.params["kappa"], ctx.params["vx"], ctx.params["vy"]
        coords = d3.CartesianCoordinates("x", "y")
        dist = ctx.distributor(coords)
        xbasis = d3.RealFourier(coords["x"], size=Nx, bounds=(X0, X1), dealias=ctx.dealias)
        ybasis = d3.RealFourier(coords["y"], size=Ny, bounds=(Y0, Y1), dealias=ctx.dealias)
        c = dist.Field(name="c", bases=(xbasis, ybasis))
        dx = lambda A: d3.Differentiate(A, coords["x"])
        dy = lambda A: d3.Differentiate(A, coords["y"])

        # linear: advection and diffusion both implicit, any fixed step is stable
        problem = d3.IVP([c], namespace=locals())
        problem.add_equation("dt(c) + vx*dx(c) + vy*dy(c) - kappa*lap(c) = 0")

        x, y = dist.local_grids(xbasis, ybasis)
        c["g"] = exact_solution(x, y, 0.0, ctx.params, ctx.ic, ctx.seed)

        return Setup(
            problem=problem,
            outputs={"concentration": c},
            velocity=None,  # no CFL: fixed step cfl.max_dt
            timestepper="RK443",
            cfl=CFLSettings(initial_dt=2.5e-3, max_dt=2.5e-3, safety=0.5),
        )
