"""How many steps a run will take once its flow has developed: ``wellforge plan --developed``.

A calibration of a few steps from the initial condition sees the initial flow (often at
rest: the step sits at ``max_dt``), so its step count is a lower bound — 20× too low for
the Well's Rayleigh–Bénard sweep, whose convection sets the step. Here each parameter cell
is simulated once at a coarse resolution (``coarsen`` × fewer points per axis: ~1/64 of
the cost in 2-D) over the whole span, and its stored velocity is carried to the full
resolution (spectral interpolation) where Dedalus's own CFL operator (``AdvectiveCFL`` on
the full grid, dealiased) gives the step the full run will take at each stored time, with
the system's safety factor and ``max_dt``. Summed over the output intervals (the output
clock cuts each interval into equal steps never above the CFL step) that is the step
count, per cell: a forecast of the developed flow, as good as the coarse flow's velocity
amplitude (a coarse run that cannot resolve the flow says so: it fails, or its forecast
is marked).

Systems without a velocity take their fixed step (exact counts); velocities on axes other
than Fourier and Chebyshev (the sphere) keep the lower bound.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import replace

import numpy as np

from .config import fft_friendly

#: kinds of stored axis whose full-resolution velocity this module can rebuild
CARTESIAN = ("fourier", "chebyshev")


def coarse_resolution(res: tuple[int, ...], factor: int) -> tuple[int, ...]:
    """Each size divided by ``factor``, kept even, FFT-friendly and >= 8."""
    out = []
    for n in res:
        m = max(8, int(n // factor))
        m += m % 2
        while not fft_friendly(m):
            m += 2
        out.append(min(m, n))
    return tuple(out)


def _full_velocity(system, axes, resolution, dealias):
    """A Dedalus vector field on the full-resolution bases of ``axes`` and its CFL
    frequency operator (Dedalus's ``AdvectiveCFL``)."""
    from .engine import dedalus

    from mpi4py import MPI

    d3 = dedalus()
    names = [a.name for a in axes]
    coords = d3.CartesianCoordinates(*names)
    dist = d3.Distributor(coords, comm=MPI.COMM_SELF, dtype=np.float64)
    bases = []
    for a, n in zip(axes, resolution):
        make = d3.RealFourier if a.kind == "fourier" else d3.ChebyshevT
        bases.append(make(coords[a.name], size=n, bounds=a.bounds, dealias=dealias))
    u = dist.VectorField(coords, bases=tuple(bases))
    return u, d3.AdvectiveCFL(u, coords)


def forecast_cell(plan, run, *, factor: int = 4, max_samples: int = 200) -> dict:
    """Steps of ``run`` at full resolution, from a coarse run of it (module docstring)."""
    from .axes import simulated_axes
    from .resample import Resampler
    from .runner import run_trajectory
    from .system import BuildContext

    system = plan.system
    coarse = coarse_resolution(run.resolution, factor)
    span = run.span
    n = min(max_samples, max(2, int(round(span / run.dt_out)) + 1))
    probe = replace(run, resolution=coarse, stored_resolution=coarse, spinup=0.0,
                    n_frames=n, dt_out=span / (n - 1), run_id=f"{run.run_id}-forecast")
    from mpi4py import MPI

    # the full-resolution step control (CFL settings) and axes, without building matrices
    ctx = BuildContext(params=dict(run.params), ic=dict(run.ic), resolution=run.resolution,
                       seed=run.seed, comm=MPI.COMM_SELF,
                       options={**system.options, **run.options})
    setup = system.build(ctx)
    c = setup.cfl
    if setup.velocity is None:
        steps = math.ceil(span / c.max_dt * (1 - 1e-12))
        return {"cell": run.file_key, "steps": steps, "how": "fixed step", "dt_mean": c.max_dt}
    axes = simulated_axes(setup.outputs)
    names = [a.name for a in axes]
    if any(a.kind not in CARTESIAN for a in axes) or "velocity" not in setup.outputs:
        return {"cell": run.file_key, "steps": None, "how": "no forecast for this grid"}
    with tempfile.TemporaryDirectory() as tmp:
        shard = os.path.join(tmp, "probe.hdf5")
        res = run_trajectory(system, probe, shard, progress=False)
        if res.status != "done":
            return {"cell": run.file_key, "steps": None, "how": "coarse run failed",
                    "reason": f"{res.reason} at t = {res.fail_time}",
                    "coarse_resolution": list(coarse)}
        import h5py

        with h5py.File(shard) as f:
            stored = [str(d.decode() if isinstance(d, bytes) else d)
                      for d in f["dimensions"].attrs["spatial_dims"]]
            vel = f["t1_fields/velocity"][0].astype(np.float64)  # (T, *space, D)
            times = f["dimensions/time"][()].astype(np.float64)
    # stored order -> simulation order, coarse -> full resolution
    perm = [stored.index(a) for a in names]
    vel = np.transpose(vel, [0] + [1 + p for p in perm] + [vel.ndim - 1])[..., perm]
    coarse_axes = tuple(replace(a, size=m) for a, m in zip(axes, coarse))
    up = Resampler(coarse_axes, tuple(run.resolution), {})
    u, freq = _full_velocity(system, axes, run.resolution, ctx.dealias)
    dts = []
    for frame in vel:
        u.change_scales(1)
        u["g"] = np.moveaxis(up(frame), -1, 0)
        u.change_scales(ctx.dealias)  # the CFL task's grid: the dealiased one
        top = float(np.max(np.abs(freq.evaluate().data)))
        dts.append(min(c.max_dt, c.safety / top) if top > 0 else c.max_dt)
    dts = np.asarray(dts)
    steps = int(sum(math.ceil((t1 - t0) / min(a, b) * (1 - 1e-12))
                    for t0, t1, a, b in zip(times[:-1], times[1:], dts[:-1], dts[1:])))
    return {"cell": run.file_key, "steps": steps, "how": "developed (coarse run, scaled)",
            "coarse_resolution": list(coarse), "dt_min": float(dts.min()),
            "dt_mean": float(span / steps) if steps else float(c.max_dt),
            "coarse_steps": res.steps, "coarse_wall_s": res.wall_s}
