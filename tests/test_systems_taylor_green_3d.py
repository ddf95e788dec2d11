"""taylor_green_3d: the exact initial energy and dissipation, the short-time expansion of
the energy (Brachet et al. 1983), the energy budget dE/dt = -ε, and the stored
diagnostics (time-varying scalars) in the Well's layout."""

import h5py
import numpy as np
import pytest
from scipy.integrate import cumulative_simpson
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory
from wellforge.schema.dataset import SPLITS, split_files

NAME = "taylor_green_3d"


def simulate(tmp_path, Re, ic, res=(16, 16, 16), dt_out=0.25, n_frames=9, seed=1):
    spec = RunSpec("test", 0, NAME, NAME, {"Reynolds": Re}, ic, seed, tuple(res), tuple(res),
                   0.0, dt_out, n_frames)
    path = str(tmp_path / f"tg_{len(list(tmp_path.iterdir()))}.hdf5")
    assert run_trajectory(get_system(NAME), spec, path, progress=False).status == "done"
    with h5py.File(path) as f:
        t = f["dimensions/time"][()].astype(np.float64)
        E = f["scalars/kinetic_energy"][0].astype(np.float64)
        eps = f["scalars/dissipation_rate"][0].astype(np.float64)
        u = f["t1_fields/velocity"][0].astype(np.float64)
    return t, E, eps, u


def short_time_energy(t, nu):
    """E(t) = e^{-6νt}/8 - (5ν/192) t³ + O(ν² t⁴, ν t⁵).

    At t = 0 the flow is one Fourier shell, |k|² = 3, so dE/dt = -ν<|ω|²>, and
    d<|ω|²>/dt = 2<ω·S·ω> - 2ν<|∇ω|²> with <ω·S·ω> = 0 at t = 0: up to t² the energy decays
    as the single shell does, e^{-2ν|k|²t}/8. The vortex stretching grows as
    <ω·S·ω> = (5/64) t² + ... (the inviscid enstrophy series <|ω|²>/2 = (3/8)(1 + 5t²/48 + ...),
    Brachet et al. 1983), which adds -2ν·(5/64)·t³/6 = -(5ν/192) t³ to E."""
    return np.exp(-6 * nu * t) / 8 - 5 * nu / 192 * t**3


def test_initial_energy_and_dissipation_are_exact(tmp_path):
    """E(0) = 1/8 and ε(0) = 2ν|k|²E(0) = 3ν/4 (the stored float32 values)."""
    Re = 100.0
    t, E, eps, u = simulate(tmp_path, Re, {"amplitude": 0.0}, n_frames=2)
    assert E[0] == pytest.approx(1 / 8, rel=1e-6)
    assert eps[0] == pytest.approx(3 / (4 * Re), rel=1e-6)
    x = 2 * np.pi * np.arange(16) / 16  # the stored field is the vortex itself
    X, Y, Z = np.meshgrid(x, x, x, indexing="ij")
    assert np.abs(u[0, ..., 0] - np.sin(X) * np.cos(Y) * np.cos(Z)).max() < 1e-6
    assert np.abs(u[0, ..., 2]).max() == 0


def test_early_energy_follows_the_short_time_expansion(tmp_path):
    """To t = 1 at Re = 100 the energy departs from the viscous decay of the initial shell
    by the cubic vortex-stretching term, and the expansion with it holds to a tenth of
    that term (what is left is the O(ν² t⁴) term: it halves with t)."""
    Re = 100.0
    nu = 1 / Re
    t, E, eps, _ = simulate(tmp_path, Re, {"amplitude": 0.0})
    early = (t > 0) & (t <= 1.0)
    cubic = 5 * nu / 192 * t[early] ** 3
    viscous = np.exp(-6 * nu * t[early]) / 8
    assert np.all(np.abs(E[early] - viscous) > 0.8 * cubic)  # the nonlinearity shows ...
    assert np.all(cubic > 1e-6)  # ... far above float32 resolution of E ~ 1/8 (1e-8)
    residual = np.abs(E[early] - short_time_energy(t[early], nu))
    assert np.all(residual < 0.1 * cubic), residual / cubic


def test_energy_budget_dissipation_is_minus_dE_dt(tmp_path):
    """E(t) - E(0) = -∫ ε dt (a periodic flow without forcing): the stored dissipation
    rate and kinetic energy agree to the quadrature error of the stored frames."""
    t, E, eps, _ = simulate(tmp_path, 200.0, {"amplitude": 0.01}, dt_out=0.125, n_frames=25)
    lost = cumulative_simpson(eps, x=t, initial=0.0)
    assert np.abs(E[0] - E - lost).max() < 1e-3 * (E[0] - E[-1])
    assert E[-1] < E[0] and np.all(eps > 0)


def test_the_perturbation_is_divergence_free_and_seeded(tmp_path):
    """Realizations differ by the random perturbation only (its RMS as asked), and it
    leaves the flow divergence-free (the stored velocity at t = 0)."""
    _, E1, _, u1 = simulate(tmp_path, 100.0, {"amplitude": 0.05}, n_frames=2, seed=1)
    _, E2, _, u2 = simulate(tmp_path, 100.0, {"amplitude": 0.05}, n_frames=2, seed=2)
    _, E0, _, u0 = simulate(tmp_path, 100.0, {"amplitude": 0.0}, n_frames=2)
    d1 = u1[0] - u0[0]
    assert np.sqrt((d1**2).sum(-1).mean()) == pytest.approx(0.05, rel=1e-3)
    assert np.abs(u1[0] - u2[0]).max() > 0.01
    k = np.fft.fftfreq(16, 1 / 16)
    div = sum(1j * k.reshape([-1 if a == i else 1 for a in range(3)])
              * np.fft.fftn(d1[..., i]) for i in range(3))
    assert np.abs(div).max() / np.abs(np.fft.fftn(d1[..., 0])).max() < 1e-5


def test_tiny_dataset_stores_diagnostics_as_time_varying_scalars(tiny):
    """/scalars/kinetic_energy and /dissipation_rate: (n_traj, T), sample- and
    time-varying, equal to the volume means of the stored velocity (E) in every file."""
    for s in SPLITS:
        for p in split_files(tiny(NAME), s):
            with h5py.File(p) as f:
                n, T = int(f.attrs["n_trajectories"]), f["dimensions/time"].shape[0]
                assert f.attrs["n_spatial_dims"] == 3
                for name in ("kinetic_energy", "dissipation_rate"):
                    d = f["scalars"][name]
                    assert d.shape == (n, T)
                    assert bool(d.attrs["time_varying"]) and bool(d.attrs["sample_varying"])
                u = f["t1_fields/velocity"][()].astype(np.float64)
                E = f["scalars/kinetic_energy"][()]
                assert np.abs((u**2).sum(-1).mean(axis=(2, 3, 4)) / 2 - E).max() < 1e-6


def test_the_card_with_diagnostics_round_trips_and_rejects_fields_of_higher_order():
    from wellforge.schema.cardfile import card_from_mapping, card_json, card_to_mapping
    from wellforge.errors import ConfigError
    import json

    card = get_system(NAME).card
    assert card_from_mapping(json.loads(card_json(card))) == card
    assert "diagnostics" not in card_to_mapping(get_system("kolmogorov_flow").card)
    bad = json.loads(card_json(card))
    bad["diagnostics"][0]["order"] = 1
    with pytest.raises(ConfigError, match=r"diagnostics\[0\]\.order"):
        card_from_mapping(bad)
