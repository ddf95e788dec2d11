"""MPI ensembles: rank-invariant results, kill -9 and resume, a busy dynamic queue.

Every test launches ``mpirun -n 2`` in a subprocess."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from wellforge.schema.dataset import SPLITS, split_files

from .spec_rules import assert_spec_rules

pytestmark = [pytest.mark.mpi, pytest.mark.slow]

WF = os.path.join(os.path.dirname(sys.executable), "wellforge")
CONFIG = """
system: rayleigh_benard
resolution: [32, 16]
time: {dt_out: 1.0, n_frames: 11}
parameters: {product: {Rayleigh: [1.0e+5, 1.0e+6], Prandtl: [1.0]}}
initial_conditions: {product: {dT: [1.0], noise: [0.01], realization: [0, 1, 2]}}
expected_runs: 6
seed: 7
"""
ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
       "OMP_NUM_THREADS": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def mpirun(n, *args, **kw):
    return ["mpirun", "-n", str(n), WF, *args]


def generate(tmp, out, ranks_per_run=1, config=CONFIG):
    cfg = tmp / "sweep.yaml"
    cfg.write_text(config)
    p = subprocess.run(mpirun(2, "generate", str(cfg), "--out", str(out), "--no-progress",
                              "--ranks-per-run", str(ranks_per_run)),
                       env=ENV, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    return p


def data_files(root):
    return [p for s in SPLITS for p in split_files(root, s)]


def read_all(root):
    out = {}
    for p in data_files(root):
        with h5py.File(p) as f:
            for g in ("t0_fields", "t1_fields"):
                for n in f[g]:
                    out[(os.path.relpath(p, root), n)] = f[g][n][()]
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted 2-rank, one-run-per-rank sweep."""
    tmp = tmp_path_factory.mktemp("ref")
    generate(tmp, tmp / "out", ranks_per_run=1)
    return tmp / "out" / "rayleigh_benard"


def test_reference_sweep_is_complete(reference):
    files = data_files(str(reference))
    assert len(files) == 6  # 2 parameter sets × 3 splits
    for p in files:
        assert_spec_rules(p)


def test_rank_invariance_r1_vs_r2(reference, tmp_path):
    """Same config on 2 single-rank groups vs 1 two-rank group: identical ICs bit for bit,
    trajectories equal within 1e-5 relative (float32 storage)."""
    generate(tmp_path, tmp_path / "out", ranks_per_run=2)
    a, b = read_all(str(reference)), read_all(str(tmp_path / "out" / "rayleigh_benard"))
    assert a.keys() == b.keys()
    evolved = False
    for key in a:
        np.testing.assert_array_equal(a[key][:, 0], b[key][:, 0])  # initial conditions
        scale = np.abs(a[key]).max()
        assert np.abs(a[key] - b[key]).max() <= 1e-5 * scale, key
        evolved |= np.abs(a[key][:, -1] - a[key][:, 0]).max() > 1e-3 * scale
    assert evolved  # the comparison is not between two copies of the initial state


