"""Does ``wellforge plan`` predict? The plan's steps and core-hours against a measured sweep.

A mid-size Rayleigh–Bénard sweep that reaches its developed regime (128 × 32, Ra = 1e5,
1e6, 1e7, Pr = 1, one IC per cell, 200 frames every 0.25 to t = 49.75): ``wellforge plan
CONFIG --json`` (the calibration alone: a lower bound when the initial flow is at rest)
and ``wellforge plan CONFIG --developed --json`` (a coarse run per cell), then ``wellforge
generate CONFIG`` on one rank; the steps and core-seconds each run records in its
provenance are the measurement.

Usage: python bench/bench_plan.py [--nx 128 --nz 32] [--rayleigh 1e5 1e6 1e7]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
from wellforge.schema.reader import read_provenance

WF = os.path.join(os.path.dirname(sys.executable), "wellforge")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMEXPR_MAX_THREADS": "1",
       "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
CONFIG = """
system: rayleigh_benard
resolution: [{nx}, {nz}]
time: {{dt_out: 0.25, n_frames: {frames}}}
parameters: {{product: {{Rayleigh: {ras}, Prandtl: [1.0]}}}}
initial_conditions: {{product: {{noise: [1.0e-3], noise_seed: [42]}}}}
splits: {{train: 1.0}}
seed: 0
"""


def wf(*args) -> str:
    return subprocess.run([WF, *args], env=ENV, capture_output=True, text=True,
                          check=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nx", type=int, default=128)
    ap.add_argument("--nz", type=int, default=32)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--rayleigh", type=float, nargs="+", default=[1e5, 1e6, 1e7])
    ap.add_argument("--coarsen", type=int, default=2,
                    help="plan --developed --coarsen F (128 × 32 / 4 cannot hold Ra 1e7)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as fh:
            fh.write(CONFIG.format(nx=a.nx, nz=a.nz, frames=a.frames, ras=a.rayleigh))
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        bound = json.loads(wf("plan", cfg, "--json"))
        t1 = time.perf_counter()
        dev = json.loads(wf("plan", cfg, "--developed", "--coarsen", str(a.coarsen), "--json"))
        t2 = time.perf_counter()
        wf("generate", cfg, "--out", d, "--no-progress", "-q")
        t3 = time.perf_counter()
        measured = {}
        for root, _, names in os.walk(os.path.join(d, "rayleigh_benard", "data")):
            for n in names:
                with h5py.File(os.path.join(root, n)) as f:
                    pv = read_provenance(f)
                measured[os.path.splitext(n)[0]] = (pv["parameters"]["Rayleigh"],
                                                    pv["dt_stats"]["steps"], sum(pv["core_s"]))
    print(f"RB {a.nx}×{a.nz} (coarse runs at 1/{a.coarsen} per axis), t to {0.25 * (a.frames - 1):g}; load {load0:.1f} → "
          f"{os.getloadavg()[0]:.1f}; plan {t1 - t0:.0f} s, plan --developed {t2 - t1:.0f} s, "
          f"generate {t3 - t2:.0f} s")
    print("| Ra | plan (calibration) steps | plan --developed steps | measured steps | "
          "forecast / measured |")
    print("|---|---|---|---|---|")
    for c in dev["forecast"]:
        ra, steps, _ = measured[c["cell"]]
        ratio = f"{c['steps'] / steps:.3f}" if c["steps"] else c["how"]
        print(f"| {ra:.0e} | {bound['steps_per_run']['max']} | {c['steps']} | {steps} | "
              f"{ratio} |")
    core_h = sum(v[2] for v in measured.values()) / 3600
    print(f"core-hours: plan {bound['core_hours']:.3g} (lower bound), plan --developed "
          f"{dev['core_hours']:.3g}, measured {core_h:.3g} (measured / developed "
          f"{core_h / dev['core_hours']:.2f})")


if __name__ == "__main__":
    main()
