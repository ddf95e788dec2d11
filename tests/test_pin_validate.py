"""Pins for the validator's thresholds, grids and severities (tests/MUTATION.md).

Each threshold is tested from both sides with inputs whose statistics are exact in
float32 (dyadic values, patterns that sum to zero), so that the expected outcome follows
from a closed form: the Well's 5-sigma rule (a single jump among n frames is
sqrt(n - 1) sigma), the robust z-score (median, 1.4826 MAD floored at 0.01 in log10
units, |z| > 6, at least 5 trajectories), the time-step tolerance (1e-3 of the step or
8 float32 ulps of the largest time), the coordinate tolerance of the grid detection.
"""

from __future__ import annotations

import math
import os

import h5py
import numpy as np
import pytest
from wellforge.schema.writer import WellWriter
from wellforge.validate import quadrature as q
from wellforge.validate import robust
from wellforge.validate.context import Options
from wellforge.validate.findings import Severity
from wellforge.validate.runner import validate


def run(paths, **kw):
    kw.setdefault("isolate", False)
    return validate([str(p) for p in paths], Options(**kw))


def codes(rep):
    return sorted({f.code for f in rep.findings})


def by(rep, code):
    return [f for f in rep.findings if f.code == code]


CHECKER = np.array([[1.0, -1.0, 1.0, -1.0], [-1.0, 1.0, -1.0, 1.0]] * 4)  # (8, 4), sum 0


def write(path, frames, *, n_traj=None, times=None, fields=("c",), bc=True):
    """A file on an 8 x 4 grid (x periodic, y uniform with walls); ``frames``:
    (n_traj, n_time, 8, 4) values of field c."""
    frames = np.asarray(frames, dtype=np.float32)
    nt = frames.shape[1]
    t = np.arange(nt, dtype=np.float64) if times is None else np.asarray(times)
    with WellWriter(str(path), "pin", frames.shape[0], t) as w:
        w.add_dimension("x", np.arange(8) / 8)
        w.add_dimension("y", np.linspace(0, 1, 4))
        for name in fields:
            w.add_field(name)
        if bc:
            w.add_boundary_condition("x", "PERIODIC")
            w.add_boundary_condition("y", "OPEN")
        for i in range(frames.shape[0]):
            for k in range(nt):
                w.write_frame(i, k, {name: frames[i, k] for name in fields})
    return str(path)


def jump_frames(n, amp, jump):
    """n frames: amp * checkerboard (spatial mean exactly 0), the last one shifted by
    ``jump``: its mean deviates by sqrt(n - 1) standard deviations of the frame means."""
    f = np.stack([amp * CHECKER for _ in range(n)])
    f[-1] += jump
    return f[None]


# -- the Well's 5-sigma rule ----------------------------------------------------------------

@pytest.mark.parametrize("n,hit", [(27, True), (25, False)])  # sqrt(26) = 5.10, sqrt(24) = 4.90
def test_five_sigma_rule_from_both_sides(tmp_path, n, hit):
    rep = run([write(tmp_path / "f.hdf5", jump_frames(n, 0.5, 1.0))], select=["WF303"])
    got = by(rep, "WF303")
    assert bool(got) == hit
    if hit:
        (f,) = got
        assert f.severity == Severity.WARNING and f.object == "/t0_fields/c"
        assert f.observed == round(math.sqrt(n - 1), 2)
        assert f.expected == "< 5.0 sigma"
        assert f.message == (f"c: 1 outlier frame(s) at frame {n - 1} (t = {n - 1}) (up to "
                             f"{math.sqrt(n - 1):.1f} sigma), trajectory 0")
        assert f.region == {"trajectory": [0, 0], "time": [n - 1, n - 1]}


@pytest.mark.parametrize("amp,hit", [(8.0, True), (16.0, False)])
def test_outlier_floor_is_a_thousandth_of_the_rms(tmp_path, amp, hit):
    """A 5.1-sigma jump of 1/64 in the mean counts only above 1e-3 of the trajectory's RMS
    (about amp): 0.0151 > 0.008 (amp 8), < 0.016 (amp 16)."""
    rep = run([write(tmp_path / "f.hdf5", jump_frames(27, amp, 1 / 64))], select=["WF303"])
    assert bool(by(rep, "WF303")) == hit


def test_outliers_need_three_frames_and_a_spread(tmp_path):
    # every frame mean identical: sd = 0, never an outlier; a uniform IC is allowed
    f = np.stack([0.5 * CHECKER + 0.25 for _ in range(30)])[None]
    rep = run([write(tmp_path / "a.hdf5", f)], select=["WF303", "WF301"])
    assert codes(rep) == []


def test_constant_frames_after_the_first(tmp_path):
    f = np.stack([0.5 * CHECKER for _ in range(4)])
    f[0] = 3.0  # a uniform initial condition is fine
    f[2] = 7.0  # a constant frame later is not
    rep = run([write(tmp_path / "f.hdf5", f[None])], select=["WF301"])
    (hit,) = by(rep, "WF301")
    assert hit.severity == Severity.WARNING and hit.observed == 1
    assert hit.message == "1 constant frame(s) at frame 2 (t = 2) in c, trajectory 0"


def test_repeated_and_non_finite_frames(tmp_path):
    f = np.stack([(k + 1) * 0.5 * CHECKER for k in range(5)])
    f[3] = f[2]
    f[4, 0, 0] = np.nan
    f[4, 1, 1] = np.inf
    rep = run([write(tmp_path / "f.hdf5", f[None])], select=["WF302", "WF300"])
    (rp,) = by(rep, "WF302")
    assert rp.severity == Severity.WARNING and rp.message.startswith(
        "1 frame(s) equal to the previous one at frame 3 (t = 3)")
    (nf,) = by(rep, "WF300")
    assert nf.severity == Severity.ERROR and nf.observed == {"nan": 1, "inf": 1}
    assert nf.message == "1 frame(s) with non-finite values (1 NaN, 1 Inf) at frame 4 (t = 4) in " \
        "trajectory 0"


# -- the robust z-score -----------------------------------------------------------------------

