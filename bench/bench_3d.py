"""3-D runs (issue 18): core-seconds per stored frame, strong scaling over a process mesh,
and the Taylor–Green benchmark at Re = 1600.

    python bench/bench_3d.py frames  --system taylor_green_3d --n 64 --frames 3
    python bench/bench_3d.py scaling --system taylor_green_3d --n 64 --frames 3 --ranks 2
    python bench/bench_3d.py tg1600  --n 64 [--t-end 20]

``frames`` (also the worker under ``mpirun``): one trajectory on the ranks it is started
with (mesh from ``schedule.process_mesh``), the solver build timed apart from the
stepping; prints one JSON line. ``scaling`` runs the worker on 1 and on R ranks,
interleaved (1 R 1 R), and reports the speed-up of the stepping. ``tg1600`` runs the
Taylor–Green vortex at Re = 1600 to t = 20 and compares the dissipation-rate peak with the
spectral DNS reference (0.0127 near t ≈ 9, van Rees et al. 2011; Brachet et al. 1983).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
       "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1"}

RESOLUTION = {"taylor_green_3d": lambda n: (n, n, n),
              "rayleigh_benard_3d": lambda n: (n, n, max(n // 4, 8))}
PARAMS = {"taylor_green_3d": {"Reynolds": 1600.0},
          "rayleigh_benard_3d": {"Rayleigh": 1e6, "Prandtl": 1.0, "aspect": 4.0}}
IC = {"taylor_green_3d": {"amplitude": 0.0}, "rayleigh_benard_3d": {"noise": 0.01}}


def one_run(system_name: str, res, frames: int, dt_out: float, params=None, out=None):
    """Simulate one trajectory on COMM_WORLD; returns the timings (rank 0) and the path."""
    from mpi4py import MPI
    from wellforge.generators.registry import get_system
    from wellforge.generators.run import RunSpec
    from wellforge.generators.runner import run_trajectory
    from wellforge.generators.schedule import process_mesh

    comm = MPI.COMM_WORLD
    system = get_system(system_name)
    spec = RunSpec("bench", 0, system_name, system_name, params or PARAMS[system_name],
                   IC[system_name], 1, tuple(res), tuple(res), 0.0, dt_out, frames)
    d = tempfile.mkdtemp() if out is None else os.path.dirname(out)
    path = out or os.path.join(d, "bench.hdf5")
    path = comm.bcast(path, root=0)
    mesh = process_mesh(comm.size, tuple(res))
    r = run_trajectory(system, spec, path, comm=comm, mesh=mesh, progress=False)
    if comm.rank != 0:
        return None, path
    import h5py

    with h5py.File(path) as f:
        build = json.loads(f["provenance"].attrs["build_s"])[0]
    step_s = r.wall_s - build
    return {"system": system_name, "resolution": list(res), "ranks": comm.size,
            "mesh": list(mesh) if mesh else None, "frames": frames, "steps": r.steps,
            "wall_s": round(r.wall_s, 3), "build_s": round(build, 3),
            "core_s_per_frame": round(step_s * comm.size / max(frames - 1, 1), 4),
            "core_s_per_step": round(step_s * comm.size / max(r.steps, 1), 5),
            "status": r.status}, path


def frames_cmd(a):
    res = RESOLUTION[a.system](a.n)
    row, path = one_run(a.system, res, a.frames, a.dt_out)
    if row is not None:
        print(json.dumps(row), flush=True)
        os.remove(path)


def worker(ranks, a):
    cmd = ["mpirun", "-n", str(ranks), sys.executable, __file__, "frames", "--system",
           a.system, "--n", str(a.n), "--frames", str(a.frames), "--dt-out", str(a.dt_out)]
    p = subprocess.run(cmd, env=ENV, capture_output=True, text=True, check=True)
    return json.loads([ln for ln in p.stdout.splitlines() if ln.startswith("{")][-1])


def scaling_cmd(a):
    rows = {1: [], a.ranks: []}
    for _ in range(a.repeat):
        for r in (1, a.ranks):  # interleaved: 1 R 1 R
            rows[r].append(worker(r, a))
            print(json.dumps(rows[r][-1]), flush=True)
    step = {r: min(x["wall_s"] - x["build_s"] for x in v) for r, v in rows.items()}
    s = step[1] / step[a.ranks]
    print(json.dumps({"speedup_stepping": round(s, 3),
                      "efficiency": round(s / a.ranks, 3), "load": os.getloadavg()}))


def tg1600_cmd(a):
    import h5py

    d = tempfile.mkdtemp()
    path = os.path.join(d, "tg1600.hdf5")
    n_frames = int(round(a.t_end / a.dt_out)) + 1
    t0 = time.perf_counter()
    row, path = one_run("taylor_green_3d", (a.n,) * 3, n_frames, a.dt_out, out=path)
    if row is None:
        return
    with h5py.File(path) as f:
        t = f["dimensions/time"][()].astype(float)
        eps = f["scalars/dissipation_rate"][0].astype(float)
        E = f["scalars/kinetic_energy"][0].astype(float)
    k = int(np.argmax(eps))
    dEdt = -np.gradient(E, t)
    print(json.dumps({**row, "wall_total_s": round(time.perf_counter() - t0, 1),
                      "eps_peak": round(float(eps[k]), 5), "t_peak": float(t[k]),
                      "minus_dEdt_peak": round(float(dEdt.max()), 5),
                      "t_minus_dEdt_peak": float(t[int(np.argmax(dEdt))]),
                      "reference_peak": 0.0127, "gap": round(float(eps[k]) / 0.0127 - 1, 4),
                      "eps": [round(float(x), 6) for x in eps[::4]],
                      "t": [float(x) for x in t[::4]], "load": os.getloadavg()}))
    os.remove(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("frames", "scaling", "tg1600"))
    ap.add_argument("--system", default="taylor_green_3d", choices=sorted(RESOLUTION))
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--dt-out", type=float, default=0.25)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--t-end", type=float, default=20.0)
    a = ap.parse_args()
    {"frames": frames_cmd, "scaling": scaling_cmd, "tg1600": tg1600_cmd}[a.mode](a)


if __name__ == "__main__":
    main()
