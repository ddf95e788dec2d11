"""MPI efficiency of `wellforge generate` on this machine.

1. Ensemble efficiency: 2P runs on 1 rank (wall T1) vs the same runs on P ranks, one run
   per rank (wall TP): efficiency = T1 / (P TP) (ideal 1); also per run: the mean run time
   alone vs beside P-1 others (memory-bandwidth sharing).
2. Domain decomposition: one Rayleigh–Bénard run at 512 × 128 on 1 rank vs R ranks
   (--ranks-per-run R): speed-up T1 / TR and efficiency T1 / (R TR).

Usage: python bench/bench_mpi.py [--ranks 2] [--frames 9] [--dd-frames 5 (0: no domain decomposition)]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

WF = os.path.join(os.path.dirname(sys.executable), "wellforge")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMEXPR_MAX_THREADS": "1",
       "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}

CONFIG = """
system: rayleigh_benard
resolution: [{nx}, {ny}]
time: {{dt_out: 0.25, n_frames: {frames}}}
parameters: {{product: {{Rayleigh: [1.0e+6], Prandtl: [1.0]}}}}
initial_conditions: {{product: {{noise: [0.01], realization: {reals}}}}}
seed: 3
"""


def timed(ranks, rpr, nx, ny, frames, n_runs):
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as fh:
            fh.write(CONFIG.format(nx=nx, ny=ny, frames=frames, reals=list(range(n_runs))))
        cmd = ["mpirun", "-n", str(ranks), WF, "generate", cfg, "--out", d, "--no-progress",
               "--ranks-per-run", str(rpr)]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=ENV, capture_output=True, check=True)
        wall = time.perf_counter() - t0
        # pure simulation time per run, from the event logs
        evd = os.path.join(d, ".wellforge-rayleigh_benard", "events")
        runs = [json.loads(line) for f in os.listdir(evd) for line in open(os.path.join(evd, f))]
        sim = [e["wall_s"] for e in runs if e["event"] == "finish"]
        return wall, sim


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--frames", type=int, default=41)
    ap.add_argument("--dd-frames", type=int, default=5)
    ap.add_argument("--runs", type=int, default=0, help="ensemble runs (default 2 × ranks)")
    a = ap.parse_args()
    P = a.ranks
    # ensemble: 2P runs (>= 3: every split needs one) on 1 rank, then on P ranks
    n = a.runs or 2 * P
    t1, s1 = timed(1, 1, 128, 32, a.frames, n)
    tP, sP = timed(P, 1, 128, 32, a.frames, n)
    ens = {"runs": n, "T_1rank_s": t1, "T_Pranks_s": tP, "efficiency": t1 / (P * tP),
           "per_run_efficiency": (sum(s1) / len(s1)) / (sum(sP) / len(sP)),
           "run_s_1rank": s1, "run_s_Pranks": sP}
    if a.dd_frames <= 0:  # the ensemble alone
        print(json.dumps({"ensemble": ens, "load_avg": os.getloadavg()}, indent=1))
        return
    # domain decomposition: one run at 512x128
    d1, r1 = timed(1, 1, 512, 128, a.dd_frames, 3)
    dR, rR = timed(P, P, 512, 128, a.dd_frames, 3)
    dd = {"ranks": P, "T1_per_run_s": sum(r1) / len(r1), "TR_per_run_s": sum(rR) / len(rR)}
    dd["speedup"] = dd["T1_per_run_s"] / dd["TR_per_run_s"]
    dd["efficiency"] = dd["speedup"] / P
    print(json.dumps({"ensemble": ens, "domain_decomposition": dd,
                      "load_avg": os.getloadavg()}, indent=1))


if __name__ == "__main__":
    main()
