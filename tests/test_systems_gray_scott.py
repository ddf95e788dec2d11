"""gray_scott_reaction_diffusion: known solutions, the Well's patterns, stationary detection,
and the tiny dataset (spec, Well loader, validator)."""

import math

import h5py
import numpy as np
import pytest
from wellforge.generators.config import build_plan, merge_config
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import replacement_seed, run_trajectory
from wellforge.generators.system import BuildContext, StationaryCheck
from wellforge.generators.systems import gray_scott_reaction_diffusion as gs
from wellforge.generators.systems.ic import trig_interpolate
from wellforge.schema.dataset import SPLITS, split_files
from wellforge.schema.reader import read_provenance

from wellforge.errors import ConfigError


NAME = "gray_scott_reaction_diffusion"


def simulate(tmp_path, params, ic, res, dt_out, n_frames, seed=1, options=None, system=None):
    spec = RunSpec("test", 0, NAME, NAME, params, ic, seed, tuple(res), tuple(res), 0.0,
                   dt_out, n_frames, options=dict(options or {}))
    path = str(tmp_path / f"gs_{len(list(tmp_path.iterdir()))}.hdf5")
    result = run_trajectory(system or get_system(NAME), spec, path, progress=False)
    return result, path


def read(path):
    with h5py.File(path) as f:
        A = f["t0_fields/A"][0].astype(np.float64)
        B = f["t0_fields/B"][0].astype(np.float64)
        t = f["dimensions/time"][()].astype(np.float64)
        prov = read_provenance(f)
        seeds = prov.get("seeds")
    return A, B, t, prov, seeds


# -- initial conditions (no time stepping) -------------------------------------------------

def initial_state(ic, seed, params=gs.PATTERNS["spots"], res=(32, 32)):
    sys_ = get_system(NAME)
    ctx = BuildContext(params={"F": params[0], "k": params[1]}, ic=ic, resolution=res,
                       seed=seed)
    setup = sys_.build(ctx)
    return [np.array(setup.outputs[n]["g"]) for n in ("A", "B")]


def test_third_steady_state_formula_solves_the_steady_equations():
    """Only bubbles lies inside the region k < (√F − 2F)/2 where the Well's Fourier IC
    perturbs the third uniform steady state; there F(1 − A) = A B² and A B = F + k."""
    inside = {n for n, (F, k) in gs.PATTERNS.items() if gs.third_steady_state(F, k)}
    assert inside == {"bubbles"}
    F, k = gs.PATTERNS["bubbles"]
    A, B = gs.third_steady_state(F, k)
    assert abs(F * (1 - A) - A * B * B) < 1e-14 and abs(A * B - (F + k)) < 1e-14
    assert 0 < A < 1 and 0 < B < 1


def test_gaussian_ic_is_normalised_and_reproducible_from_the_seed():
    A, B = initial_state({"ic": "gaussians"}, seed=5)
    A2, B2 = initial_state({"ic": "gaussians"}, seed=5)
    A3, _ = initial_state({"ic": "gaussians"}, seed=6)
    np.testing.assert_array_equal(A, A2)
    np.testing.assert_array_equal(B, B2)
    assert np.abs(A - A3).max() > 0.1
    for f in (A, B):  # min–max normalised on the grid
        assert f.min() == pytest.approx(0.0, abs=1e-12) and f.max() == pytest.approx(1.0)


def test_fourier_ic_matches_the_wells_ranges():
    A, B = initial_state({"ic": "fourier"}, seed=3, params=gs.PATTERNS["spots"])
    # around (1, 0) with amplitude 0.5 × noise in [-1/2, 1/2): mostly within ±0.25
    assert abs(A.mean() - 1) < 0.05 and abs(B.mean()) < 0.05
    assert 0.1 < A.std() < 0.25 and 0.1 < B.std() < 0.25
    F, k = gs.PATTERNS["bubbles"]
    a0, b0 = gs.third_steady_state(F, k)
    A, B = initial_state({"ic": "fourier"}, seed=3, params=(F, k))
    assert abs(A.mean() - a0) < 0.05 and abs(B.mean() - b0) < 0.05


def test_trig_interpolant_passes_through_the_noise_values():
    rng = np.random.default_rng(0)
    v = rng.uniform(size=(8, 8)) - 0.5
    x = (-1 + 2 * np.arange(8) / 8)[:, None]
    y = (-1 + 2 * np.arange(8) / 8)[None, :]
    np.testing.assert_allclose(trig_interpolate(v, ((-1, 1), (-1, 1)), x, y), v, atol=1e-13)


def test_bad_stationary_option_is_a_config_error():
    system = get_system(NAME)
    cfg = merge_config(system, "tiny", {"options": {"stationary": "drop"}}, None)
    with pytest.raises(ConfigError, match=r"options\.stationary: 'drop' is not one of keep, "
                                          r"flag, replace"):
        build_plan(system, cfg)


# -- physics against exact and known results -----------------------------------------------

@pytest.mark.slow
def test_single_mode_decays_exactly_pinning_delta_A_and_F(tmp_path):
    """With B = 0 the A equation is linear: A − 1 = ε cos(π m x) exp(−(δ_A π² m² + F) t)."""
    F, k, m, eps = 0.03, 0.062, 4, 0.5
    result, path = simulate(tmp_path, {"F": F, "k": k},
                            {"ic": "mode", "mode": m, "amplitude": eps}, (32, 32), 10.0, 11)
    assert result.status == "done" and result.dt_max == 0.5
    A, B, t, _, _ = read(path)
    x = -1 + 2 * np.arange(32) / 32
    exact = 1 + eps * np.cos(np.pi * m * x)[None, :, None] * np.exp(
        -(gs.DELTA_A * np.pi**2 * m**2 + F) * t)[:, None, None]
    assert np.abs(A - exact).max() < 2e-6  # float32 storage of A ≈ 1
    assert np.abs(B).max() == 0.0