def test_kill_and_resume_gives_the_uninterrupted_dataset(reference, tmp_path):
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(CONFIG)
    out = tmp_path / "out"
    shards = out / ".wellforge-rayleigh_benard" / "shards"
    proc = subprocess.Popen(mpirun(2, "generate", str(cfg), "--out", str(out), "--no-progress"),
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        done = [f for f in os.listdir(shards) if f.endswith(".hdf5")] if shards.exists() else []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    # Open MPI may put the ranks in their own process groups: kill every process of the job
    # (like a scheduler killing the whole allocation), then wait until none is left.
    subprocess.run(["pkill", "-KILL", "-f", str(cfg)])
    proc.wait()
    while subprocess.run(["pgrep", "-f", str(cfg)], capture_output=True).returncode == 0:
        time.sleep(0.05)
    before = {f: os.stat(shards / f).st_mtime_ns for f in os.listdir(shards)
              if f.endswith(".hdf5")}
    assert 2 <= len(before) < 6, "the kill should land mid-sweep"
    assert not (out / "rayleigh_benard" / "stats.yaml").exists()
    p = generate(tmp_path, out)
    assert f"{len(before)} from before" in p.stdout
    after = {f: os.stat(shards / f).st_mtime_ns for f in before}
    assert after == before  # finished runs were not recomputed
    a, b = read_all(str(reference)), read_all(str(out / "rayleigh_benard"))
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    for f in data_files(str(out / "rayleigh_benard")):
        assert_spec_rules(f)


def test_unequal_costs_keep_every_group_busy(tmp_path):
    """Runs differing several-fold in cost (Ra = 1e3 stays at rest with the largest step,
    Ra = 1e8 convects with small CFL steps): no group sits idle while work remains."""
    config = CONFIG.replace("Rayleigh: [1.0e+5, 1.0e+6]", "Rayleigh: [1.0e+3, 1.0e+8]").replace(
        "n_frames: 11", "n_frames: 31").replace("noise: [0.01]", "noise: [0.1]")
    generate(tmp_path, tmp_path / "out", config=config)
    events = []
    evdir = tmp_path / "out" / ".wellforge-rayleigh_benard" / "events"
    for f in os.listdir(evdir):
        events += [json.loads(line) for line in open(evdir / f)]
    starts = [e for e in events if e["event"] == "start"]
    finishes = [e for e in events if e["event"] == "finish"]
    assert len(starts) == len(finishes) == 6
    groups = {e["group"] for e in starts}
    assert groups == {0, 1}
    steps = [e["steps"] for e in finishes]  # deterministic, unlike wall times under load
    assert max(steps) > 2 * min(steps)  # the costs really are unequal
    last_finish = {g: max(e["time"] for e in finishes if e["group"] == g) for g in groups}
    first_idle = min(last_finish.values())
    assert max(e["time"] for e in starts) <= first_idle  # nothing started after a group went idle
    for g in groups:  # back-to-back: a group claims its next run right after finishing one
        mine = sorted([e for e in events if e["group"] == g], key=lambda e: e["time"])
        for prev, nxt in zip(mine, mine[1:]):
            if prev["event"] == "finish" and nxt["event"] == "start":
                assert nxt["time"] - prev["time"] < 5.0  # claim + solver build, under load


def test_ranks_per_run_must_divide(tmp_path):
    p = subprocess.run(mpirun(2, "generate", "rayleigh_benard", "--ranks-per-run", "3",
                              "--out", str(tmp_path / "o")),
                       env=ENV, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "--ranks-per-run 3 does not divide the 2 MPI ranks" in p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()


def test_different_config_in_same_output_is_refused(reference, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(reference.parent, out)
    cfg = tmp_path / "other.yaml"
    cfg.write_text(CONFIG.replace("seed: 7", "seed: 8"))
    before = {p: os.stat(p).st_mtime_ns for p in data_files(str(out / "rayleigh_benard"))}
    p = subprocess.run([WF, "generate", str(cfg), "--out", str(out)], env=ENV,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "holds the runs of a different config" in p.stderr
    assert {p: os.stat(p).st_mtime_ns for p in data_files(str(out / "rayleigh_benard"))} == before


def test_the_configs_ranks_per_run_is_used_without_the_flag(tmp_path):
    """``ranks_per_run`` in the config sets the layout when no flag is given (the launch
    scripts pass none unless RANKS_PER_RUN is set)."""
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(CONFIG.replace("seed: 7", "seed: 7\nranks_per_run: 2").replace(
        "n_frames: 11", "n_frames: 3"))
    p = subprocess.run(mpirun(2, "generate", str(cfg), "--out", str(tmp_path / "out"),
                              "--no-progress"), env=ENV, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "2 per run (the config's ranks_per_run)" in p.stderr
    for f in data_files(str(tmp_path / "out" / "rayleigh_benard")):
        with h5py.File(f) as h:
            assert json.loads(h["provenance"].attrs["mpi"])["ranks"] == 2
