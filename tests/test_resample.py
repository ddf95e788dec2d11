"""Spectral resampling against exact results."""

import numpy as np

from wellforge.generators.resample import (Resampler, chebyshev_interp_matrix, chebyshev_nodes,
                                           fourier_resample, stored_grid)
from wellforge.generators.runner import OutputClock
from wellforge.generators.system import Axis


def test_fourier_truncation_is_exact_for_band_limited_data():
    N, n, L = 64, 16, 2.0
    x, xs = L * np.arange(N) / N, L * np.arange(n) / n
    f = lambda x: 1 + np.sin(2 * np.pi * 3 * x / L) + 0.5 * np.cos(2 * np.pi * 7 * x / L)  # noqa: E731
    g = lambda x: 0.25 * np.sin(2 * np.pi * 20 * x / L)  # above the stored band  # noqa: E731
    out = fourier_resample(f(x) + g(x), 0, n)
    np.testing.assert_allclose(out, f(xs), atol=1e-13)  # mode 20 removed, not aliased


def test_fourier_padding_interpolates_exactly():
    N, n = 16, 48
    x, xs = 2 * np.pi * np.arange(N) / N, 2 * np.pi * np.arange(n) / n
    np.testing.assert_allclose(fourier_resample(np.cos(3 * x), 0, n), np.cos(3 * xs), atol=1e-13)


def test_chebyshev_to_uniform_exact_for_polynomials():
    N, bounds = 12, (0.0, 1.0)
    y = chebyshev_nodes(N, bounds)
    p = lambda y: 3 * y**11 - y**5 + 2 * y - 1  # degree N-1: represented exactly  # noqa: E731
    targets = np.linspace(0, 1, 9)
    M = chebyshev_interp_matrix(N, targets, bounds)
    np.testing.assert_allclose(M @ p(y), p(targets), atol=1e-12)
    # includes the walls y = 0, 1, which are not grid points
    assert abs((M @ p(y))[0] - p(0.0)) < 1e-12


def test_resampler_2d_vector():
    ax = (Axis("x", "fourier", (0, 4), 32), Axis("y", "chebyshev", (0, 1), 8))
    x = stored_grid(ax[0], 32)
    y = chebyshev_nodes(8, (0, 1))
    X, Y = np.meshgrid(x, y, indexing="ij")
    u = np.stack([np.sin(np.pi * X / 2) * Y**2, np.cos(np.pi * X) * (1 - Y)], -1)
    r = Resampler(ax, (16, 5), {"y": "uniform"})
    xs, ys = 4 * np.arange(16) / 16, np.linspace(0, 1, 5)
    Xs, Ys = np.meshgrid(xs, ys, indexing="ij")
    want = np.stack([np.sin(np.pi * Xs / 2) * Ys**2, np.cos(np.pi * Xs) * (1 - Ys)], -1)
    np.testing.assert_allclose(r(u), want, atol=1e-12)


def test_stored_grids_match_the_wells_coordinates():
    x = stored_grid(Axis("x", "fourier", (0, 4), 512), 512)
    np.testing.assert_array_equal(x, 4 * np.arange(512) / 512)  # x_i = L i / N
    y = stored_grid(Axis("y", "chebyshev", (0, 1), 128), 128)
    np.testing.assert_allclose(y, (1 - np.cos(np.pi * (np.arange(128) + 0.5) / 128)) / 2)


def test_output_clock_lands_exactly_with_constant_steps():
    clock = OutputClock(0.25 * np.arange(5))
    t, dts = 0.0, []
    while not clock.done:
        dt, lands = clock.step(t, 0.07)
        t += dt
        dts.append(dt)
        assert dt <= 0.07
        if lands:
            assert abs(t - clock.times[clock.k]) < 1e-14
            t = clock.times[clock.k]
            clock.k += 1
    assert len(set(np.round(dts, 15))) == 1  # one step size: no refactorisation
    assert dts[0] == 0.25 / 4
