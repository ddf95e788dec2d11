"""kolmogorov_flow: the laminar fixed point, linear instability against Meshalkin–Sinai
theory, the energy budget with forcing, and the tiny dataset."""

import h5py
import numpy as np
import pytest
from scipy.integrate import cumulative_simpson
from scipy.optimize import brentq
from wellforge.generators.config import build_plan, merge_config
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory
from wellforge.schema.dataset import SPLITS, split_files

from wellforge.errors import ConfigError


NAME = "kolmogorov_flow"


def simulate(tmp_path, Re, ic, res, dt_out, n_frames, n=4, seed=3):
    spec = RunSpec("test", 0, NAME, NAME, {"Reynolds": Re, "n_forcing": n}, ic, seed,
                   tuple(res), tuple(res), 0.0, dt_out, n_frames)
    path = str(tmp_path / f"kf_{len(list(tmp_path.iterdir()))}.hdf5")
    result = run_trajectory(get_system(NAME), spec, path, progress=False)
    assert result.status == "done"
    with h5py.File(path) as f:
        u = f["t1_fields/velocity"][0].astype(np.float64)
        w = f["t0_fields/vorticity"][0].astype(np.float64)
        t = f["dimensions/time"][()].astype(np.float64)
    return t, u, w


def linear_growth_rate(Re, n, alpha, M=40):
    """Largest growth rate of perturbations ∝ exp(iαx) of u = (Re/n²) sin(n y) e_x with
    ν = 1/Re (linearised vorticity equation, Fourier–Galerkin in y; independent of Dedalus).
    With ψ' = Σ ψ_m exp(i(αx + m y)), ω_m = K_m ψ_m, K_m = α² + m²:
    dω_m/dt = -(Uα/2)[(K_{m-n} - n²) ψ_{m-n} - (K_{m+n} - n²) ψ_{m+n}] - ν K_m ω_m."""
    U, nu = Re / n**2, 1 / Re
    rates = []
    for m0 in range(n):
        m = m0 + n * np.arange(-M, M + 1)
        K = alpha**2 + m**2
        Lop = np.diag(-nu * K * K)
        Lop[np.arange(1, m.size), np.arange(m.size - 1)] = -(U * alpha / 2) * (K[:-1] - n**2)
        Lop[np.arange(m.size - 1), np.arange(1, m.size)] = (U * alpha / 2) * (K[1:] - n**2)
        rates.append(np.linalg.eigvals(Lop / K[:, None]).real.max())
    return max(rates)


def test_linear_theory_reproduces_meshalkin_sinai():
    """Long waves on u = sin y destabilise at Re_eff = U/(ν n) = √2; in the 2π box with
    n = 4 the first unstable mode (α = 1) has Re_c ≈ 9.97."""
    re = brentq(lambda R: linear_growth_rate(R, 1, 0.02), 0.5, 5)  # Re_eff = Re² for n = 1
    assert re**2 == pytest.approx(np.sqrt(2), rel=2e-3)
    re_c = brentq(lambda R: linear_growth_rate(R, 4, 1), 2, 50)
    assert re_c == pytest.approx(9.967, abs=0.01)


@pytest.mark.slow
def test_laminar_state_is_a_stable_fixed_point_at_low_reynolds(tmp_path):
    Re = 4.0
    _, u, _ = simulate(tmp_path, Re, {"amplitude": 0.1, "k_ic": 4}, (16, 16), 10.0, 8)
    y = 2 * np.pi * np.arange(16) / 16
    laminar = Re / 16 * np.sin(4 * y)
    err = np.abs(u[..., 0] - laminar).max(axis=(1, 2)) + np.abs(u[..., 1]).max(axis=(1, 2))
    assert err[0] > 0.05  # started away from it
    assert err[-1] < 1e-6  # converged to u = sin(n y)/(ν n²) e_x


@pytest.mark.slow
@pytest.mark.parametrize("Re", [8.0, 12.0])
def test_growth_rate_matches_linear_theory(tmp_path, Re):
    """Below Re_c the k_x = 1 perturbation decays, above it grows, at the theory's rate."""
    t, u, _ = simulate(tmp_path, Re, {"amplitude": 1e-5, "k_ic": 4}, (16, 16), 5.0, 13)
    amp = np.sqrt((np.abs(np.fft.rfft(u[..., 1], axis=1)[:, 1, :]) ** 2).sum(-1))
    late = t >= 25
    rate = np.polyfit(t[late], np.log(amp[late]), 1)[0]
    expected = linear_growth_rate(Re, 4, 1)
    assert (expected > 0) == (Re > 9.967)
    assert rate == pytest.approx(expected, rel=0.01)


@pytest.mark.slow
def test_energy_budget_closes_with_forcing_and_dissipation(tmp_path):
    """E(t) - E(t0) = ∫ <sin(4y) u_x> - ν <ω²> dt, to the accuracy of the quadrature over
    stored frames; the flow stays divergence-free with zero mean momentum."""
    Re, N = 20.0, 32
    t, u, w = simulate(tmp_path, Re, {"amplitude": 0.5, "k_ic": 8}, (N, N), 0.1, 101)
    y = 2 * np.pi * np.arange(N) / N
    E = 0.5 * (u**2).sum(-1).mean(axis=(1, 2))
    power = (np.sin(4 * y) * u[..., 0]).mean(axis=(1, 2)) - (w**2).mean(axis=(1, 2)) / Re
    late = t >= 2  # after the fast decay of the k <= 8 perturbation
    budget = cumulative_simpson(power[late], x=t[late], initial=0)
    change = E[late] - E[late][0]
    assert np.abs(change - budget).max() < 2e-3 * np.abs(change).max()
    k = np.fft.fftfreq(N, 1 / N)
    div = np.fft.ifft2(1j * k[:, None] * np.fft.fft2(u[..., 0], axes=(1, 2))
                       + 1j * k[None, :] * np.fft.fft2(u[..., 1], axes=(1, 2)),
                       axes=(1, 2)).real
    assert np.abs(div).max() < 1e-5
    assert np.abs(u.mean(axis=(1, 2))).max() < 1e-7


def test_non_integer_forcing_wavenumber_is_a_config_error():
    system = get_system(NAME)
    cfg = merge_config(system, "tiny", None, ["n_forcing=2.5"])
    with pytest.raises(ConfigError, match=r"parameters\.n_forcing: 2\.5 is not an integer"):
        build_plan(system, cfg)


@pytest.fixture(scope="module")
def dataset(tiny):
    return tiny(NAME)


def test_tiny_dataset_layout(dataset):
    """(The layout every system's tiny dataset has, its validation and loading:
    tests/test_systems.py.)"""
    for s in SPLITS:
        for p in split_files(dataset, s):
            with h5py.File(p) as f:
                assert list(f["t0_fields"].attrs["field_names"]) == ["pressure", "vorticity"]
                assert list(f["t1_fields"].attrs["field_names"]) == ["velocity"]
                assert sorted(f["scalars"]) == ["Reynolds", "n_forcing"]
                np.testing.assert_allclose(f["dimensions/x"][()],
                                           2 * np.pi * np.arange(32) / 32, rtol=1e-6)

