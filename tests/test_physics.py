"""Physics of the generated systems against known results (not against earlier output)."""

import h5py
import numpy as np
import pytest

from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory

pytestmark = pytest.mark.slow


def simulate(tmp_path, system, params, ic, res, dt_out, n_frames, stored=None, seed=1):
    spec = RunSpec("test", 0, system, system, params, ic, seed, tuple(res),
                   tuple(stored or res), 0.0, dt_out, n_frames)
    path = str(tmp_path / f"{system}.hdf5")
    result = run_trajectory(get_system(system), spec, path, progress=False)
    return result, path


def kinetic_energy(path):
    with h5py.File(path) as f:
        u = f["t1_fields/velocity"][0].astype(np.float64)
        t = f["dimensions/time"][()]
    return t, (u**2).sum(-1).mean(axis=(1, 2))


def growth_rate(tmp_path, rayleigh):
    """Amplitude growth rate of RB convection with no-slip walls and Lx = 4 (whose first
    unstable mode is k = 2π/2 = π, Ra_c(π) ≈ 1708; the global minimum is 1707.76)."""
    result, path = simulate(tmp_path, "rayleigh_benard", {"Rayleigh": rayleigh, "Prandtl": 1.0},
                            {"dT": 1.0, "noise": 1e-3}, (32, 16), 4.0, 26)
    assert result.status == "done"
    t, ke = kinetic_energy(path)
    late = t >= 40  # after the initial transient the least stable mode dominates
    return np.polyfit(t[late], np.log(ke[late]), 1)[0] / 2


@pytest.mark.parametrize("rayleigh,grows", [(1500.0, False), (2500.0, True)])
def test_rayleigh_benard_onset(tmp_path, rayleigh, grows):
    rate = growth_rate(tmp_path, rayleigh)
    assert (rate > 0.02) if grows else (rate < -0.02)


def test_rayleigh_benard_critical_rayleigh_number(tmp_path):
    """Bracket the threshold tightly and interpolate the neutral point: within 1 % of 1708."""
    lo, hi = 1650.0, 1780.0
    r_lo, r_hi = growth_rate(tmp_path, lo), growth_rate(tmp_path, hi)
    assert r_lo < 0 < r_hi
    ra_c = lo + (hi - lo) * (-r_lo) / (r_hi - r_lo)
    assert abs(ra_c - 1708.0) / 1708.0 < 0.01


def test_taylor_green_decay_pins_viscosity(tmp_path):
    """Taylor–Green is an exact NS solution: shape kept, amplitude ∝ exp(-ν|k|²t), ν = 1/Re."""
    Re = 100.0
    result, path = simulate(tmp_path, "shear_flow", {"Reynolds": Re, "Schmidt": 1.0},
                            {"ic": "taylor_green", "amplitude": 1.0}, (32, 64), 0.2, 11)
    assert result.status == "done"
    with h5py.File(path) as f:
        u = f["t1_fields/velocity"][0].astype(np.float64)
        t = f["dimensions/time"][()].astype(np.float64)
    k2 = (2 * np.pi) ** 2 + np.pi**2
    amp = np.abs(u[..., 0]).max(axis=(1, 2)) / np.abs(u[0, ..., 0]).max()
    np.testing.assert_allclose(amp, np.exp(-k2 * t / Re), rtol=0.01)
    shape0 = u[0] / np.linalg.norm(u[0])
    for k in range(1, len(t)):
        assert np.sum(shape0 * u[k]) / np.linalg.norm(u[k]) > 1 - 1e-5


def test_shear_flow_conserves_tracer_mean(tmp_path):
    result, path = simulate(tmp_path, "shear_flow", {"Reynolds": 1e4, "Schmidt": 1.0},
                            {"n_shear": 2, "n_blobs": 2, "width": 1.0}, (32, 64), 0.25, 9)
    assert result.status == "done"
    with h5py.File(path) as f:
        s = f["t0_fields/tracer"][0].astype(np.float64)
    means = s.mean(axis=(1, 2))
    scale = max(abs(means[0]), np.sqrt((s[0] ** 2).mean()))
    assert np.max(np.abs(means - means[0])) / scale < 1e-6


def test_blow_up_is_reported_not_written(tmp_path):
    result, path = simulate(tmp_path, "rayleigh_benard", {"Rayleigh": 1e12, "Prandtl": 1.0},
                            {"dT": 1.0, "noise": 0.1}, (16, 8), 2.0, 20)
    assert result.status == "failed"
    assert "collapsed" in result.reason or "non-finite" in result.reason
    assert result.fail_time is not None and 0 < result.fail_time < 40
    assert not list(tmp_path.iterdir())  # no file, not even a partial one
