"""Checkpoints of a long run: restart from the last one after a crash or a time limit.

Every ``every`` stored frames the group leader (1) copies the shard written so far
(closed for the copy, so the copy is a consistent HDF5 file) and then (2) writes the
solver state (global coefficients of every state field, time, iteration, CFL step) — the
state file is the commit point. A resumed run continues from the frame after the
checkpoint; its provenance says so. Multistep schemes (SBDF) restart with their
lower-order start-up steps, so a resumed run agrees with an uninterrupted one to solver
accuracy, not bit for bit.
"""

from __future__ import annotations

import os

import numpy as np
from wellforge.schema.writer import atomic_rename


class Checkpoint:
    def __init__(self, directory: str, run_id: str, every: int):
        self.every = int(every)
        self.state = os.path.join(directory, f"{run_id}.npz")
        self.frames = os.path.join(directory, f"{run_id}.hdf5")
        os.makedirs(directory, exist_ok=True)

    def due(self, k: int, n_frames: int) -> bool:
        return self.every > 0 and k % self.every == 0 and 0 < k < n_frames - 1

    def available(self) -> bool:
        return os.path.exists(self.state) and os.path.exists(self.frames)

    def save(self, k: int, solver, cfl, writer, comm) -> None:
        from .gather import gather

        if writer is not None:
            writer.snapshot(self.frames)
        data = {f"f{i}": gather(f, comm, "c") for i, f in enumerate(solver.state)}
        if comm.rank == 0:
            tmp = self.state + ".partial.npz"
            np.savez(tmp, k=k, sim_time=solver.sim_time, iteration=solver.iteration,
                     stored_dt=cfl.stored_dt if cfl is not None else np.nan, **data)
            atomic_rename(tmp, self.state)
        comm.Barrier()

    def restore(self, solver, cfl) -> tuple[int, float]:
        """Load the state on every rank; return (frame index, time) of the checkpoint."""
        from .gather import scatter_coeffs

        with np.load(self.state) as z:
            for i, f in enumerate(solver.state):
                scatter_coeffs(f, z[f"f{i}"])
            k, t = int(z["k"]), float(z["sim_time"])
            solver.sim_time = t
            solver.iteration = solver.initial_iteration = int(z["iteration"])
            if cfl is not None and np.isfinite(z["stored_dt"]):
                cfl.stored_dt = float(z["stored_dt"])
        return k, t

    def remove(self) -> None:
        for p in (self.state, self.frames):
            if os.path.exists(p):
                os.remove(p)
