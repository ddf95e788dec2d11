"""Small analytic datasets written through ``WellWriter``: fixtures for tests, the
validator's mutation harness and the benchmarks.

The fields are smooth analytic functions with known properties: on a periodic x axis and
a wall-bounded y axis (Chebyshev-like nodes), a tracer ``c`` that is advected rigidly in
x (its mean is conserved exactly), a divergence-free velocity that vanishes at the walls,
and a symmetric t2 tensor.
"""

from __future__ import annotations

import os

import numpy as np

from .dataset import SPLITS, finalize
from .writer import WellWriter


def grids(nx: int, ny: int, lx: float = 2.0, ly: float = 1.0):
    x = lx * np.arange(nx) / nx
    y = ly * (1 - np.cos(np.pi * (np.arange(ny) + 0.5) / ny)) / 2  # Gauss-Chebyshev nodes
    return x, y


def frame(x, y, t, amp, lx=2.0, ly=1.0):
    """One frame of the analytic fields at time ``t`` with amplitude ``amp``."""
    X, Y = np.meshgrid(x, y, indexing="ij")
    kx, ky = 2 * np.pi / lx, np.pi / ly
    phase = kx * (X - 0.1 * t)
    c = 1.0 + 0.5 * amp * np.sin(phase) * np.sin(ky * Y)
    # streamfunction psi = amp sin(kx x) sin(ky y)^2 -> u = dpsi/dy, v = -dpsi/dx: div-free,
    # zero at the walls y = 0, ly.
    s = np.sin(ky * Y)
    u = amp * np.sin(kx * X) * 2 * ky * s * np.cos(ky * Y) * np.cos(t)
    v = -amp * kx * np.cos(kx * X) * s**2 * np.cos(t)
    vel = np.stack([u, v], axis=-1)
    a, b = 1 + 0.1 * amp * np.cos(phase), 0.05 * amp * np.sin(phase)
    tensor = np.stack([np.stack([a, b], -1), np.stack([b, 2 - a], -1)], -2)
    return {"c": c, "velocity": vel, "T": tensor}


def write_file(path: str, *, n_traj=2, n_time=5, nx=16, ny=8, param=1.0, dt=0.5,
               dataset_name="synthetic") -> str:
    x, y = grids(nx, ny)
    t = dt * np.arange(n_time)
    with WellWriter(path, dataset_name, n_traj, t, time_units="s") as w:
        w.add_dimension("x", x, units="m")
        w.add_dimension("y", y, units="m")
        w.add_parameter("alpha", param)
        w.add_scalar("energy", np.linspace(1, 2, n_traj * n_time).reshape(n_traj, n_time),
                     units="J", sample_varying=True, time_varying=True)
        w.add_field("c", order=0, units="mol/m^3")
        w.add_field("velocity", order=1, units="m/s")
        w.add_field("T", order=2, units="Pa")
        w.add_boundary_condition("x", "PERIODIC")
        w.add_boundary_condition("y", "WALL", variant="noslip", fields=("velocity",),
                                 values={"velocity": (0.0, 0.0)})
        w.set_provenance({"generator": "wellforge.schema.synthetic", "seeds": list(range(n_traj))})
        for i in range(n_traj):
            for k in range(n_time):
                w.write_frame(i, k, frame(x, y, t[k], param * (1 + 0.1 * i)))
    return path


def write_dataset(root: str, *, name="synthetic", files_per_split=2, **kw) -> str:
    """A complete dataset directory (all splits, stats, metadata, README)."""
    for s_i, split in enumerate(SPLITS):
        d = os.path.join(root, "data", split)
        os.makedirs(d, exist_ok=True)
        for j in range(files_per_split):
            p = 1.0 + j + 10 * s_i
            write_file(os.path.join(d, f"{name}_alpha_{p:g}.hdf5"), param=p, dataset_name=name,
                       **kw)
    finalize(root)
    return root
