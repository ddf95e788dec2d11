"""planetswe: exact spectral interpolation to the equiangular grid, Williamson test case 2,
mass conservation, and the tiny dataset on the Well's (theta, phi) layout."""

import json

import h5py
import numpy as np
import pytest
from wellforge.generators.registry import get_system
from wellforge.generators.resample import Resampler, stored_grid
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory
from wellforge.schema.grids import Axis, equiangular_colatitudes
from wellforge.generators.systems import planetswe as sw
from wellforge.schema.dataset import SPLITS, split_files



NAME = "planetswe"


def fejer_weights(theta):
    """Fejér's first rule on the midpoint colatitudes θ_j = (j + 1/2)π/n (any order):
    Σ w_j f(cos θ_j) = ∫_{-1}^{1} f(x) dx exactly for polynomials of degree < n."""
    n = theta.size
    k = np.arange(1, n // 2 + 1)
    return 2 / n * (1 - 2 * (np.cos(2 * np.outer(theta, k)) / (4 * k**2 - 1)).sum(axis=1))


def area_integral(f, theta):
    """∫ f dA / R² over the unit sphere of data on the stored (theta, phi) grid."""
    return (fejer_weights(theta) @ f.mean(axis=-1)) * 2 * np.pi


def simulate(tmp_path, ic, res, dt_out, n_frames, options, seed=5):
    spec = RunSpec("test", 0, NAME, NAME, {}, ic, seed, tuple(res), tuple(res), 0.0, dt_out,
                   n_frames, options=options)
    path = str(tmp_path / f"sw_{len(list(tmp_path.iterdir()))}.hdf5")
    assert run_trajectory(get_system(NAME), spec, path, progress=False).status == "done"
    with h5py.File(path) as f:
        return (f["dimensions/time"][()].astype(np.float64),
                f["dimensions/theta"][()].astype(np.float64),
                f["t0_fields/height"][0].astype(np.float64),
                f["t1_fields/velocity"][0].astype(np.float64))


def test_sphere_resampling_equals_dedalus_interpolation():
    """Scalar and vector fields on Dedalus's (φ, θ) Gauss grid, resampled to the (θ, φ)
    equiangular grid (same and other sizes), agree with Dedalus's own Interpolate."""
    import dedalus.public as d3

    Nphi, Nth = 32, 16
    coords = d3.S2Coordinates("phi", "theta")
    dist = d3.Distributor(coords, dtype=np.float64)
    basis = d3.SphereBasis(coords, (Nphi, Nth), radius=1, dtype=np.float64)
    f = dist.Field(bases=basis)
    g = dist.Field(bases=basis)
    f.fill_random("g", seed=1, distribution="normal")
    g.fill_random("g", seed=2, distribution="normal")
    f = (f + 0).evaluate()  # band-limited: through the coefficients
    u = (d3.grad(f) + d3.skew(d3.grad(g))).evaluate()
    f.change_scales(1)
    u.change_scales(1)
    axes = (Axis("phi", "fourier", (0, 2 * np.pi), Nphi),
            Axis("theta", "gauss", (0, np.pi), Nth))
    for n_phi, n_theta in ((Nphi, Nth), (2 * Nphi, 24)):
        targets = np.pi - (np.arange(n_theta) + 0.5) * np.pi / n_theta  # the Well's grid
        np.testing.assert_allclose(stored_grid(axes[1], n_theta), targets, rtol=1e-15)
        resample = Resampler(axes, (n_phi, n_theta), {}, order=[1, 0])
        fs = resample(np.array(f["g"]))
        us = resample(np.moveaxis(np.array(u["g"]), 0, -1))
        # the reference: Dedalus's Interpolate in θ, then the trigonometric interpolant
        # of its Nphi values summed directly at the n_phi azimuths (modes |m| < Nphi/2),
        # not wellforge's FFT resampling
        phi_out = 2 * np.pi * np.arange(n_phi) / n_phi
        m = np.arange(1, Nphi // 2)

        def at_azimuths(v):  # v: (Nphi, ...) samples -> (n_phi, ...) interpolant values
            phi_in = 2 * np.pi * np.arange(Nphi) / Nphi
            c0 = v.mean(axis=0)
            cm = np.tensordot(np.exp(-1j * np.outer(m, phi_in)), v, axes=(1, 0)) / Nphi
            return c0 + 2 * np.real(np.tensordot(np.exp(1j * np.outer(phi_out, m)), cm,
                                                 axes=(1, 0)))

        ref_f = np.zeros((n_theta, n_phi))
        ref_u = np.zeros((n_theta, n_phi, 2))
        for j, th in enumerate(targets):
            fi = d3.Interpolate(f, coords["theta"], th).evaluate()
            ui = d3.Interpolate(u, coords["theta"], th).evaluate()
            fi.change_scales(1)
            ui.change_scales(1)
            ref_f[j] = at_azimuths(np.array(fi["g"]).ravel())
            ref_u[j] = at_azimuths(np.array(ui["g"])[..., 0].T[:, [1, 0]])  # (u_phi, u_theta)
        assert fs.shape == (n_theta, n_phi) and us.shape == (n_theta, n_phi, 2)
        assert np.abs(fs - ref_f).max() < 1e-12 * np.abs(ref_f).max()
        assert np.abs(us - ref_u).max() < 1e-12 * np.abs(ref_u).max()


def test_fejer_weights_integrate_the_sphere():
    theta = equiangular_colatitudes(16, ascending=False)
    assert area_integral(np.ones((16, 8)), theta) == pytest.approx(4 * np.pi, rel=1e-14)
    x = np.cos(theta)[:, None] * np.ones((1, 8))
    assert area_integral(x**14, theta) == pytest.approx(4 * np.pi / 15, rel=1e-13)


@pytest.mark.slow
def test_williamson_case_2_stays_steady_for_5_days(tmp_path):
    """Steady zonal geostrophic flow u = u0 cos λ, gh = gh0 - (RΩu0 + u0²/2) sin²λ
    (Williamson et al. 1992, α = 0; inviscid, unforced): the normalised l2 height error is
    the float32 storage floor (8e-8) at every frame, and the stored state does not drift
    over 5 days (in double precision the error after 5 days is ~6e-15)."""
    t, theta, h, u = simulate(tmp_path, {"ic": "williamson2"}, (32, 64), 24.0, 6,
                              {"forcing": "off", "hyperviscosity": "off"})
    assert t[-1] == 120.0
    R, Omega, g = 6.37122e6, 7.292e-5, 9.80616
    u0 = 2 * np.pi * R / (12 * 86400)
    lat = np.pi / 2 - theta
    h_total = 2.94e4 / g - (R * Omega * u0 + u0**2 / 2) * np.sin(lat) ** 2 / g
    exact = (h_total - 1e4)[:, None] * np.ones((1, 64))
    depth = exact + 1e4
    err = [np.sqrt(area_integral((h[k] - exact) ** 2, theta) / area_integral(depth**2, theta))
           for k in range(t.size)]
    assert max(err) < 2e-7, err
    drift = np.sqrt(area_integral((h[-1] - h[0]) ** 2, theta) / area_integral(depth**2, theta))
    assert drift < 1e-9
    np.testing.assert_allclose(u[-1, ..., 1], (u0 * np.cos(lat))[:, None] * np.ones((1, 64)),
                               atol=1e-4)
    assert np.abs(u[-1, ..., 0]).max() < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("forcing", ["off", "on"])
def test_mass_is_conserved(tmp_path, forcing):
    """∫ h dA stays constant (the forcing's zonal mean vanishes), in float32 storage."""
    _, theta, h, _ = simulate(tmp_path, {"ic": "random", "amplitude": 30.0}, (32, 64), 3.0,
                              9, {"forcing": forcing})
    mass = np.array([area_integral(hk, theta) for hk in h])
    scale = area_integral(np.abs(h[0]), theta)
    assert np.abs(mass - mass[0]).max() < 1e-6 * scale
    assert np.abs(h[-1] - h[0]).max() > 1.0  # the flow did evolve


@pytest.fixture(scope="module")
def dataset(tiny):
    return tiny(NAME)


def test_tiny_dataset_has_the_wells_layout(dataset):
    """(The layout every system's tiny dataset has, its validation and loading:
    tests/test_systems.py.)"""
    for s in SPLITS:
        for p in split_files(dataset, s):
            with h5py.File(p) as f:
                assert f.attrs["grid_type"] == "equiangular"
                assert list(f["dimensions"].attrs["spatial_dims"]) == ["theta", "phi"]
                assert set(f["boundary_conditions"]) == {"theta_open", "phi_periodic"}
                np.testing.assert_allclose(f["dimensions/theta"][()],  # tiny: 48 x 96
                                           np.pi - (np.arange(48) + 0.5) * np.pi / 48,
                                           rtol=1e-6)
                np.testing.assert_allclose(f["dimensions/phi"][()],
                                           2 * np.pi * np.arange(96) / 96, rtol=1e-6)
                assert f["dimensions/time"].attrs["units"] == "hour"
                assert f["t0_fields/height"].attrs["units"] == "m"
                assert f["t1_fields/velocity"].attrs["units"] == "m/s"
                assert f["t1_fields/velocity"].shape == (1, 10, 48, 96, 2)
                ic = json.loads(f["provenance"].attrs["ic"])[0]
                if ic["ic"] == "galewsky":
                    # the zonal jet (IC: u_theta = 0, u_phi ≈ 80 m/s peak) after the tiny
                    # preset's 5-day spin-up: still a jet, with waves of its instability
                    u = f["t1_fields/velocity"][0, 0]
                    assert 50 < u[..., 1].max() < 95 and np.abs(u[..., 0]).max() > 1.0



def test_hyperviscosity_matches_the_well_at_its_resolution():
    assert sw.ell_nu(256) == 160


def test_galewsky_bump_is_centred_on_longitude_zero():
    """Galewsky et al. (2004) define the bump for -π < λ < π: exp(-(λ/α)²) is even about
    λ = 0. On Dedalus's azimuths φ ∈ [0, 2π) the longitude must be wrapped; unwrapped, the
    bump was cut at φ = 0 (full height just east of it, none just west: a jump of
    120 cos(π/4) ≈ 85 m)."""
    lat = np.full(4, np.pi / 4)
    phi = np.array([0.1, 2 * np.pi - 0.1, np.pi, 0.0])
    b = sw.galewsky_bump(phi, lat, 120.0)
    assert b[0] == pytest.approx(b[1], rel=1e-12)
    assert b[3] == pytest.approx(120 * np.cos(np.pi / 4), rel=1e-12)
    assert b[0] == pytest.approx(120 * np.cos(np.pi / 4) * np.exp(-(0.1 * 3) ** 2), rel=1e-12)
    assert b[2] < 1e-30


@pytest.mark.slow
def test_galewsky_initial_height_is_symmetric_about_longitude_zero(tmp_path):
    """The stored initial height of the Galewsky IC (zonal balanced jet + bump) is even in
    longitude: h(φ) = h(-φ) on the stored azimuths φ_i = 2π i/N (mirror index N - i)."""
    _, _, h, _ = simulate(tmp_path, {"ic": "galewsky"}, (32, 64), 1.0, 1,
                          {"forcing": "off", "hyperviscosity": "off"})
    h0 = h[0]
    mirror = h0[:, (-np.arange(64)) % 64]
    pert = h0 - h0[:, 32:33]  # minus the height at λ = π (bump-free: the balanced jet)
    assert pert.max() > 50.0  # the bump is there (120 m × cos 45°, as resolved)
    assert np.abs(h0 - mirror).max() < 1e-6 * np.abs(h0).max()
