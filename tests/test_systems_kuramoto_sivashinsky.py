"""kuramoto_sivashinsky (1-D): the linear dispersion relation, mean conservation, chaos at
L = 22, and the tiny (1-D) dataset."""

import h5py
import numpy as np
import pytest
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory
from wellforge.schema.dataset import SPLITS, split_files



NAME = "kuramoto_sivashinsky"


def simulate(tmp_path, L, ic, n, dt_out, n_frames, seed=3):
    spec = RunSpec("test", 0, NAME, NAME, {"L": L}, ic, seed, (n,), (n,), 0.0, dt_out,
                   n_frames)
    path = str(tmp_path / f"ks_{len(list(tmp_path.iterdir()))}.hdf5")
    assert run_trajectory(get_system(NAME), spec, path, progress=False).status == "done"
    with h5py.File(path) as f:
        return f["dimensions/time"][()].astype(np.float64), f["t0_fields/u"][0].astype(
            np.float64)


def test_small_amplitude_modes_follow_the_dispersion_relation(tmp_path):
    """Linearised about u = 0 each Fourier mode grows at σ(q) = q² − q⁴, q = 2πk/L:
    k = 1..3 grow and k >= 4 decay for L = 22."""
    L = 22.0
    t, u = simulate(tmp_path, L, {"amplitude": 1e-6, "k_ic": 6}, 32, 1.0, 6)
    c = np.abs(np.fft.rfft(u, axis=1))
    for k in range(1, 6):
        q = 2 * np.pi * k / L
        rate = np.polyfit(t, np.log(c[:, k]), 1)[0]
        assert rate == pytest.approx(q**2 - q**4, abs=1e-3), k


@pytest.mark.slow
def test_l22_is_chaotic_with_order_one_amplitude_and_conserved_mean(tmp_path):
    """Two runs 1e-5 apart: the attractor has |u|_rms of order one, the mean stays zero
    to float32 level, and the difference grows (sensitive dependence on the IC)."""
    runs = [simulate(tmp_path, 22.0, {"amplitude": a, "k_ic": 4}, 32, 2.0, 76)
            for a in (1.0, 1.0 + 1e-5)]
    t, u = runs[0]
    rms = np.sqrt((u**2).mean(axis=1))
    assert np.abs(u.mean(axis=1)).max() < 1e-6 * rms.max()
    late = t >= 50
    assert 0.7 < rms[late].mean() < 2.0 and rms[late].std() > 0.05  # not a steady state
    d = np.sqrt(((runs[1][1] - u) ** 2).mean(axis=1))
    assert d[t >= 100].max() > 30 * d[0]


@pytest.fixture(scope="module")
def dataset(tiny):
    return tiny(NAME)


def test_tiny_1d_dataset_layout(dataset):
    """(The layout every system's tiny dataset has, its validation and loading:
    tests/test_systems.py.)"""
    for s in SPLITS:
        for p in split_files(dataset, s):
            with h5py.File(p) as f:
                assert int(f.attrs["n_spatial_dims"]) == 1
                assert list(f["dimensions"].attrs["spatial_dims"]) == ["x"]
                L = float(f["scalars/L"][()])
                np.testing.assert_allclose(f["dimensions/x"][()], L * np.arange(64) / 64,
                                           rtol=1e-6)
                u = f["t0_fields/u"][()].astype(np.float64)
                assert u.shape[-1] == 64
                # zero mean preserved to float32 level
                assert np.abs(u.mean(axis=-1)).max() < 1e-6 * np.abs(u).max()



def test_a_1d_run_cannot_be_split_over_ranks():
    from wellforge.generators.schedule import check_layout

    from wellforge.errors import ConfigError

    with pytest.raises(ConfigError, match="1-D system cannot be split"):
        check_layout(2, 2, (64,))
    check_layout(2, 1, (64,))