@pytest.mark.parametrize("d,hit", [(0.0885, False), (0.0895, True), (-0.0895, True)])
def test_robust_z_floor_scale_and_threshold(d, hit):
    """Four equal values and one at 10**d: MAD = 0, floored at 0.01, so
    z = d / (1.4826 * 0.01): |z| > 6 from |d| > 0.088956."""
    v = [1.0, 1.0, 1.0, 1.0, 10.0 ** d]
    out = robust.robust_outliers(v)
    assert [i for i, _ in out] == ([4] if hit else [])
    if hit:
        assert out[0][1] == pytest.approx(d / 0.014826, rel=1e-9)


def test_robust_z_with_a_mad_above_the_floor():
    lv = np.array([-0.2, -0.1, 0.0, 0.1, 0.2, 0.0, 1.0])
    med = 0.0
    mad = 0.1  # median of |lv| = (0.2, 0.1, 0, 0.1, 0.2, 0, 1.0) -> 0.1
    out = robust.robust_outliers(10.0 ** lv)
    assert [i for i, _ in out] == [6]
    assert out[0][1] == pytest.approx((1.0 - med) / (1.4826 * mad), rel=1e-9)
    assert robust.robust_outliers(10.0 ** lv, threshold=7) == []  # z = 6.74


def test_robust_z_needs_five_positive_finite_values():
    assert robust.robust_outliers([1.0, 1.0, 1.0, 1e6]) == []
    assert [i for i, _ in robust.robust_outliers([1.0, 1.0, 1.0, 1.0, 1e6])] == [4]
    assert robust.robust_outliers([1.0, 1.0, 1.0, 0.0, -1.0, np.nan, 1e6]) == []
    assert [i for i, _ in robust.robust_outliers([1.0, np.nan, 1.0, 1.0, 1.0, 1e6])] == [5]


def test_median_literals():
    assert robust.median([3.0, 1.0, 2.0]) == 2.0
    assert robust.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert robust.median([np.nan, 5.0, np.inf]) == 5.0
    assert math.isnan(robust.median([np.nan]))
    assert robust.median([7.0]) == 7.0


@pytest.mark.parametrize("n_traj,hit", [(5, True), (4, False)])
def test_outlier_trajectory_in_a_file(tmp_path, n_traj, hit):
    f = np.stack([np.stack([CHECKER * 0.5 * (1 + 0.001 * i) for _ in range(3)])
                  for i in range(n_traj)])
    f[-1] *= 4.0  # log10 4 = 0.6: z = 40
    rep = run([write(tmp_path / "f.hdf5", f)], select=["WF304"])
    got = by(rep, "WF304")
    assert bool(got) == hit
    if hit:
        assert got[0].severity == Severity.WARNING and got[0].region["trajectory"] == [4, 4]
        assert got[0].expected == "|z| <= 6.0"


def test_frameset_runs_and_text():
    fs = robust.FrameSet.of([5, 1, 2, 3, 9])
    assert fs.runs == [(1, 3), (5, 5), (9, 9)] and (fs.count, fs.first, fs.last) == (5, 1, 9)
    assert fs.text() == "1-3, 5, 9"
    e = robust.FrameSet.of([])
    assert (e.runs, e.count, e.first, e.last, e.text()) == ([], 0, -1, -1, "")
    many = robust.FrameSet.of(range(0, 50, 2))
    assert many.text().endswith("38, … (5 more runs)")
    capped = robust.FrameSet.of(range(0, 2010, 2))  # 1005 isolated frames
    assert len(capped.runs) == 1000 and capped.count == 1005 and capped.last == 2008
    assert capped.text().endswith("more runs) …")


# -- time and coordinate tolerances -----------------------------------------------------------

def _retime(path, t):
    with h5py.File(path, "r+") as f:
        attrs = dict(f["dimensions/time"].attrs)
        del f["dimensions/time"]
        d = f.create_dataset("dimensions/time", data=np.asarray(t, dtype=np.float32))
        d.attrs.update(attrs)
    return path


@pytest.mark.parametrize("dev,hit", [(1.2e-3, True), (0.8e-3, False)])
def test_time_step_tolerance_from_both_sides(tmp_path, dev, hit):
    p = write(tmp_path / "f.hdf5", np.stack([CHECKER * (k + 1) for k in range(5)])[None])
    _retime(p, [0.0, 1.0, 2.0 + dev, 3.0 + dev, 4.0 + dev])
    got = by(run([p], level=1), "WF113")
    assert bool(got) == hit
    if hit:
        assert got[0].severity == Severity.ERROR
        assert got[0].expected == pytest.approx(1.0, rel=1e-6)
        assert got[0].message.startswith("time step varies: step 1 is 1.0012")


@pytest.mark.parametrize("dev,hit", [(0.25, True), (0.0625, False)])
def test_time_step_tolerance_floor_at_large_times(tmp_path, dev, hit):
    """Times near 2**14: 8 float32 ulps of t (8 * 1.19e-7 * 16388 = 0.0156) are below
    1e-3 of a step of 16 ... so the step 16 gives a tolerance of 0.016; 0.0625 is over
    it, 0.25 too: use a step of 64 (tolerance 0.064)."""
    t0 = 16384.0
    p = write(tmp_path / "f.hdf5", np.stack([CHECKER * (k + 1) for k in range(5)])[None],
              times=t0 + 64.0 * np.arange(5))
    _retime(p, t0 + np.array([0.0, 64.0, 128.0 + dev, 192.0 + dev, 256.0 + dev]))
    assert bool(by(run([p], level=1), "WF113")) == hit


def test_zero_time_step_is_not_increasing(tmp_path):
    p = write(tmp_path / "f.hdf5", np.stack([CHECKER * (k + 1) for k in range(4)])[None])
    _retime(p, [0.0, 1.0, 1.0, 2.0])
    rep = run([p], level=1)
    (f,) = by(rep, "WF112")
    assert f.severity == Severity.ERROR
    assert f.message == "time does not increase at index 2: t[1] = 1, t[2] = 1"
    assert f.region == {"time": [1, 2]} or f.region.get("time") in ([1, 2], (1, 2))
    assert not by(rep, "WF113")  # the step rule stays silent on a non-increasing axis
    _retime(p, [0.0, 2.0, 1.0, 0.5])
    (f,) = by(run([p], level=1), "WF112")
    assert f.message.endswith("(2 places)")


