"""Generator overhead: plain Dedalus (no output) vs `wellforge generate` (with output).

Same Rayleigh–Bénard problem (Ra = 2e6, Pr = 1, Lx = 4, 256 × 64, RK222, same CFL, same
IC), 200 frames every 0.25 (t_end = 49.75). Each measurement runs in a fresh process
(imports included in both), A/B alternated; the ratio of medians is reported.
Also: core-seconds per trajectory and trajectories/hour for the tiny preset and this mid size.

``--whole``: the whole command instead — ``wellforge generate`` of ``--runs`` runs of one
cell (pack, stats, card and previews included) against the plain Dedalus example writing
b, p, u with its own file handler for the same runs, interleaved A B A B.

Usage: python bench/bench_generate.py [--repeats 3] [--nx 256 --nz 64 --frames 200]
       python bench/bench_generate.py --whole [--runs 3] [--nx 128 --nz 32]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
WF = os.path.join(os.path.dirname(PY), "wellforge")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMEXPR_MAX_THREADS": "1"}


def plain(nx, nz, ra, t_end):
    out = subprocess.run([PY, os.path.join(HERE, "plain_rayleigh_benard.py"), str(nx), str(nz),
                          str(ra), str(t_end)], env=ENV, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ours(nx, nz, ra, frames):
    code = f"""
import json, time, tempfile
t0 = time.perf_counter()
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory
spec = RunSpec("bench", 0, "rayleigh_benard", "rayleigh_benard", {{"Rayleigh": {ra}, "Prandtl": 1.0}},
               {{"ic": "consistent", "dT": 1.0, "noise": 1e-3, "noise_seed": 42}}, 42, ({nx}, {nz}),
               ({nx}, {nz}), 0.0, 0.25, {frames})
d = tempfile.mkdtemp()
r = run_trajectory(get_system("rayleigh_benard"), spec, d + "/rb.hdf5", progress=False)
assert r.status == "done", r
print(json.dumps({{"wall_s": time.perf_counter() - t0, "steps": r.steps}}))
"""
    out = subprocess.run([PY, "-c", code], env=ENV, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


WHOLE_CONFIG = """
system: rayleigh_benard
resolution: [{nx}, {nz}]
time: {{dt_out: 0.25, n_frames: {frames}}}
parameters: {{product: {{Rayleigh: [{ra}], Prandtl: [1.0]}}}}
initial_conditions: {{product: {{ic: [consistent], dT: [1.0], noise: [1.0e-3],
                                noise_seed: {seeds}}}}}
seed: 0
"""


def whole_plain(nx, nz, ra, t_end, runs):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        out = subprocess.run([PY, os.path.join(HERE, "plain_rayleigh_benard.py"), str(nx),
                              str(nz), str(ra), str(t_end), "--runs", str(runs), "--output", d],
                             env=ENV, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        return {"wall_s": time.perf_counter() - t0, "steps": r["steps"]}


def whole_ours(nx, nz, ra, frames, runs):
    import h5py

    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as fh:
            fh.write(WHOLE_CONFIG.format(nx=nx, nz=nz, frames=frames, ra=ra,
                                         seeds=list(range(42, 42 + runs))))
        t0 = time.perf_counter()
        subprocess.run([WF, "generate", cfg, "--out", d, "--no-progress", "-q"], env=ENV,
                       capture_output=True, check=True)
        wall = time.perf_counter() - t0
        steps = 0
        for root, _, names in os.walk(os.path.join(d, "rayleigh_benard", "data")):
            for n in names:
                with h5py.File(os.path.join(root, n)) as f:
                    steps += json.loads(f["provenance"].attrs["dt_stats"])["steps"]
        return {"wall_s": wall, "steps": steps}


def whole(a):
    t_end = 0.25 * (a.frames - 1)
    P, W = [], []
    for i in range(a.repeats):
        P.append(whole_plain(a.nx, a.nz, a.ra, t_end, a.runs))
        W.append(whole_ours(a.nx, a.nz, a.ra, a.frames, a.runs))
        print(f"pair {i}: plain {P[-1]['wall_s']:.2f} s ({P[-1]['steps']} steps), "
              f"wellforge {W[-1]['wall_s']:.2f} s ({W[-1]['steps']} steps), ratio "
              f"{W[-1]['wall_s'] / P[-1]['wall_s']:.3f}; load {os.getloadavg()[0]:.1f}",
              flush=True)
    mp = statistics.median(p["wall_s"] for p in P)
    mw = statistics.median(w["wall_s"] for w in W)
    print(json.dumps({"grid": f"{a.nx}x{a.nz}", "runs": a.runs, "frames": a.frames,
                      "plain_s": mp, "wellforge_s": mw, "ratio_of_medians": mw / mp,
                      "pairs": [w["wall_s"] / p["wall_s"] for p, w in zip(P, W)],
                      "steps": [P[0]["steps"], W[0]["steps"]],
                      "load_avg": os.getloadavg()}, indent=1))


def tiny_preset():
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        subprocess.run([WF, "generate", "rayleigh_benard", "--preset", "tiny", "--out", d,
                        "--no-progress"], env=ENV, capture_output=True, check=True)
        return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--nx", type=int, default=256)
    ap.add_argument("--nz", type=int, default=64)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--ra", type=float, default=2e6)
    ap.add_argument("--whole", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if a.whole:
        return whole(a)
    t_end = 0.25 * (a.frames - 1)
    P, W = [], []
    for i in range(a.repeats):
        P.append(plain(a.nx, a.nz, a.ra, t_end))
        W.append(ours(a.nx, a.nz, a.ra, a.frames))
        print(f"repeat {i}: plain {P[-1]['wall_s']:.2f} s ({P[-1]['steps']} steps), "
              f"wellforge {W[-1]['wall_s']:.2f} s ({W[-1]['steps']} steps)", flush=True)
    mp = statistics.median(p["wall_s"] for p in P)
    mw = statistics.median(w["wall_s"] for w in W)
    tiny = tiny_preset()
    res = {"grid": f"{a.nx}x{a.nz}", "frames": a.frames, "plain_s": mp, "wellforge_s": mw,
           "ratio": mw / mp, "plain_steps": P[0]["steps"], "wellforge_steps": W[0]["steps"],
           "mid_core_s_per_traj": mw, "mid_traj_per_hour_per_core": 3600 / mw,
           "tiny_preset_s_for_6_traj": tiny, "tiny_core_s_per_traj": tiny / 6,
           "load_avg": os.getloadavg()}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
