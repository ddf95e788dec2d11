"""Spectral resampling against exact results."""

import numpy as np
import pytest

from wellforge.generators.clock import OutputClock
from wellforge.generators.resample import Resampler, fourier_resample, stored_grid
from wellforge.schema.grids import Axis, chebyshev_interp_matrix, chebyshev_nodes


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
    y = chebyshev_nodes(N, *bounds)
    p = lambda y: 3 * y**11 - y**5 + 2 * y - 1  # degree N-1: represented exactly  # noqa: E731
    targets = np.linspace(0, 1, 9)
    M = chebyshev_interp_matrix(N, targets, bounds)
    np.testing.assert_allclose(M @ p(y), p(targets), atol=1e-12)
    # includes the walls y = 0, 1, which are not grid points
    assert abs((M @ p(y))[0] - p(0.0)) < 1e-12


def test_resampler_2d_vector():
    ax = (Axis("x", "fourier", (0, 4), 32), Axis("y", "chebyshev", (0, 1), 8))
    x = stored_grid(ax[0], 32)
    y = chebyshev_nodes(8, 0, 1)
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


def drive(clock, dt_cfl_of_step):
    t, dts, landed = 0.0, [], []
    while not clock.done:
        dt, lands = clock.step(t, dt_cfl_of_step(len(dts)))
        assert dt <= dt_cfl_of_step(len(dts)) * (1 + 1e-12)
        t += dt
        dts.append(dt)
        if lands:
            assert abs(t - clock.times[clock.k]) < 1e-14
            landed.append(len(dts))
            t = clock.times[clock.k]
            clock.k += 1
    return dts, landed


def test_output_clock_lands_exactly_with_one_step_size():
    dts, landed = drive(OutputClock(0.25 * np.arange(5)), lambda i: 0.07)
    assert len(set(dts)) == 1  # bit for bit: Dedalus refactorises on any change of dt
    assert dts[0] == 0.25 / 4 and landed == [4, 8, 12, 16]


def test_output_clock_keeps_dt_while_the_step_count_fits():
    # the CFL target wobbles mid-interval but 4 steps still fit: dt must not change
    dts, _ = drive(OutputClock(0.25 * np.arange(4)), lambda i: 0.07 if i % 3 else 0.066)
    assert len(set(dts)) == 1
    # the target drops below 0.0625: the rest of the interval is re-cut, still landing exactly
    dts, landed = drive(OutputClock(0.25 * np.arange(3)), lambda i: 0.07 if i < 2 else 0.05)
    assert dts[:2] == [0.0625, 0.0625] and all(d <= 0.05 for d in dts[2:])
    assert len(set(dts[landed[0]:])) == 1  # next interval: one step size again


def test_output_clock_when_the_cfl_step_divides_the_interval():
    dts, landed = drive(OutputClock(0.25 * np.arange(50)), lambda i: 0.125)
    assert set(dts) == {0.125} and landed == list(range(2, 100, 2))


def test_output_clock_hysteresis_like_dedalus_threshold():
    # the CFL target rises by 3 % (< threshold 5 %): the step is kept, no refactorisation
    dts, _ = drive(OutputClock(0.25 * np.arange(5), threshold=0.05),
                   lambda i: 0.0625 if i < 4 else 0.0625 * 1.03)
    assert set(dts) == {0.0625}
    # it rises by 60 %: the next interval is cut coarser (3 steps instead of 4)
    dts, landed = drive(OutputClock(0.25 * np.arange(3), threshold=0.05),
                        lambda i: 0.0625 if i < 4 else 0.1)
    assert dts[:4] == [0.0625] * 4 and set(dts[4:]) == {0.25 / 3} and landed == [4, 7]
    # the target drops 2 % below the step mid-interval (< threshold): kept to the output,
    # the next interval is cut to respect the target
    clock = OutputClock(0.25 * np.arange(3), threshold=0.05)
    t, dts = 0.0, []
    while not clock.done:
        target = 0.0625 if len(dts) < 2 else 0.0625 * 0.98
        dt, lands = clock.step(t, target)
        t += dt
        dts.append(dt)
        if lands:
            t = clock.times[clock.k]
            clock.k += 1
    assert dts[:4] == [0.0625] * 4 and all(d <= 0.0625 * 0.98 for d in dts[4:])


def test_output_clock_lengthens_the_step_when_the_cfl_ramps_up():
    # a run starting from a small initial step: the CFL target grows 1.5x per 10 steps
    target = lambda i: min(1e-3 * 1.5 ** (i // 10), 0.02)  # noqa: E731
    dts, landed = drive(OutputClock(0.1 * np.arange(10), threshold=0.05), target)
    assert landed[0] < 50  # not 100 steps of the initial 1e-3 for the whole first interval
    assert len(set(dts[landed[-3]:])) == 1  # then one step size (no refactorisation) ...
    assert dts[-1] == pytest.approx(0.02, rel=1e-12)  # ... 5 steps of the capped CFL step


def test_output_clock_reuses_its_step_across_rounded_intervals():
    # 0.1 * k is not exact in binary: interval lengths differ in the last bits; the step
    # must still be one float (else Dedalus would refactorise at every output)
    dts, landed = drive(OutputClock(0.1 * np.arange(40), threshold=0.05), lambda i: 0.03)
    assert len(set(dts)) == 1 and len(landed) == 39


def test_output_clock_returns_to_the_same_float_for_the_same_cut():
    # the CFL target alternates between two levels: every interval is cut into 4 or 5
    # steps, and each cut is always the same float (step sizes recur, so FactorCache can
    # hand back their factorisations) even though 0.1 * k intervals differ in the last bit
    target = lambda i: 0.026 if (i // 20) % 2 else 0.021  # noqa: E731
    dts, landed = drive(OutputClock(0.1 * np.arange(60), threshold=0.05), target)
    new_cuts = {dts[j] for j in [0, *landed[:-1]]}  # the first step of every interval
    assert len(landed) == 59
    assert {round(0.1 / d) for d in new_cuts} <= {4, 5} and len(new_cuts) == 2