def _recoord(path, name, c):
    with h5py.File(path, "r+") as f:
        attrs = dict(f[f"dimensions/{name}"].attrs)
        del f[f"dimensions/{name}"]
        d = f.create_dataset(f"dimensions/{name}", data=np.asarray(c, dtype=np.float32))
        d.attrs.update(attrs)
    return path


def test_duplicated_coordinate(tmp_path):
    p = write(tmp_path / "f.hdf5", np.stack([CHECKER * (k + 1) for k in range(3)])[None])
    _recoord(p, "y", [0.0, 0.5, 0.5, 1.0])
    (f,) = by(run([p], level=1), "WF114")
    assert f.severity == Severity.ERROR
    assert f.message == "coordinates not strictly monotonic at index 2"
    assert f.observed == [0.5, 0.5]
    _recoord(p, "y", [1.0, 0.5, 0.5, 0.0])  # descending with a repeat
    (f,) = by(run([p], level=1), "WF114")
    assert f.message == "coordinates not strictly monotonic at index 2"
    _recoord(p, "y", [1.0, 0.75, 0.5, 0.0])  # strictly descending is fine
    assert not by(run([p], level=1), "WF114")
    _recoord(p, "y", [0.0, np.nan, 0.5, 1.0])
    (f,) = by(run([p], level=1), "WF114")
    assert f.message == "coordinate is not finite at index 1"


def test_classify_one_point_axis():
    g = q.classify("z", [0.5])
    assert g.kind == q.NONUNIFORM and g.n == 1 and g.note == "a single point"
    assert list(g.weights) == [1.0] and g.lo is None


@pytest.mark.parametrize("rel,kind", [(0.5, q.FOURIER), (4.0, q.NONUNIFORM)])
def test_uniform_detection_tolerance(rel, kind):
    """Uniform to 64 float32 ulps of the axis scale: a wobble of half that is uniform, of
    four times that is not (nor a Chebyshev grid)."""
    n = 16
    c = np.arange(n, dtype=np.float64)
    c[7] += rel * 64 * 2.0**-23 * 15.0
    assert q.classify("x", c, periodic=True).kind == kind


def test_grid_detection_with_bounds():
    x = np.linspace(0.0, 2.0, 9)
    g = q.classify("y", x, bounds=(0.0, 2.0))
    assert g.kind == q.UNIFORM and (g.lo, g.hi) == (0.0, 2.0) and g.has_walls
    h = q.classify("y", (np.arange(8) + 0.5) / 4, bounds=(0.0, 2.0))
    assert h.kind == q.CELLS and (h.lo, h.hi) == (0.0, 2.0)
    np.testing.assert_allclose(h.weights, 0.25)
    u = q.classify("y", x)  # no card: walls unknown
    assert u.kind == q.UNIFORM and u.lo is None and not u.has_walls
    cg = q.classify("y", q.chebyshev_gauss_nodes(12, -1.0, 3.0))
    assert cg.kind == q.CHEBYSHEV and (cg.lo, cg.hi) == (-1.0, 3.0)
    cl = q.classify("y", q.chebyshev_lobatto_nodes(12, -1.0, 3.0))
    assert cl.kind == q.LOBATTO and (cl.lo, cl.hi) == (-1.0, 3.0)
    pc = q.classify("x", np.arange(9) / 8, periodic=True, bounds=(0.0, 1.0))
    assert pc.kind == q.FOURIER_CLOSED and pc.period == 1.0
    p = q.classify("x", np.arange(8) / 8, periodic=True, bounds=(0.0, 1.0))
    assert p.kind == q.FOURIER and p.period == pytest.approx(1.0) and p.uniform_weights


# -- grids: walls -----------------------------------------------------------------------------

def test_lobatto_wall_rows_are_unit_rows():
    g = q.classify("y", q.chebyshev_lobatto_nodes(9, 0.0, 1.0))
    E, R, lam = g.wall_operator()
    np.testing.assert_allclose(E[0], np.eye(9)[0], atol=1e-14)
    np.testing.assert_allclose(E[1], np.eye(9)[-1], atol=1e-14)
    assert lam == pytest.approx(1.0)
    assert R.shape == (2, 9)


def test_chebyshev_gauss_walls_extrapolate_exactly():
    x = q.chebyshev_gauss_nodes(8, 0.0, 2.0)
    g = q.classify("y", x)
    E, R, lam = g.wall_operator()
    f = lambda s: s**7 - 3 * s**2 + 1  # noqa: E731
    np.testing.assert_allclose(E @ f(x), [f(0.0), f(2.0)], rtol=1e-10)
    assert lam > 1.0  # extrapolation amplifies rounding
    np.testing.assert_allclose(R @ (x**3), 0.0, atol=1e-12)  # no top coefficients for a cubic


def test_uniform_grid_on_both_walls_uses_the_end_points():
    x = np.linspace(0.0, 1.0, 6)
    g = q.AxisGrid("y", q.UNIFORM, x, np.ones(6), 0.0, 1.0)
    E, R, lam = g.wall_operator()
    np.testing.assert_array_equal(E, np.eye(6)[[0, -1]])
    assert lam == 1.0 and not R.any()


def test_uniform_grid_touching_one_wall_extrapolates_the_other():
    """Points from the low wall up to 0.8 of a domain [0, 1]: the low wall is the first
    point, the high wall is extrapolated (cubic: exact for cubics)."""
    x = np.linspace(0.0, 0.8, 5)
    g = q.AxisGrid("y", q.UNIFORM, x, np.ones(5), 0.0, 1.0)
    E, R, lam = g.wall_operator()
    f = lambda s: 2 * s**3 - s + 0.5  # noqa: E731
    np.testing.assert_allclose(E @ f(x), [f(0.0), f(1.0)], rtol=1e-12)
    np.testing.assert_allclose(E[0], np.eye(5)[0], atol=1e-14)
    assert lam > 1.0
    # the error estimate is cubic minus quadratic extrapolation: zero for a quadratic
    np.testing.assert_allclose(R @ (x**2), 0.0, atol=1e-12)
    assert abs(R[1] @ (x**3)) > 1e-3


