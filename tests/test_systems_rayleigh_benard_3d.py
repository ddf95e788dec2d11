"""rayleigh_benard_3d: onset of convection against linear theory (Ra_c = 1707.76 at
k_c = 3.117, Chandrasekhar 1961), and the tiny dataset (3-D cells, walls, aspect ratio)."""

import h5py
import numpy as np
import pytest
import scipy.linalg as sl
from scipy.optimize import brentq
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory
from wellforge.schema.dataset import SPLITS, split_files

NAME = "rayleigh_benard_3d"
K_C = 3.117


def _cheb(n):
    """Chebyshev collocation points on [-1, 1] and the differentiation matrix (Trefethen)."""
    x = np.cos(np.pi * np.arange(n + 1) / n)
    c = np.r_[2, np.ones(n - 1), 2] * (-1) ** np.arange(n + 1)
    dx = x[:, None] - x[None, :]
    D = np.outer(c, 1 / c) / (dx + np.eye(n + 1))
    return D - np.diag(D.sum(1)), x


def linear_growth_rate(Ra, Pr, k, n=32):
    """Largest growth rate of a mode ∝ exp(i k·x_h + σt) of the conductive state b = 1 - z,
    free-fall units (independent of Dedalus): with L = D² - k² on z ∈ [0, 1],
    σ L w = ν L² w - k² b,  σ b = κ L b + w,  w = Dw = b = 0 at both walls."""
    D, _ = _cheb(n)
    D = 2 * D  # [-1, 1] -> [0, 1]
    I, Z = np.eye(n + 1), np.zeros((n + 1, n + 1))
    L = D @ D - k * k * I
    nu, kappa = (Ra / Pr) ** -0.5, (Ra * Pr) ** -0.5
    A = np.block([[nu * L @ L, -k * k * I], [I, kappa * L]])
    B = np.block([[L, Z], [Z, I]])
    for r, row in ((0, I[0]), (n, I[n]), (1, D[0]), (n - 1, D[n])):  # w, Dw at the walls
        A[r], B[r] = 0, 0
        A[r, :n + 1] = row
    for r in (n + 1, 2 * n + 1):  # b at the walls
        A[r], B[r] = 0, 0
        A[r, r] = 1
    ev = sl.eig(A, B, right=False)
    return ev[np.isfinite(ev)].real.max()


def test_linear_theory_reproduces_chandrasekhar():
    """The independent solver: onset at Ra_c = 1707.76 for k = 3.117, whatever Pr."""
    for Pr in (1.0, 7.0):
        assert brentq(lambda R: linear_growth_rate(R, Pr, K_C), 1000, 3000) == \
            pytest.approx(1707.76, abs=0.05)


@pytest.mark.parametrize("Ra", [1500.0, 2500.0])
def test_onset_decays_below_and_grows_above_critical(tmp_path, Ra):
    """In the box Γ = 2π/k_c (the critical mode fits once in x and in y), from noise of
    1e-5: the |k_h| = k_c modes decay at Ra = 1500 and grow at Ra = 2500, at the rate of
    linear theory (σ = -0.042 and +0.110 per free-fall time at Pr = 1)."""
    spec = RunSpec("onset", 0, NAME, NAME,
                   {"Rayleigh": Ra, "Prandtl": 1.0, "aspect": 2 * np.pi / K_C},
                   {"noise": 1e-5}, 1, (4, 4, 16), (4, 4, 16), 0.0, 2.0, 21)
    path = str(tmp_path / "onset.hdf5")
    assert run_trajectory(get_system(NAME), spec, path, progress=False).status == "done"
    with h5py.File(path) as f:
        t = f["dimensions/time"][()].astype(np.float64)
        w = f["t1_fields/velocity"][0, ..., 2].astype(np.float64)
        assert f["dimensions/x"][-1] < 2 * np.pi / K_C  # the box of the run
    W = np.fft.fft2(w, axes=(1, 2))
    amp = np.sqrt(sum((np.abs(W[:, i, j]) ** 2).sum(-1)
                      for i, j in ((1, 0), (-1, 0), (0, 1), (0, -1))))
    late = t >= 20  # the leading eigenmode has taken over from the noise
    rate = np.polyfit(t[late], np.log(amp[late]), 1)[0]
    expected = linear_growth_rate(Ra, 1.0, K_C)
    assert (rate > 0) == (Ra > 1707.76) == (expected > 0)
    assert rate == pytest.approx(expected, rel=0.01)


def test_tiny_dataset_convects_between_walls(tiny):
    """The tiny preset (Ra = 1e4, 2e4 in the 4 × 4 × 1 box): developed 3-D convection
    (|u_z| of order 0.1 in free-fall units, all three components moving), b within the
    maximum principle, the walls' BC groups on z only."""
    for s in SPLITS:
        for p in split_files(tiny(NAME), s):
            with h5py.File(p) as f:
                assert f.attrs["n_spatial_dims"] == 3
                assert list(f["boundary_conditions"]) == ["x_periodic", "y_periodic",
                                                          "z_wall_dirichlet"]
                assert f["dimensions/x"][-1] == pytest.approx(4 * (1 - 1 / 16))
                u = f["t1_fields/velocity"][()]
                b = f["t0_fields/buoyancy"][()]
            assert np.all(np.abs(u).max(axis=(0, 1, 2, 3, 4)) > 0.1)
            assert -0.05 < b.min() and b.max() < 1.05
