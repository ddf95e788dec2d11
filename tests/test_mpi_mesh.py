"""3-D runs on a 2-D process mesh: the mesh a group gets (``schedule.process_mesh``), the
layouts refused, and the same 3-D sweep on 1 rank and on 4 ranks (mesh 2 × 2)."""

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
from wellforge.cli import main
from wellforge.generators.schedule import process_mesh
from wellforge.schema.dataset import SPLITS, split_files

from wellforge.errors import ConfigError

WF = os.path.join(os.path.dirname(sys.executable), "wellforge")
ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
       "OMP_NUM_THREADS": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1"}
CONFIG = """
system: taylor_green_3d
resolution: [16, 16, 16]
time: {dt_out: 0.5, n_frames: 5}
parameters: {product: {Reynolds: [400.0]}}
initial_conditions: {product: {amplitude: [0.01], realization: [0, 1, 2]}}
expected_runs: 3
seed: 7
"""


@pytest.mark.parametrize("ranks, resolution, mesh", [
    (1, (16, 16, 16), None),
    (4, (16, 16, 16), (2, 2)),  # the most balanced mesh
    (16, (64, 64, 64), (4, 4)),
    (2, (16, 16, 16), (2, 1)),  # the later axes local: the solver couples them
    (8, (32, 32, 16), (4, 2)),
    (8, (4, 16, 16), (2, 4)),
    (6, (24, 24, 24), (3, 2)),
    (4, (16, 8, 16), (2, 2)),
    (4, (32, 16), (4,)),  # 2-D: a 1-D mesh, as before
])
def test_process_mesh_divides_the_grid(ranks, resolution, mesh):
    got = process_mesh(ranks, resolution)
    assert got == mesh
    if got is not None:
        assert int(np.prod(got)) == ranks and len(got) == len(resolution) - 1
        for i, p in enumerate(got):  # coefficient (N/2 pairs) and grid layouts split evenly
            assert (resolution[i] // 2) % p == 0 and resolution[i + 1] % p == 0


@pytest.mark.parametrize("ranks, resolution", [(3, (16, 16, 16)), (8, (4, 4, 4)),
                                               (3, (32, 16))])
def test_a_grid_no_mesh_divides_is_refused(ranks, resolution):
    with pytest.raises(ConfigError, match="does not split evenly over any process mesh"):
        process_mesh(ranks, resolution)


def test_plan_refuses_the_layout_in_one_line(tmp_path, capsys):
    cfg = tmp_path / "tg.yaml"
    cfg.write_text(CONFIG)
    assert main(["plan", str(cfg), "--ranks", "3", "--ranks-per-run", "3",
                 "--calibrate-steps", "0"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ranks-per-run 3" in err[0] and "[16, 16, 16]" in err[0]


def _generate(tmp_path, name, ranks):
    cfg = tmp_path / "tg.yaml"
    cfg.write_text(CONFIG)
    out = tmp_path / name
    p = subprocess.run(["mpirun", "-n", str(ranks), WF, "generate", str(cfg), "--out", str(out),
                        "--no-progress", "--ranks-per-run", str(ranks)],
                       env=ENV, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    root = out / "taylor_green_3d"
    data = {}
    for s in SPLITS:
        for path in split_files(str(root), s):
            with h5py.File(path) as f:
                key = os.path.relpath(path, root)
                for k in ("t0_fields/pressure", "t1_fields/velocity", "scalars/kinetic_energy"):
                    data[(key, k)] = f[k][()]
                data[(key, "mpi")] = json.loads(f["provenance"].attrs["mpi"])
    return data


@pytest.mark.mpi
@pytest.mark.slow
def test_one_rank_and_a_2x2_mesh_agree(tmp_path):
    """The same 3-D sweep on 1 rank and on one group of 4 ranks (Dedalus mesh 2 × 2, the
    mesh recorded in the provenance): the same initial conditions bit for bit, the same
    trajectories within 1e-5 relative."""
    a, b = _generate(tmp_path, "r1", 1), _generate(tmp_path, "r4", 4)
    assert a.keys() == b.keys() and len(a) == 3 * 4
    evolved = False
    for key in a:
        if key[1] == "mpi":
            assert a[key] == {"ranks": 1, "mesh": None}
            assert b[key] == {"ranks": 4, "mesh": [2, 2]}
            continue
        np.testing.assert_array_equal(a[key][:, 0], b[key][:, 0])
        scale = np.abs(a[key]).max()
        assert np.abs(a[key] - b[key]).max() <= 1e-5 * scale, key
        evolved |= np.abs(a[key][:, -1] - a[key][:, 0]).max() > 1e-2 * scale
    assert evolved


def test_plan_reports_the_leaders_frame_memory(tmp_path, capsys):
    """A 3-D frame gathered on the group leader (one rank, or a resampled frame): the
    largest field twice in float64 (the ranks' pieces and the global array) and every
    field's float32 frame; on a mesh without resampling one piece at a time."""
    cfg = tmp_path / "tg.yaml"
    cfg.write_text(CONFIG)
    assert main(["plan", str(cfg), "--calibrate-steps", "0", "--json"]) == 0
    est = json.loads(capsys.readouterr().out)
    n = 16**3
    assert est["leader_frame_bytes"] == 2 * 3 * n * 8 + (1 + 3) * n * 4
    assert main(["plan", str(cfg), "--calibrate-steps", "0"]) == 0
    assert "memory: the group leader gathers each frame: 0.25 MiB" in capsys.readouterr().out
    # on a 2 x 2 mesh, stored as simulated: one rank's piece at a time (float64 + float32)
    assert main(["plan", str(cfg), "--calibrate-steps", "0", "--json", "--ranks", "4",
                 "--ranks-per-run", "4"]) == 0
    assert json.loads(capsys.readouterr().out)["leader_frame_bytes"] == 3 * n // 4 * 12