def test_cells_walls_from_the_four_nearest_points():
    x = (np.arange(6) + 0.5) / 6
    g = q.classify("y", x, bounds=(0.0, 1.0))
    E, R, lam = g.wall_operator()
    assert np.count_nonzero(E[0]) == 4 and np.count_nonzero(E[1]) == 4
    f = lambda s: s**3 + s  # noqa: E731
    np.testing.assert_allclose(E @ f(x), [0.0, 2.0], atol=1e-12)
    assert q.classify("x", x, periodic=True).wall_operator() is None


# -- quadrature literals ----------------------------------------------------------------------

def test_rule_literals():
    x, w = q.fejer1(2)
    np.testing.assert_allclose(x, [math.sqrt(0.5), -math.sqrt(0.5)])
    np.testing.assert_allclose(w, [1.0, 1.0])
    x, w = q.fejer1(3)
    np.testing.assert_allclose(w, [4 / 9, 10 / 9, 4 / 9])
    x, w = q.clenshaw_curtis(3)
    np.testing.assert_allclose(x, [1.0, 0.0, -1.0], atol=1e-15)
    np.testing.assert_allclose(w, [1 / 3, 4 / 3, 1 / 3])
    x, w = q.clenshaw_curtis(4)  # N = 3 (odd): ends 1/9, inside 8/9
    np.testing.assert_allclose(w, [1 / 9, 8 / 9, 8 / 9, 1 / 9])
    x, w = q.clenshaw_curtis(5)  # N = 4: ends 1/15, then 8/15, 12/15
    np.testing.assert_allclose(w, [1 / 15, 8 / 15, 12 / 15, 8 / 15, 1 / 15])
    assert q.clenshaw_curtis(1)[1].tolist() == [2.0]
    g, t = q._uniform_rules(7, 0.5)
    np.testing.assert_allclose(g, 0.5 * np.array([3 / 8, 7 / 6, 23 / 24, 1, 23 / 24, 7 / 6,
                                                  3 / 8]))
    np.testing.assert_allclose(t, [0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25])
    g6, t6 = q._uniform_rules(6, 0.5)
    assert t6 is None and g6.tolist() == [0.25, 0.5, 0.5, 0.5, 0.5, 0.25]
    np.testing.assert_allclose(q._trapezoid_weights(np.array([0.0, 1.0, 3.0])), [0.5, 1.5, 1.0])
    assert q._coarse_trapezoid(np.arange(4.0)) is None
    np.testing.assert_allclose(q._coarse_trapezoid(np.arange(6.0)), [1, 0, 2, 0, 1.5, 0.5])


def test_colatitude_weights_and_measure():
    for kind, nodes in ((q.EQUIANGULAR, q.equiangular_colatitudes(8)),
                        (q.GAUSS, q.gauss_colatitudes(8))):
        g = q.classify("theta", nodes, colatitude=True)
        assert g.kind == kind and (g.lo, g.hi) == (0.0, math.pi)
        assert g.weights.sum() == pytest.approx(2.0)  # ∫ sin θ dθ
        np.testing.assert_allclose(g.weights @ np.cos(nodes) ** 2, 2 / 3, rtol=1e-12)
    assert q.equiangular_colatitudes(2).tolist() == [math.pi / 4, 3 * math.pi / 4]
    assert q.equiangular_colatitudes(2, ascending=False).tolist() == [3 * math.pi / 4,
                                                                      math.pi / 4]
    # fewer than 5 colatitudes on neither grid: trapezoid in cos θ, no coarse rule (was a
    # TypeError: abs() of the missing coarse rule)
    odd = q.classify("theta", [0.3, 1.0, 2.0, 2.9], colatitude=True)
    assert odd.kind == q.NONUNIFORM and odd.alt_weights is None
    assert odd.weights.sum() == pytest.approx(math.cos(0.3) - math.cos(2.9))
    odd5 = q.classify("theta", [0.3, 1.0, 1.5, 2.0, 2.9], colatitude=True)
    assert odd5.alt_weights.sum() == pytest.approx(math.cos(0.3) - math.cos(2.9))


def test_k_max_literals():
    u = q.AxisGrid("x", q.FOURIER, np.arange(8) / 4, np.ones(8), 0.0, 2.0)
    assert u.k_max == pytest.approx(math.pi * 7 / 1.75)  # π (n - 1) / span = π / dx
    c = q.AxisGrid("y", q.CHEBYSHEV, q.chebyshev_gauss_nodes(8, 0.0, 4.0), np.ones(8), 0.0, 4.0)
    assert c.k_max == pytest.approx(2 * 64 / 4.0)
    assert u.period == 2.0 and c.period is None and c.spectral and not q.AxisGrid(
        "z", q.UNIFORM, np.arange(3.0), np.ones(3), None, None).spectral


