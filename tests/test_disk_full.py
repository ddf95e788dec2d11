"""A full disk: a clear one-line error, a distinct exit code, no finished data lost.

Uses a small tmpfs (needs root and mount, as on this project's machines and CI)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from wellforge.errors import DiskFull
from wellforge.schema.writer import WellWriter

WF = os.path.join(os.path.dirname(sys.executable), "wellforge")


@pytest.fixture
def tinyfs(tmp_path):
    mnt = tmp_path / "fs"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def resize(mnt, size):
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mnt)], check=True)


def run(*args):
    return subprocess.run([WF, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_writer_raises_disk_full_and_leaves_nothing(tinyfs):
    w = WellWriter(str(tinyfs / "big.hdf5"), "t", 1, np.arange(50.0))
    w.add_dimension("x", np.arange(128.0))
    w.add_dimension("y", np.arange(128.0))
    w.add_field("c")
    with pytest.raises(DiskFull, match="MiB free, below the 1 MiB reserve for writing big.hdf5"):
        with w:
            for k in range(50):  # 64 KiB a frame: 3.2 MiB in all
                w.write_frame(0, k, {"c": np.ones((128, 128))})
    assert os.listdir(tinyfs) == []


def test_generate_refuses_when_the_sweep_cannot_fit(tinyfs):
    p = run("generate", "shear_flow", "--out", str(tinyfs / "o"), "--no-progress")
    assert p.returncode == 4
    err = [line for line in p.stderr.splitlines() if "error" in line]
    assert len(err) == 1 and "remaining runs need about" in err[0] and "MiB are free" in err[0]
    assert "Traceback" not in p.stderr


def test_disk_full_while_packing_keeps_the_runs_then_resumes(tinyfs):
    # room for the preflight estimate and the shards, not for shards + packed files
    resize(tinyfs, "4M")
    out = tinyfs / "o"
    # the sizes above are those of the tiny preset at 32 x 64 without a spin-up
    common = ["generate", "shear_flow", "--out", str(out), "--no-progress", "--set",
              "resolution=32,64", "--set", "stored_resolution=32,64", "--set", "spinup=0"]
    p = run(*common)
    assert p.returncode == 4, p.stdout + p.stderr[-2000:]
    assert "MiB reserve for writing" in p.stderr and "Traceback" not in p.stderr
    shards = out / ".wellforge-shear_flow" / "shards"
    done = sorted(f for f in os.listdir(shards) if f.endswith(".hdf5"))
    assert len(done) == 6  # every finished run kept
    stamps = {f: os.stat(shards / f).st_mtime_ns for f in done}
    for dirpath, _, files in os.walk(out / "shear_flow"):
        assert not [f for f in files if f.endswith(".partial")], dirpath
    resize(tinyfs, "20M")
    p = run(*common)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "6 done (6 from before)" in p.stdout
    assert {f: os.stat(shards / f).st_mtime_ns for f in done} == stamps
