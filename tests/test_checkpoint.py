"""Checkpoint and restart of a long run: kill -9 mid-run, rerun, continue from the checkpoint."""

import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from wellforge.schema.dataset import SPLITS, split_files

from .spec_rules import assert_spec_rules

pytestmark = pytest.mark.slow

WF = os.path.join(os.path.dirname(sys.executable), "wellforge")
CONFIG = """
system: rayleigh_benard
resolution: [32, 16]
time: {dt_out: 0.5, n_frames: 41}
parameters: {product: {Rayleigh: [1.0e+6], Prandtl: [1.0]}}
initial_conditions: {product: {noise: [0.05], realization: [0, 1, 2]}}
seed: 11
"""


def generate(cfg, out, *extra, wait=True):
    cmd = [WF, "generate", str(cfg), "--out", str(out), "--no-progress", "--checkpoint-every", "4",
           *extra]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return p


def read(root):
    out = {}
    for s in SPLITS:
        for p in split_files(root, s):
            with h5py.File(p) as f:
                out[s] = (f["t0_fields/buoyancy"][()], f["t1_fields/velocity"][()],
                          json.loads(f["provenance"].attrs.get("resumed_from_checkpoint", "[]")))
    return out


def test_kill_mid_run_and_resume_from_checkpoint(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    generate(cfg, tmp_path / "ref")
    out = tmp_path / "out"
    ckdir = out / ".wellforge-rayleigh_benard" / "checkpoints"
    proc = generate(cfg, out, wait=False)
    deadline = time.time() + 300
    while time.time() < deadline:
        states = [f for f in os.listdir(ckdir) if f.endswith(".npz")] if ckdir.exists() else []
        if states:
            with np.load(ckdir / states[0]) as z:
                if int(z["k"]) >= 8:
                    break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert states, "no checkpoint was written before the kill"
    # the checkpoint left by the kill (under load the run seen above may have finished and
    # the next one checkpointed in the meantime): the rerun must continue from it
    left = [f for f in os.listdir(ckdir) if f.endswith(".npz")]
    assert len(left) == 1
    with np.load(ckdir / left[0]) as z:
        k_left = int(z["k"])
    generate(cfg, out)
    assert not any(f.endswith(".npz") for f in os.listdir(ckdir))  # removed once finished
    ref, got = read(str(tmp_path / "ref" / "rayleigh_benard")), read(str(out / "rayleigh_benard"))
    resumed = [r for s in got.values() for r in s[2]]
    assert resumed and resumed[0]["frame"] == k_left >= 4
    assert resumed[0]["time"] == 0.5 * resumed[0]["frame"]
    for s in SPLITS:
        for a, b in zip(ref[s][:2], got[s][:2]):
            scale = np.abs(a).max()
            assert np.abs(a - b).max() <= 1e-6 * scale
    for s in SPLITS:
        for p in split_files(str(out / "rayleigh_benard"), s):
            assert_spec_rules(p)