def test_mean_weights_and_weighted_means():
    a = q.AxisGrid("x", q.FOURIER, np.arange(2.0), np.array([1.0, 1.0]), 0, 2)
    b = q.AxisGrid("y", q.UNIFORM, np.arange(3.0), np.array([1.0, 2.0, 1.0]), 0, 2,
                   alt_weights=np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(q.mean_weights([a, b]), [0.125, 0.25, 0.125] * 2)
    np.testing.assert_allclose(q.mean_weights([a, b], alt=1), [0.25, 0.0, 0.25] * 2)
    data = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    W = q.mean_weights([a, b]).astype(np.float32)
    np.testing.assert_allclose(q.weighted_mean(data, W, 1)[:, 0],
                               [(0 + 2 * 1 + 2 + 3 + 2 * 4 + 5) / 8,
                                (6 + 14 + 8 + 9 + 20 + 11) / 8])
    np.testing.assert_allclose(q.weighted_mean(data, None, 1)[:, 0], [2.5, 8.5])
    np.testing.assert_allclose(q.weighted_meansq(data, None, 1)[:, 0],
                               [np.mean(np.arange(6.0) ** 2), np.mean(np.arange(6.0, 12) ** 2)])
    np.testing.assert_allclose(q.weighted_meansq(data, np.sqrt(W), 1)[:, 0],
                               [(0 + 2 + 4 + 9 + 32 + 25) / 8,
                                (36 + 2 * 49 + 64 + 81 + 2 * 100 + 121) / 8], rtol=1e-6)


def test_barycentric_weights_literals():
    lam = q.barycentric_weights(np.array([0.0, 1.0, 3.0]))
    ref = np.array([1 / 3, -1 / 2, 1 / 6])  # 1 / prod(x_j - x_k), rescaled
    np.testing.assert_allclose(lam, ref / np.abs(ref).max(), rtol=1e-12)
    D = q.diff_matrix(np.array([0.0, 1.0, 3.0]))
    f = np.array([0.0, 1.0, 9.0])  # x^2: derivative 2x
    np.testing.assert_allclose(D @ f, [0.0, 2.0, 6.0], atol=1e-12)


def test_periodic_derivative_drops_the_nyquist_mode():
    n = 8
    x = 2 * np.pi * np.arange(n) / n
    g = q.AxisGrid("x", q.FOURIER, x, np.ones(n), 0.0, 2 * np.pi)
    a = (np.sin(2 * x) + np.cos(4 * x)).astype(np.float32)  # cos 4x: the Nyquist mode
    np.testing.assert_allclose(g.derivative(a, 0), 2 * np.cos(2 * x), atol=1e-5)
    u = q.AxisGrid("y", q.UNIFORM, np.linspace(0, 1, 11), np.ones(11), 0.0, 1.0)
    y = np.linspace(0, 1, 11)
    np.testing.assert_allclose(u.derivative((y**2).astype(np.float32), 0), 2 * y, atol=1e-5)


# -- severities and names ---------------------------------------------------------------------

def _bc(path, name, bc_type, mask, dims=("y",)):
    with h5py.File(path, "r+") as f:
        g = f["boundary_conditions"].create_group(name)
        g.attrs.update(bc_type=bc_type, associated_dims=list(dims), associated_fields=[],
                       sample_varying=False, time_varying=False)
        g.create_dataset("mask", data=np.asarray(mask))


def _clean(tmp_path, name="f.hdf5"):
    return write(tmp_path / name, np.stack([CHECKER * (k + 1) for k in range(3)])[None],
                 bc=False)


def test_mask_end_severity_by_type(tmp_path):
    p = _clean(tmp_path)
    _bc(p, "x_periodic", "PERIODIC", [True] + [False] * 7, dims=("x",))
    _bc(p, "y_open", "OPEN", [False, False, False, True])
    rep = run([p], level=1)
    hits = {f.object: f for f in by(rep, "WF120")}
    assert hits["/boundary_conditions/x_periodic/mask"].severity == Severity.ERROR
    assert hits["/boundary_conditions/x_periodic/mask"].message == (
        "PERIODIC mask on 'x' is not True at the high end: the loader reads that side as OPEN")
    assert hits["/boundary_conditions/y_open/mask"].severity == Severity.WARNING
    assert hits["/boundary_conditions/y_open/mask"].observed == {"low": False, "high": True}
    assert codes(rep) == ["WF120"]


def test_wall_mask_needs_every_entry(tmp_path):
    """WALL needs the whole end slice True (the loader's all), other types any entry."""
    p = _clean(tmp_path)
    with h5py.File(p, "r+") as f:
        g = f["boundary_conditions"].create_group("xy_wall")
        g.attrs.update(bc_type="WALL", associated_dims=["x", "y"], associated_fields=[],
                       sample_varying=False, time_varying=False)
        m = np.zeros((8, 4), bool)
        m[0, :] = m[-1, :] = m[:, 0] = True
        m[-1, 1:] = True
        m[:, -1] = True
        m[3, -1] = False  # the high end of y misses one point
        g.create_dataset("mask", data=m)
    rep = run([p], level=1)
    (f,) = by(rep, "WF120")
    assert f.message.startswith("WALL mask on 'y' is not True at the high end")
    assert {x.code for x in rep.findings} == {"WF120", "WF122"}
    assert by(rep, "WF122")[0].severity == Severity.WARNING


def test_bc_group_name_rule(tmp_path):
    p = _clean(tmp_path)
    _bc(p, "x_periodic", "PERIODIC", [True] + [False] * 6 + [True], dims=("x",))
    _bc(p, "lower_upper", "WALL", [True, False, False, True])  # neither type nor dim
    rep = run([p], level=1)
    (f,) = by(rep, "WF121")
    assert f.object == "/boundary_conditions/lower_upper" and f.severity == Severity.WARNING
    assert f.expected == "y_wall"
    p2 = _clean(tmp_path, "g.hdf5")
    _bc(p2, "x_periodic", "PERIODIC", [True] + [False] * 6 + [True], dims=("x",))
    _bc(p2, "walls_y", "WALL", [True, False, False, True])  # both, any order: fine
    assert not by(run([p2], level=1), "WF121")
    p3 = _clean(tmp_path, "h.hdf5")
    _bc(p3, "x_periodic", "PERIODIC", [True] + [False] * 6 + [True], dims=("x",))
    _bc(p3, "y_top", "WALL", [True, False, False, True])  # the dim but not the type
    assert [f.object for f in by(run([p3], level=1), "WF121")] == ["/boundary_conditions/y_top"]


def test_bc_coverage_severities(tmp_path):
    p = _clean(tmp_path)
    _bc(p, "x_periodic", "PERIODIC", [True] + [False] * 6 + [True], dims=("x",))
    rep = run([p], level=1)
    (f,) = by(rep, "WF123")  # once for the axis (was once per side, twice the same)
    assert f.severity == Severity.WARNING
    assert f.message == "axis 'y' has no boundary condition (the loader reads it as OPEN)"
    _bc(p, "y_wall", "WALL", [True, False, False, True])
    _bc(p, "y_open", "OPEN", [True, False, False, False])
    rep = run([p], level=1)
    (f,) = by(rep, "WF123")
    assert f.severity == Severity.ERROR
    assert f.message == "the low side of 'y' has conflicting types ['OPEN', 'WALL']"


def test_mask_dtype_and_dim_varying_severities(tmp_path):
    p = _clean(tmp_path)
    _bc(p, "x_periodic", "PERIODIC", np.array([1, 0, 0, 0, 0, 0, 0, 1], np.int8), dims=("x",))
    _bc(p, "y_wall", "WALL", [True, False, False, True])
    with h5py.File(p, "r+") as f:
        f["t0_fields/c"].attrs["dim_varying"] = [True, False]
    rep = run([p], level=1)
    (m,) = by(rep, "WF119")
    assert m.severity == Severity.WARNING and m.message == "mask dtype is int8, not bool"
    (dv,) = by(rep, "WF110")
    assert dv.severity == Severity.WARNING
    with h5py.File(p, "r+") as f:
        f["t0_fields/c"].attrs["dim_varying"] = [True, True, True]
    (dv,) = by(run([p], level=1), "WF110")
    assert dv.severity == Severity.ERROR and dv.expected == 2 and dv.observed == 3


def test_schema_version_mismatch_is_a_warning(tmp_path):
    p = _clean(tmp_path)
    _bc(p, "x_periodic", "PERIODIC", [True] + [False] * 6 + [True], dims=("x",))
    _bc(p, "y_wall", "WALL", [True, False, False, True])
    assert codes(run([p], level=1)) == []
    with h5py.File(p, "r+") as f:
        f.attrs["wellforge_schema"] = "0.9"
    (f,) = by(run([p], level=1), "WF131")
    assert f.severity == Severity.WARNING and f.expected == "1.1" and f.observed == "0.9"
    with h5py.File(p, "r+") as f:
        del f["provenance"].attrs["created"]
    rep = run([p], level=1)
    sev = sorted((x.severity, x.message) for x in by(rep, "WF131"))
    assert sev[0][0] == Severity.WARNING and sev[1] == (
        Severity.ERROR, "/provenance@created is missing or not a string")


def test_rule_severities_in_the_registry():
    from wellforge.validate.checks import load_all
    from wellforge.validate.registry import REGISTRY

    load_all()
    want = {"WF110": "warning", "WF112": "error", "WF113": "error", "WF114": "error",
            "WF119": "error", "WF120": "error", "WF121": "warning", "WF122": "warning",
            "WF123": "warning", "WF300": "error", "WF301": "warning", "WF302": "warning",
            "WF303": "warning", "WF304": "warning", "WF400": "error", "WF402": "error",
            "WF520": "error", "WF540": "warning", "WF006": "error", "WF008": "warning",
            "WF009": "warning", "WF201": "error", "WF208": "warning", "WF209": "warning"}
    assert {c: REGISTRY[c].severity.label for c in want} == want
    assert all(REGISTRY[c].refuses for c in ("WF001", "WF002", "WF003", "WF004", "WF005",
                                             "WF006", "WF007"))
    assert not REGISTRY["WF008"].refuses and not REGISTRY["WF009"].refuses
    assert REGISTRY["WF303"].needs == ("frames",) and REGISTRY["WF520"].scope == "dataset"


# -- dataset statistics: pooling with unequal files, tolerance from both sides -------------

def _dataset(root, sizes):
    from wellforge.schema.dataset import finalize
    from wellforge.schema.synthetic import write_file

    for split, nt_list in sizes.items():
        d = os.path.join(root, "data", split)
        os.makedirs(d, exist_ok=True)
        for j, (n_traj, n_time) in enumerate(nt_list):
            write_file(os.path.join(d, f"pin_alpha_{j + 1}{split[0]}.hdf5"), n_traj=n_traj,
                       n_time=n_time, param=1.0 + j, dataset_name="pin")
    finalize(root)
    return root


@pytest.fixture(scope="module")
def unequal_dataset(tmp_path_factory):
    return _dataset(str(tmp_path_factory.mktemp("pin_ds") / "pin"),
                    {"train": [(1, 3), (3, 9)], "valid": [(1, 3)], "test": [(1, 3)]})


def _stats_hits(root, **kw):
    return by(run([root], **kw), "WF520")


def test_stats_of_unequal_files_pass_and_blocks_do_not_matter(unequal_dataset):
    from wellforge.validate.context import Limits

    assert _stats_hits(unequal_dataset) == []
    # frames read one at a time (trajectories larger than one block): same statistics
    assert _stats_hits(unequal_dataset, limits=Limits(block_bytes=16 * 8 * 4)) == []


@pytest.mark.parametrize("k,hit", [(0.4, False), (2.5, True)])
def test_stats_tolerance_from_both_sides(unequal_dataset, tmp_path, k, hit):
    """stats.yaml values may differ from the train split by 1e-3 of the value plus 1e-3
    of the field's rms (5 stored digits): k times that tolerance."""
    import shutil

    import yaml

    root = str(tmp_path / "pin")
    shutil.copytree(unequal_dataset, root)
    path = os.path.join(root, "stats.yaml")
    with open(path) as fh:
        s = yaml.safe_load(fh)
    w, rms = s["mean"]["c"], s["rms"]["c"]
    s["mean"]["c"] = w + k * (1e-3 * abs(w) + 1e-3 * abs(rms))
    with open(path, "w") as fh:
        yaml.safe_dump(s, fh)
    got = _stats_hits(root)
    assert [f.object for f in got] == (["mean.c"] if hit else [])
    if hit:
        assert got[0].severity == Severity.ERROR


def test_stats_weighting_is_by_count(unequal_dataset, tmp_path):
    """stats.yaml computed with equal weights per file (not per value) is reported: the
    velocity's amplitude differs between the two train files (1 x 3 and 3 x 9 frames)."""
    import shutil

    import yaml
    from wellforge.schema.dataset import split_files

    root = str(tmp_path / "pin")
    shutil.copytree(unequal_dataset, root)
    ms = []
    for fn in split_files(root, "train"):
        with h5py.File(fn) as f:
            u = f["t1_fields/velocity"][()].astype(np.float64)
        ms.append((u * u).reshape(-1, 2).mean(axis=0))
    path = os.path.join(root, "stats.yaml")
    with open(path) as fh:
        s = yaml.safe_load(fh)
    unweighted = np.sqrt(np.mean(ms, axis=0))
    assert np.all(np.abs(unweighted - s["rms"]["velocity"]) > 0.05 * unweighted)
    s["rms"]["velocity"] = unweighted.tolist()
    with open(path, "w") as fh:
        yaml.safe_dump(s, fh)
    assert [f.object for f in _stats_hits(root)] == ["rms.velocity"]



def test_periodic_derivative_scales_with_the_period_along_any_axis():
    n, L = 16, 3.0
    x = L * np.arange(n) / n
    g = q.AxisGrid("x", q.FOURIER, x, np.full(n, L / n), 0.0, L)
    a = np.stack([np.sin(2 * np.pi * x / L), np.cos(4 * np.pi * x / L)]).astype(np.float32)
    d = g.derivative(a, 1)
    np.testing.assert_allclose(d[0], 2 * np.pi / L * np.cos(2 * np.pi * x / L), atol=1e-5)
    np.testing.assert_allclose(d[1], -4 * np.pi / L * np.sin(4 * np.pi * x / L), atol=1e-5)
    y = np.linspace(0.0, 2.0, 9)
    u = q.AxisGrid("y", q.UNIFORM, y, np.ones(9), 0.0, 2.0)
    b = np.stack([y**2, 3 * y]).astype(np.float32)  # differentiate along axis 1 only
    np.testing.assert_allclose(u.derivative(b, 1), np.stack([2 * y, np.full(9, 3.0)]),
                               atol=1e-5)


def test_tau_projector_from_four_nodes():
    g = q.classify("y", q.chebyshev_gauss_nodes(4, 0.0, 1.0))
    V, L = g.tau_projector()
    assert V.shape == (4, 2) and L.shape == (2, 4)
    assert q.classify("y", q.chebyshev_gauss_nodes(3, 0.0, 1.0)).tau_projector() is None
    s = 2 * g.nodes - 1
    # 1 + T_3 has top coefficients (a_3, a_2) = (1, 0): U_3 / 2 = T_3 + T_1 is removed
    t3 = 4 * s**3 - 3 * s
    np.testing.assert_allclose(g.remove_tau((1 + t3).astype(np.float32), 0), 1 - s, atol=1e-5)
    # a line has no T_3, T_2 content: left alone
    np.testing.assert_allclose(g.remove_tau((1 + s).astype(np.float32), 0), 1 + s, atol=1e-5)


# -- structure: boundaries of the counting rules, exact messages -------------------------------

def _clean_bc(tmp_path, name="f.hdf5"):
    p = _clean(tmp_path, name)
    _bc(p, "x_periodic", "PERIODIC", [True] + [False] * 6 + [True], dims=("x",))
    _bc(p, "y_wall", "WALL", [True, False, False, True])
    return p


def _findings(p, **kw):
    return sorted((f.code, f.severity.label, f.object, f.message)
                  for f in run([p], level=1, **kw).findings)


def test_counts_from_both_sides(tmp_path):
    p = _clean_bc(tmp_path)
    assert _findings(p) == []
    with h5py.File(p, "r+") as f:
        f.attrs["n_spatial_dims"] = 0
        f.attrs["n_trajectories"] = 0
    got = _findings(p)
    assert ("WF103", "error", "/", "@n_spatial_dims must be > 0") in got
    assert ("WF103", "error", "/dimensions", "len(@spatial_dims) != @n_spatial_dims") in got
    assert ("WF109", "error", "/", "@n_trajectories must be >= 1") in got
    assert not [g for g in got if g[0] == "WF109" and g[1] != "error"]
    with h5py.File(p, "r+") as f:
        f.attrs["n_spatial_dims"] = 2
        f.attrs["n_trajectories"] = 2
    got = _findings(p)
    assert [g for g in got if g[0] == "WF103"] == []
    assert ("WF109", "error", "/t0_fields/c", "leading axis has 1 trajectories, "
            "@n_trajectories = 2") in got


def test_dtype_time_and_scalar_shapes(tmp_path):
    p = _clean_bc(tmp_path)
    with h5py.File(p, "r+") as f:
        attrs = dict(f["t0_fields/c"].attrs)
        data = f["t0_fields/c"][()].astype(np.float64)
        del f["t0_fields/c"]
        f.create_dataset("t0_fields/c", data=data).attrs.update(attrs)
        f["scalars"].attrs["field_names"] = ["s"]
        f["scalars"].create_dataset("s", data=np.ones(1, np.float32)).attrs.update(
            sample_varying=False, time_varying=False, units="1")
        t = f["dimensions/time"]
        t[1] = np.nan
    got = _findings(p)
    assert ("WF111", "error", "/t0_fields/c", "dtype float64, expected float32") in got
    assert ("WF108", "error", "/scalars/s", "shape (1,), expected () (a constant scalar has "
            "shape (), not (1,))") in got
    assert ("WF112", "error", "/dimensions/time", "time is not finite at index 1") in got


def test_bc_metadata_messages(tmp_path):
    p = _clean(tmp_path)
    _bc(p, "x_periodic", "periodic", [True] + [False] * 6 + [True], dims=("x",))
    _bc(p, "y_slippery", "SLIPPERY", [True, False, False, True])
    _bc(p, "z_wall", "WALL", [True, True], dims=("z",))
    _bc(p, "none_wall", "WALL", [True, True], dims=())
    with h5py.File(p, "r+") as f:
        g = f["boundary_conditions"].create_group("y_open")
        g.attrs.update(bc_type="OPEN", associated_dims=["y"], associated_fields=[],
                       sample_varying=False, time_varying=False)
        f.attrs["grid_type"] = "polar"
    got = _findings(p)
    assert ("WF117", "warning", "/boundary_conditions/x_periodic",
            "@bc_type 'periodic' is not upper case") in got
    assert ("WF116", "error", "/boundary_conditions/y_slippery",
            "@bc_type 'SLIPPERY' is not one of WALL, OPEN, PERIODIC") in got
    assert ("WF118", "error", "/boundary_conditions/z_wall",
            "associated dim 'z' is not in spatial_dims") in got
    assert ("WF118", "error", "/boundary_conditions/none_wall", "@associated_dims is empty") in got
    assert ("WF119", "error", "/boundary_conditions/y_open/mask",
            "boundary condition has no mask dataset") in got
    assert ("WF124", "warning", "/", "@grid_type 'polar' is not one of cartesian, equiangular, "
            "spherical") in got


def test_sample_varying_time_rows_and_coordinates(tmp_path):
    """A (n_traj, T) time axis is checked row by row (regions name the trajectory); a
    coordinate array with extra leading axes is checked (and shaped) too."""
    f = np.stack([np.stack([CHECKER * (k + 1) for k in range(4)])] * 2)
    p = write(tmp_path / "f.hdf5", f, times=np.array([[0.0, 1, 2, 3], [0.0, 2, 4, 6]]))
    assert _findings(p) == []
    _retime(p, np.array([[0.0, 1, 2, 3], [0.0, 2, 2, 6]]))
    (f112,) = by(run([p], level=1), "WF112")
    assert f112.region == {"trajectory": [1, 1], "time": [1, 2]}
    _retime(p, np.array([[0.0, 1, 2, 3], [0.0, np.nan, 4, 6]]))
    (f112,) = by(run([p], level=1), "WF112")
    assert f112.region == {"trajectory": [1, 1], "time": [1, 1]}
    _retime(p, np.array([[0.0, 1, 2, 3], [0.0, 2, 4, 6], [0.0, 1, 2, 3]]))
    got = [(x.code, x.object) for x in run([p], level=1).findings]
    assert ("WF109", "/dimensions/time") in got
    _retime(p, np.array([[0.0, 1, 2, 3], [0.0, 2, 4, 6]]))
    with h5py.File(p, "r+") as h:  # y stored per frame: (T, 4) with time_varying=True
        attrs = dict(h["dimensions/y"].attrs)
        del h["dimensions/y"]
        d = h.create_dataset("dimensions/y", data=np.tile(np.linspace(0, 1, 4, dtype=np.float32),
                                                          (4, 1)))
        d.attrs.update({**attrs, "time_varying": True})
    assert [x for x in run([p], level=1).findings if x.code in ("WF108", "WF114")] == []
    with h5py.File(p, "r+") as h:
        h["dimensions/y"][2] = [0.0, 0.5, 0.5, 1.0]
        h["dimensions/y"].attrs["time_varying"] = False
    got = {(x.code, x.object) for x in run([p], level=1).findings}
    assert ("WF114", "/dimensions/y") in got and ("WF108", "/dimensions/y") in got


def test_expected_values_of_count_findings(tmp_path):
    p = _clean_bc(tmp_path)
    with h5py.File(p, "r+") as f:
        f.attrs["n_spatial_dims"] = 0
    (f,) = [x for x in by(run([p], level=1), "WF103") if x.object == "/"]
    assert (f.expected, f.observed) == ("> 0", 0)


# -- grid detection: descending grids, one-sided cells, small Chebyshev grids --------------

def test_descending_and_offset_grids():
    c = 1 - np.arange(9) / 8  # closed periodic, descending
    g = q.classify("x", c, periodic=True, bounds=(0.0, 1.0))
    assert g.kind == q.FOURIER_CLOSED
    np.testing.assert_allclose(g.nodes, c, atol=1e-15)
    o = q.classify("x", 0.05 + np.arange(8) / 8, periodic=True, bounds=(0.0, 1.0))
    assert (o.kind, o.lo, o.hi) == (q.FOURIER, 0.0, 1.0)  # the card's origin
    far = q.classify("x", 0.3 + np.arange(8) / 8, periodic=True, bounds=(0.0, 1.0))
    assert far.lo == pytest.approx(0.3)  # more than half a step off: the grid's own
    lob = q.classify("y", q.chebyshev_lobatto_nodes(9, -1.0, 3.0, ascending=False))
    assert (lob.kind, lob.lo, lob.hi) == (q.LOBATTO, -1.0, 3.0)
    gd = q.classify("y", q.chebyshev_gauss_nodes(9, 0.0, 1.0, ascending=False),
                    hint="chebyshev", bounds=(0.0, 1.0))
    assert gd.kind == q.CHEBYSHEV and gd.nodes[0] > gd.nodes[-1]
    cd = q.classify("y", ((np.arange(6) + 0.5) / 6)[::-1], bounds=(0.0, 1.0))
    assert cd.kind == q.CELLS
    np.testing.assert_allclose(cd.nodes, ((np.arange(6) + 0.5) / 6)[::-1])


def test_cells_need_both_ends_half_a_step_in():
    x = 0.075 + 0.15 * np.arange(6)  # low end half a step in, high end 0.175 short
    g = q.classify("y", x, bounds=(0.0, 1.0))
    assert g.kind == q.UNIFORM and g.lo is None


def test_three_gauss_nodes_are_uniform_unless_the_card_says_chebyshev():
    x = q.chebyshev_gauss_nodes(3, 0.0, 1.0)  # equally spaced: (2 - √3)/4, 1/2, (2 + √3)/4
    assert q.classify("y", x).kind == q.UNIFORM
    assert q.classify("y", x, hint="chebyshev").kind == q.CHEBYSHEV


def test_nonuniform_grids_carry_a_coarse_rule_and_notes():
    x = np.array([0.0, 0.1, 0.3, 0.6, 1.0, 1.5])
    g = q.classify("z", x)
    assert g.kind == q.NONUNIFORM
    # trapezoid on x[0], x[2], x[4] and the last point: widths 0.3, 0.7, 0.5
    np.testing.assert_allclose(g.alt_weights, [0.15, 0, 0.5, 0, 0.6, 0.25])
    th = q.classify("theta", [0.3, 1.0, 1.5, 2.0, 2.9], colatitude=True)
    assert th.note == "colatitudes neither equiangular nor Gauss: trapezoid in cos θ"


def test_lobatto_top_coefficients_closed_form():
    n = 7
    g = q.classify("y", q.chebyshev_lobatto_nodes(n, 0.0, 1.0))
    s = 2 * g.nodes - 1
    R = g._top_coefficients()
    for k, row in ((n - 1, 0), (n - 2, 1)):
        Tk = np.cos(k * np.arccos(np.clip(s, -1, 1)))
        np.testing.assert_allclose(R @ Tk, np.eye(2)[row], atol=1e-12)
