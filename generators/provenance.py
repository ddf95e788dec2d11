"""What a file records of how it was made (``/provenance``): the environment, and for a
generated trajectory its run, solver and timing."""

from __future__ import annotations

import importlib.metadata
import os
import socket
import sys
from dataclasses import asdict

import numpy as np

from wellforge import __version__


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment() -> dict:
    """Host, process and the versions of what wrote the file."""
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "python": sys.version.split()[0], "numpy_version": np.__version__,
            "h5py_version": _version("h5py"), "dedalus_version": _version("dedalus"),
            "wellforge_version": __version__}


def run_provenance(system, spec, seed: int, ctx, stepper, comm, result, *,
                   resumed: dict | None = None, stationary: dict | None = None,
                   extra: dict | None = None, factors_before: tuple[int, int] = (0, 0)
                   ) -> dict:
    """The provenance of one generated trajectory (per-trajectory entries are lists, so
    that ``pack`` concatenates them). ``factors_before``: the factorisation cache's
    (misses, hits) when the run started (a reused solver counts on)."""
    setup, c, factors = stepper.setup, stepper.setup.cfl, stepper.factors
    dt_stats = {"min": result.dt_min, "max": result.dt_max, "mean": result.dt_mean,
                "steps": result.steps}
    if factors.active:
        dt_stats.update(factorisations=factors.misses - factors_before[0],
                        factorisations_reused=factors.hits - factors_before[1])
    return {
        "generator": "wellforge", "system": system.name, "run_ids": [spec.run_id],
        "seeds": [int(seed)], "ic": [spec.ic], "parameters": spec.params,
        "options": ctx.options, "timestepper": setup.timestepper, "dealias": ctx.dealias,
        "cfl": asdict(c) if stepper.cfl is not None else {"fixed_dt": c.max_dt},
        "resolution_simulated": list(spec.resolution),
        "resolution_stored": list(spec.stored_resolution),
        "output_times": "exact: steps shortened to land on t_start + spinup + k*dt_out",
        "mpi": {"ranks": comm.size, "mesh": list(ctx.mesh) if ctx.mesh else None},
        "fftw_planning": "estimate",
        "dt_stats": dt_stats,
        "solver_reused": [bool(stepper.reused)], "build_s": [round(stepper.build_s, 4)],
        "wall_s": [result.wall_s], "core_s": [result.core_s],
        **environment(),
        **(stationary or {}), **(extra or {}),
        **({"resumed_from_checkpoint": [resumed]} if resumed else {}),
    }