@pytest.mark.slow
def test_third_steady_state_is_a_fixed_point(tmp_path):
    F, k = gs.PATTERNS["bubbles"]
    _, path = simulate(tmp_path, {"F": F, "k": k}, {"ic": "fourier", "amplitude": 0.0},
                       (16, 16), 20.0, 6)
    A, B, _, _, _ = read(path)
    a0, b0 = gs.third_steady_state(F, k)
    assert np.abs(A - a0).max() < 1e-6 and np.abs(B - b0).max() < 1e-6


def blobs(b, threshold=0.2):
    """Connected components of {b > threshold} on the periodic grid: (count, largest area
    fraction, covered area fraction)."""
    from scipy import ndimage

    mask = b > threshold
    lab, n = ndimage.label(mask)
    parent = np.arange(n + 1)

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for lo, hi in ((lab[0, :], lab[-1, :]), (lab[:, 0], lab[:, -1])):
        for p, q in zip(lo, hi):
            if p and q:
                parent[root(p)] = root(q)
    roots = np.array([root(i) for i in range(n + 1)])[lab][mask]
    _, sizes = np.unique(roots, return_counts=True)
    return len(sizes), sizes.max() / mask.size, mask.mean()


@pytest.mark.slow
def test_the_wells_parameters_give_distinct_patterns(tmp_path):
    """Pearson's classes at t = 200 (64², enough to resolve them): spots are many small
    isolated blobs of B, the maze a few long connected stripes, bubbles a connected B sea
    with holes."""
    stats = {}
    for name, ic in (("spots", "gaussians"), ("maze", "gaussians"), ("bubbles", "fourier")):
        F, k = gs.PATTERNS[name]
        result, path = simulate(tmp_path, {"F": F, "k": k}, {"ic": ic}, (64, 64), 100.0, 3)
        assert result.status == "done"
        stats[name] = blobs(read(path)[1][-1])
    n, largest, cover = stats["spots"]
    assert n >= 10 and largest < 0.01 and cover < 0.1
    n, largest, cover = stats["maze"]
    assert largest > 0.02 and 0.1 < cover < 0.5
    n, largest, cover = stats["bubbles"]
    assert cover > 0.5 and largest == pytest.approx(cover)  # one percolating B phase


# -- stationary trajectories ---------------------------------------------------------------

def decay_case(tmp_path, options, n_frames=20, eps=0.01, system=None):
    """Mode IC around the stable trivial state (1, 0): it converges, A becomes constant."""
    F, k = gs.PATTERNS["bubbles"]
    return simulate(tmp_path, {"F": F, "k": k}, {"ic": "mode", "mode": 8, "amplitude": eps},
                    (32, 32), 10.0, n_frames, options=options, system=system)


@pytest.mark.slow
def test_stationary_detection_fires_when_the_run_converges(tmp_path):
    result, path = decay_case(tmp_path, {"stationary": "flag"})
    assert result.status == "done"
    prov = read(path)[3]
    assert prov["stationary"] == [True]
    # the relative RMS change between frames is ε/√2 e^{−λt}(1 − e^{−λΔt}): it drops below
    # rtol = 1e-5 at the first frame after t*, which is where the streak starts
    F = gs.PATTERNS["bubbles"][0]
    lam = gs.DELTA_A * np.pi**2 * 64 + F
    t_star = math.log(0.01 / math.sqrt(2) * (1 - math.exp(-10 * lam)) / 1e-5) / lam
    assert t_star <= prov["stationary_time"][0] < t_star + 10
    # and a run that keeps changing is not flagged
    _, path = decay_case(tmp_path, {"stationary": "flag"}, n_frames=8, eps=0.5)
    assert read(path)[3]["stationary"] == [False]
    assert math.isnan(read(path)[3]["stationary_time"][0])


def test_keep_records_nothing(tmp_path):
    result, path = decay_case(tmp_path, {"stationary": "keep"}, n_frames=3)
    assert result.status == "done" and "stationary" not in read(path)[3]


def test_replace_redraws_with_a_derived_seed(tmp_path):
    system = get_system(NAME)
    system.stationary = StationaryCheck("A", rtol=1e-3, frames=2, max_replace=1)
    result, path = decay_case(tmp_path, {"stationary": "replace"}, n_frames=5, system=system)
    assert result.status == "done"
    _, _, _, prov, seeds = read(path)
    # the mode IC converges whatever the seed: redrawn once, then kept and flagged
    assert prov["replaced"] == [1] and prov["stationary"] == [True]
    assert seeds == [replacement_seed(1, 1)]


# -- the tiny dataset ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def dataset(tiny):
    return tiny(NAME)


def test_tiny_dataset_layout(dataset):
    """(The layout every system's tiny dataset has, its validation and loading:
    tests/test_systems.py.)"""
    for p in [p for s in SPLITS for p in split_files(dataset, s)]:
        with h5py.File(p) as f:
            assert list(f["t0_fields"].attrs["field_names"]) == ["A", "B"]
            assert sorted(f["scalars"]) == ["F", "k"]
            assert set(f["boundary_conditions"]) == {"x_periodic", "y_periodic"}
            n = int(f.attrs["n_trajectories"])
            prov = read_provenance(f)
            assert len(prov["stationary"]) == n and len(prov["stationary_time"]) == n
            t = f["dimensions/time"][()]  # after the tiny preset's spin-up of 600
            np.testing.assert_allclose(t, 600.0 + 10.0 * np.arange(10), atol=1e-5)

