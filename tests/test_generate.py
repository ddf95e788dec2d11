"""End-to-end generation with both Cartesian Well systems: the Well's grids and names,
--well-compat, plan, the job-array flow. (What every system's tiny dataset must be:
tests/test_systems.py.)"""

import json
import os

import h5py
import numpy as np
import pytest

from wellforge.cli import main
from wellforge.schema.dataset import SPLITS, split_files



@pytest.fixture(scope="module")
def out(tiny):
    return tiny.out


@pytest.fixture(scope="module", params=["shear_flow", "rayleigh_benard"])
def dataset(request, tiny):
    return tiny(request.param)


def files(root):
    return [p for s in SPLITS for p in split_files(root, s)]


def test_stored_grid_matches_the_wells(dataset):
    with h5py.File(files(dataset)[0]) as f:
        x, y = f["dimensions/x"][()], f["dimensions/y"][()]
        if "rayleigh" in dataset:
            np.testing.assert_allclose(x, 4 * np.arange(x.size) / x.size, atol=1e-6)
            j = np.arange(y.size)
            np.testing.assert_allclose(y, (1 - np.cos(np.pi * (j + 0.5) / y.size)) / 2, atol=1e-6)
            assert set(f["boundary_conditions"]) == {"x_periodic", "y_wall_dirichlet"}
        else:
            np.testing.assert_allclose(x, np.arange(x.size) / x.size, atol=1e-6)
            np.testing.assert_allclose(y, -1 + 2 * np.arange(y.size) / y.size, atol=1e-6)
            assert set(f["boundary_conditions"]) == {"x_periodic", "y_periodic"}


def test_parameters_named_as_in_the_well(dataset):
    with h5py.File(files(dataset)[0]) as f:
        params = [p.decode() if isinstance(p, bytes) else p
                  for p in f.attrs["simulation_parameters"]]
    assert params == (["Rayleigh", "Prandtl"] if "rayleigh" in dataset else ["Reynolds", "Schmidt"])


def test_well_compat_names_reynolds_rayleigh(tmp_path):
    assert main(["generate", "shear_flow", "--preset", "tiny", "--well-compat", "--set",
                 "n_frames=3", "--set", "resolution=16,32", "--set", "stored_resolution=16,32",
                 "--set", "spinup=0", "--out", str(tmp_path), "--no-progress"]) == 0
    f0 = files(str(tmp_path / "shear_flow"))[0]
    assert "_Rayleigh_" in os.path.basename(f0)
    with h5py.File(f0) as f:
        assert "Rayleigh" in f["scalars"] and "Reynolds" not in f["scalars"]


def test_plan_counts_and_disk_size(capsys):
    assert main(["plan", "rayleigh_benard", "--preset", "well", "--calibrate-steps", "0",
                 "--ranks", "768", "--json"]) == 0
    est = json.loads(capsys.readouterr().out)
    assert est["runs"] == 1750 and est["files"] == 35 and est["ics_per_file"] == 50
    assert est["splits"] == {"train": 1400, "valid": 175, "test": 175}  # 40/5/5 per file
    # (1750 trajectories × 200 frames × 512 × 128 points × (2 scalars + 2 components)) float32
    assert est["disk_bytes"] == 1750 * 200 * 512 * 128 * 4 * 4


def test_plan_calibrates(capsys):
    assert main(["plan", "shear_flow", "--calibrate-steps", "5", "--json"]) == 0
    cal = json.loads(capsys.readouterr().out)["calibration"]
    assert cal["steps"] == 5 and cal["s_per_step"] > 0 and cal["rss_mib"] > 10


def test_job_array_slices_then_pack(tmp_path, capsys):
    common = ["generate", "shear_flow", "--set", "n_frames=3", "--set", "resolution=16,32",
              "--set", "stored_resolution=16,32", "--set", "spinup=0", "--out", str(tmp_path),
              "--no-progress"]
    assert main([*common, "--slice", "0/2"]) == 0
    assert "3 runs pending" in capsys.readouterr().out
    assert not (tmp_path / "shear_flow" / "stats.yaml").exists()
    assert main([*common, "--slice", "1/2"]) == 0
    assert main(["pack", str(tmp_path / "shear_flow")]) == 0
    assert "6 done" in capsys.readouterr().out
    assert (tmp_path / "shear_flow" / "stats.yaml").exists()
    assert len(files(str(tmp_path / "shear_flow"))) == 6
