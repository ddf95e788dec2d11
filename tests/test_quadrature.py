"""Quadrature, spectral derivatives, wall extrapolation and grid detection
(``validate.quadrature``) against exact integrals and derivatives of analytic fields, on
every grid kind: uniform periodic, Chebyshev (Gauss and Lobatto), uniform with walls,
cell centres, and the sphere (equiangular and Gauss colatitudes).

The data are rounded to float32 first, as stored; bounds are in units of
EPS32 = 1.19e-7.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from wellforge.validate import quadrature as q

EPS32 = 2.0**-23  # float32 machine epsilon (a literal, not the module's constant)

f32 = np.float32


def integral(g: q.AxisGrid, values) -> float:
    return float(np.dot(g.weights, np.asarray(values, dtype=np.float64)))


# -- 1-D rules ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [5, 8, 16, 33, 128])
def test_fejer_and_clenshaw_curtis_exact_for_polynomials(n):
    """Both rules integrate x^k exactly for k <= n - 1 (to float64 rounding)."""
    for rule in (q.fejer1, q.clenshaw_curtis):
        x, w = rule(n)
        for k in range(n):
            exact = 0.0 if k % 2 else 2.0 / (k + 1)
            assert abs(np.dot(w, x ** k) - exact) < 1e-13 * n, (rule.__name__, n, k)


def test_periodic_trapezoid_exact_for_trig_polynomials():
    """Uniform periodic grid: the rectangle rule is exact for band-limited functions; on
    float32 data the error is float32 rounding only."""
    n, L = 64, 3.0
    x = (L * np.arange(n) / n).astype(f32)
    g = q.classify("x", x, periodic=True)
    assert g.kind == q.FOURIER and g.period == pytest.approx(L, rel=1e-6)
    k = 2 * np.pi / L
    f = 2.5 + np.cos(5 * k * g.nodes) + 0.3 * np.sin(31 * k * g.nodes) ** 2  # modes <= 62 < n
    exact = L * (2.5 + 0.15)
    assert abs(integral(g, f.astype(f32)) - exact) <= 4 * EPS32 * exact


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (-1.0, 1.0), (0.25, 3.0)])
def test_chebyshev_gauss_grid_integrals(bounds):
    """Dedalus's ChebyshevT grid (walls not grid points): detected from float32
    coordinates with its walls, and Fejér's rule integrates a smooth function to
    float32 precision and a polynomial of degree n - 1 exactly."""
    lo, hi = bounds
    n = 24
    y = q.chebyshev_gauss_nodes(n, lo, hi).astype(f32)
    g = q.classify("y", y)
    assert g.kind == q.CHEBYSHEV and (g.lo, g.hi) == (lo, hi)
    assert g.weights.sum() == pytest.approx(hi - lo, rel=1e-14)
    f = np.exp(g.nodes) * np.cos(3 * g.nodes)
    F = lambda t: np.exp(t) * (np.cos(3 * t) + 3 * np.sin(3 * t)) / 10
    exact = F(hi) - F(lo)
    scale = np.abs(f).max() * (hi - lo)
    err = abs(integral(g, f.astype(f32)) - exact)
    assert err <= 4 * EPS32 * scale, err / scale
    p = np.polynomial.Polynomial(np.arange(1, n + 1) / n)  # degree n - 1
    P = p.integ()
    assert abs(integral(g, p(g.nodes)) - (P(hi) - P(lo))) <= 1e-12 * abs(P(hi) - P(lo))


def test_lobatto_grid_integral_and_walls_on_the_grid():
    n = 17
    y = q.chebyshev_lobatto_nodes(n, -1, 1).astype(f32)
    g = q.classify("y", y)
    assert g.kind == q.LOBATTO
    f = np.cosh(g.nodes)
    assert abs(integral(g, f.astype(f32)) - 2 * np.sinh(1)) <= 4 * EPS32 * 2 * np.cosh(1)
    E, _, lam = g.wall_operator()
    assert lam == pytest.approx(1.0, abs=1e-12)  # the walls are nodes
    np.testing.assert_allclose(E @ f, np.cosh([-1.0, 1.0]), rtol=1e-14)


def test_cells_and_uniform_walls():
    """Cell centres (finite volumes): midpoint rule; walls half a cell outside, by
    cubic extrapolation with an error estimate that bounds the actual error."""
    n = 64
    xc = ((np.arange(n) + 0.5) / n).astype(f32)
    g = q.classify("x", xc, bounds=(0.0, 1.0))
    assert g.kind == q.CELLS
    f = np.sin(2 * g.nodes)
    assert abs(integral(g, f) - (1 - np.cos(2)) / 2) < 1.1 * (1 / n) ** 2 / 24 * 4
    E, R, _ = g.wall_operator()
    err = np.abs(E @ f - np.sin([0.0, 2.0]))
    assert np.all(err <= np.abs(R @ f) + 1e-12) and err.max() < 1e-6
    xu = np.linspace(0, 1, 33).astype(f32)
    gu = q.classify("x", xu, bounds=(0.0, 1.0))
    assert gu.kind == q.UNIFORM and gu.has_walls
    assert q.classify("x", xu).lo is None  # without a card the walls are unknown


# -- derivatives -------------------------------------------------------------------------

def test_fourier_derivative_to_float32_precision():
    n, L = 128, 2 * np.pi
    g = q.classify("x", (L * np.arange(n) / n).astype(f32), periodic=True)
    f = (np.sin(3 * g.nodes) + 0.5 * np.cos(17 * g.nodes)).astype(f32)
    d = g.derivative(f[None], 1)[0]
    exact = 3 * np.cos(3 * g.nodes) - 8.5 * np.sin(17 * g.nodes)
    # float32 rounding noise differentiated up to the largest wavenumber n/2
    assert np.abs(d - exact).max() <= 8 * EPS32 * (n / 2) * 1.5


def test_chebyshev_dct_derivative_matches_the_matrix():
    """Above DCT_MIN nodes the Chebyshev derivative goes through DCTs (O(n log n)): the
    same as the differentiation matrix to float32 rounding × n²."""
    for n in (25, 64, 128):
        g = q.classify("y", q.chebyshev_gauss_nodes(n, -1.0, 3.0)[::-1].astype(f32))
        f = (np.cos(2 * g.nodes) * np.exp(g.nodes / 4)).astype(f32)
        d = g._dct_derivative(np.stack([f, 2 * f])[None], 2)[0]
        ref = q.diff_matrix(g.nodes) @ f.astype(np.float64)
        k_max = 2 * n**2 / 4.0  # the largest slope of a degree-n polynomial on [-1, 3]
        assert np.abs(d[0] - ref).max() <= 8 * EPS32 * k_max
        assert np.abs(d[1] - 2 * ref).max() <= 16 * EPS32 * k_max


def test_chebyshev_derivative_and_wall_extrapolation():
    n = 32
    g = q.classify("y", q.chebyshev_gauss_nodes(n, 0.0, 2.0).astype(f32))
    y = g.nodes
    f = np.exp(-y) * np.sin(4 * y)
    d = g.derivative(f.astype(f32)[None], 1)[0]
    exact = np.exp(-y) * (4 * np.cos(4 * y) - np.sin(4 * y))
    k_max = 2 * n**2 / 2.0  # rounding × the largest resolved slope (Markov: 2n²/(hi - lo))
    assert np.abs(d - exact).max() <= 8 * EPS32 * k_max
    E, R, lam = g.wall_operator()
    walls = E @ f.astype(f32).astype(np.float64)
    np.testing.assert_allclose(walls, [0.0, np.exp(-2) * np.sin(8)], atol=16 * EPS32 * lam)
    # a polynomial of degree n - 1 is extrapolated exactly, and its tail rows see a_{n-1}
    c = np.zeros(n)
    c[[0, 3, n - 1]] = [1.0, -2.0, 1e-3]
    s = 2 * y / 2.0 - 1
    vals = np.polynomial.chebyshev.chebval(s, c)
    np.testing.assert_allclose(E @ vals, np.polynomial.chebyshev.chebval([-1, 1], c),
                               atol=1e-12)
    assert abs(R @ vals)[0] == pytest.approx(1e-3, rel=1e-9)


def test_tau_projector_removes_only_the_top_chebyshev_u_modes():
    n = 16
    g = q.classify("y", q.chebyshev_gauss_nodes(n, 0, 1).astype(f32))
    s = 2 * g.nodes - 1
    smooth = np.cos(2 * s) + s ** 3
    U = np.polynomial.chebyshev.Chebyshev.basis(1)  # build U_{n-1} from its T expansion
    coef = np.zeros(n)
    coef[n - 1::-2] = 2.0  # U_{n-1} = 2 Σ T_k over k ≡ n-1 (mod 2) (n-1 odd: no T_0 term)
    tau = np.polynomial.chebyshev.chebval(s, coef)
    del U
    out = g.remove_tau((smooth + 0.3 * tau).astype(f32)[None], 1)[0]
    # what is left is the smooth part, minus its own (tiny) projection on U_{n-1}, U_{n-2}
    assert np.abs(out - smooth).max() < 1e-5


def _divergence_2d(axes, u, v):
    from types import SimpleNamespace

    from wellforge.validate.checks.invariants import _div_mixed

    x = np.stack([u, v], axis=-1).astype(f32)[None]
    return _div_mixed(x, SimpleNamespace(axes=axes, memo={}))


@pytest.mark.parametrize("grid", ["fourier", "chebyshev", "chebyshev-dct"])
def test_divergence_of_analytic_fields(grid):
    """A solenoidal field (u, v) = (∂y ψ, −∂x ψ) has ‖div‖/‖∇u‖ at float32 rounding; the
    gradient of a potential has the exact divergence ∇²φ (norm checked against the
    analytic value)."""
    n = 48
    gx = q.classify("x", (2 * np.pi * np.arange(n) / n).astype(f32), periodic=True)
    if grid == "fourier":
        gy = q.classify("y", (2 * np.pi * np.arange(n) / n).astype(f32), periodic=True)
    else:
        gy = q.classify("y", q.chebyshev_gauss_nodes(40, -1.0, 1.0).astype(f32))
        if grid == "chebyshev-dct":
            gy.derivative = lambda a, axis, g=gy, **kw: g._dct_derivative(a, axis)
            gy.fold_order = lambda: None  # the DCT path works in storage order
    X, Y = np.meshgrid(gx.nodes, gy.nodes, indexing="ij")
    # psi = sin(2x) cos(3y) + cos(x) sin(y)
    u = -3 * np.sin(2 * X) * np.sin(3 * Y) + np.cos(X) * np.cos(Y)
    v = -2 * np.cos(2 * X) * np.cos(3 * Y) + np.sin(X) * np.sin(Y)
    div, grad, _ = _divergence_2d([gx, gy], u, v)
    assert div[0] / grad[0] < (2e-6 if grid == "fourier" else 4e-5)
    # phi = cos(2x) sin(y): u = ∇phi, div = -5 phi, ‖div‖ = 5 ‖phi‖ (mean-square norm)
    phi = np.cos(2 * X) * np.sin(Y)
    div, _, _ = _divergence_2d([gx, gy], -2 * np.sin(2 * X) * np.sin(Y),
                                     np.cos(2 * X) * np.cos(Y))
    W = q.mean_weights([gx, gy]).reshape(X.shape)
    want = 5 * np.sqrt((W * phi ** 2).sum())
    assert div[0] == pytest.approx(want, rel=2e-5)


# -- the sphere ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["equiangular", "gauss"])
def test_sphere_area_mean(kind):
    """sin θ weights: the area mean of 1 + cos²θ + sin²θ cos 2φ + Y_3^0 is 4/3 exactly
    (degree < n), on equiangular (Fejér) and Gauss (Gauss–Legendre) colatitudes,
    stored descending like Dedalus and the Well."""
    nt, nphi = 32, 64
    th = (q.equiangular_colatitudes(nt, ascending=False) if kind == "equiangular"
          else q.gauss_colatitudes(nt, ascending=False)).astype(f32)
    gt = q.classify("theta", th, colatitude=True)
    gp = q.classify("phi", (2 * np.pi * np.arange(nphi) / nphi).astype(f32), periodic=True)
    assert gt.kind == (q.EQUIANGULAR if kind == "equiangular" else q.GAUSS)
    T, P = np.meshgrid(gt.nodes, gp.nodes, indexing="ij")
    mu = np.cos(T)
    f = 1 + mu ** 2 + np.sin(T) ** 2 * np.cos(2 * P) + (5 * mu ** 3 - 3 * mu)
    W = q.mean_weights([gt, gp])
    mean = float(np.dot(W, f.astype(f32).astype(np.float64).ravel()))
    assert abs(mean - 4 / 3) <= 4 * EPS32 * 4


def test_sphere_divergence_is_spectral():
    """div of ∇ψ is ∇²ψ = -l(l+1)ψ (ψ = Y_1^0, Y_2^1 forms); div of r̂×∇ψ is 0.

    The transforms are float32: the FFT derivative of the 2n-point extension carries the
    float32 rounding times its largest wavenumber n (8 ε32 n max|u|, the bound of
    ``test_fourier_derivative_to_float32_precision``), and the division by sin θ grows
    it by at most 1/sin θ_min = 1/sin(π/2n) at the rows next to the poles. Here max|u| =
    1; a second-order scheme would be off by ~(π/n)² ≈ 2e-2, a hundred times the bound."""
    nt, nphi = 24, 48
    bound = 8 * EPS32 * nt / np.sin(np.pi / (2 * nt))
    gt = q.classify("theta", q.equiangular_colatitudes(nt, ascending=False).astype(f32),
                    colatitude=True)
    T, P = np.meshgrid(gt.nodes, 2 * np.pi * np.arange(nphi) / nphi, indexing="ij")
    for psi, dth, dph, l in (
            (np.cos(T), -np.sin(T), 0 * T, 1),
            (np.sin(T) * np.cos(T) * np.cos(P), np.cos(2 * T) * np.cos(P),
             -np.sin(T) * np.cos(T) * np.sin(P), 2)):
        ut, up = dth, dph / np.sin(T)  # ∇ψ = (∂θψ, ∂φψ / sin θ)
        a, b = q.sphere_divergence(ut.astype(f32), up.astype(f32), gt, 0, 1)
        assert a.dtype == b.dtype == f32
        err = np.abs(a + b + l * (l + 1) * psi).max()
        assert err < bound, (l, err)
        a, b = q.sphere_divergence((-up).astype(f32), ut.astype(f32), gt, 0, 1)  # r̂ × ∇ψ
        assert np.abs(a + b).max() < bound


# -- grid detection -----------------------------------------------------------------------

def test_grid_detection():
    n = 20
    assert q.classify("x", np.arange(n, dtype=f32) / n, periodic=True).kind == q.FOURIER
    closed = q.classify("x", np.linspace(0, 1, n).astype(f32), periodic=True,
                        bounds=(0.0, 1.0))
    assert closed.kind == q.FOURIER_CLOSED  # repeats the first point
    assert q.classify("y", q.chebyshev_gauss_nodes(n, 0, 1)[::-1].astype(f32)).kind == \
        q.CHEBYSHEV  # descending
    bumpy = np.sort(np.random.default_rng(1).uniform(0, 1, n)).astype(f32)
    g = q.classify("y", bumpy)
    assert g.kind == q.NONUNIFORM and g.weights.sum() == pytest.approx(bumpy[-1] - bumpy[0])
    assert q.classify("theta", np.linspace(0.1, 3.0, n).astype(f32),
                      colatitude=True).kind == q.NONUNIFORM
    assert math.isclose(q.fejer1(7)[1].sum(), 2.0)


def test_uniform_grid_with_walls_gregory_rule_and_error_estimate():
    """Uniform grid including both walls: Gregory's rule (exact for cubics) and, as its
    error estimate, the difference to the trapezoid, which bounds the actual error."""
    n = 12
    g = q.classify("y", np.linspace(0, 1, n).astype(f32), bounds=(0.0, 1.0))
    assert g.kind == q.UNIFORM and g.alt_weights is not None
    y = g.nodes
    assert abs(integral(g, 1 + y - 2 * y ** 3) - 1.0) < 1e-12
    f = np.exp(3 * y)
    exact = (np.exp(3) - 1) / 3
    err = abs(integral(g, f) - exact)
    estimate = abs(integral(g, f) - float(np.dot(g.alt_weights, f)))
    assert err < 1e-3 * exact and err <= estimate


def test_divergence_in_three_periodic_dimensions():
    """A 3-D periodic box (the Well's MHD): the Parseval path, D = 3."""
    from types import SimpleNamespace

    from wellforge.validate.checks.invariants import _div_mixed

    n = 16
    g = [q.classify(d, (2 * np.pi * np.arange(n) / n).astype(f32), periodic=True)
         for d in "xyz"]
    X, Y, Z = np.meshgrid(*(a.nodes for a in g), indexing="ij")
    # B = curl A with A = (sin z, sin x, sin y): (cos y, cos z, cos x), divergence-free
    B = np.stack([np.cos(Y), np.cos(Z), np.cos(X)], -1).astype(f32)[None]
    div, grad, _ = _div_mixed(B, SimpleNamespace(axes=g, memo={}))
    assert div[0] / grad[0] < 1e-6
    E = np.stack([np.sin(X), np.cos(Z), np.cos(X)], -1).astype(f32)[None]  # div = cos x
    div, _, _ = _div_mixed(E, SimpleNamespace(axes=g, memo={}))
    assert div[0] == pytest.approx(np.sqrt(0.5), rel=1e-5)


# -- physics at read speed (issue 15) ------------------------------------------------------

@pytest.mark.parametrize("kind", ["chebyshev", "lobatto"])
@pytest.mark.parametrize("n", [5, 16, 25, 256])
def test_folded_chebyshev_derivative_is_the_matrix(kind, n):
    """The even-odd folded product (half the flops) is the differentiation matrix to
    float32 rounding: |error| <= 8 ε32 Σ_j |D_ij| |f_j| row by row (the rounding of a
    float32 dot product of length n/2 + 1, twice), real and complex data, either axis."""
    nodes = (q.chebyshev_gauss_nodes if kind == "chebyshev" else q.chebyshev_lobatto_nodes)(
        n, 0.0, 2.0)
    g = q.classify("y", nodes.astype(f32), hint=kind, bounds=(0.0, 2.0))
    assert g.kind == kind
    f = np.random.default_rng(n).standard_normal((3, 7, n)).astype(f32)
    D = q.diff_matrix(g.nodes)
    bound = 8 * EPS32 * (np.abs(f.astype(np.float64)) @ np.abs(D).T)
    d = g.derivative(f, 2)
    assert d.dtype == f32
    assert (np.abs(d - f.astype(np.float64) @ D.T) <= bound).all()
    d1 = g.derivative(np.swapaxes(f, 1, 2).copy(), 1)
    assert (np.abs(np.swapaxes(d1, 1, 2) - f.astype(np.float64) @ D.T) <= bound).all()
    fc = (f + 1j * f[::-1]).astype(np.complex64)
    dc = g.derivative(fc, 2)
    assert dc.dtype == np.complex64
    assert (np.abs(dc - fc.astype(np.complex128) @ D.T) <= 2 * bound + 2 * bound[::-1]).all()


def test_fourier_derivative_stays_float32():
    g = q.classify("x", (2 * np.pi * np.arange(64) / 64).astype(f32), periodic=True)
    assert g.derivative(np.sin(g.nodes).astype(f32)[None], 1).dtype == f32


def test_divergence_split_over_threads_is_the_same():
    """``scratch.over_frames`` splits a block's frames over threads: the same per-frame
    norms as one call (each frame is computed alone; BLAS blocking may round the last bit
    differently, hence 1e-6)."""
    from types import SimpleNamespace

    from wellforge.validate import scratch
    from wellforge.validate.checks.invariants import _div_mixed

    gx = q.classify("x", (2 * np.pi * np.arange(32) / 32).astype(f32), periodic=True)
    gy = q.classify("y", q.chebyshev_gauss_nodes(24, 0.0, 1.0).astype(f32))
    x = np.random.default_rng(1).standard_normal((7, 32, 24, 2)).astype(f32)
    p = SimpleNamespace(axes=[gx, gy], memo={})
    one = _div_mixed(x, p)
    two = scratch.over_frames(lambda y: _div_mixed(y, p), x, 2)
    three = scratch.over_frames(lambda y: _div_mixed(y, p), x, 3)
    for a, b, c in zip(one, two, three):
        assert a.shape == (7,)
        np.testing.assert_allclose(b, a, rtol=1e-6)
        np.testing.assert_allclose(c, a, rtol=1e-6)


def test_divergence_on_two_chebyshev_axes_in_fold_order():
    """Both axes non-periodic (a box with walls; one odd size, with a middle node): the
    components are held in fold order along both; a solenoidal field has ‖div‖/‖∇u‖ at
    float32 rounding, ∇φ has ‖div‖ = ‖∇²φ‖ (quadrature-weighted)."""
    gx = q.classify("x", q.chebyshev_gauss_nodes(21, 0.0, 2.0).astype(f32))
    gy = q.classify("y", q.chebyshev_lobatto_nodes(24, -1.0, 1.0).astype(f32), hint="lobatto",
                    bounds=(-1.0, 1.0))
    assert gx.fold_order() is not None and gy.fold_order() is not None
    X, Y = np.meshgrid(gx.nodes, gy.nodes, indexing="ij")
    # psi = sin(x) cos(y): u = ∂y psi, v = -∂x psi
    div, grad, _ = _divergence_2d([gx, gy], -np.sin(X) * np.sin(Y), -np.cos(X) * np.cos(Y))
    assert div[0] / grad[0] < 1e-5
    # phi = sin(x) sin(y): div ∇phi = -2 phi
    div, _, _ = _divergence_2d([gx, gy], np.cos(X) * np.sin(Y), np.sin(X) * np.cos(Y))
    W = q.mean_weights([gx, gy]).reshape(X.shape)
    want = 2 * np.sqrt((W * (np.sin(X) * np.sin(Y)) ** 2).sum())
    assert div[0] == pytest.approx(want, rel=1e-4)


def test_into_fold_order_is_the_fold_permutation():
    for n in (4, 5, 24, 25):
        g = q.classify("y", q.chebyshev_gauss_nodes(n, 0.0, 1.0).astype(f32))
        a = np.random.default_rng(n).standard_normal((3, n, 2)).astype(f32)
        want = a[:, g.fold_order()]
        g.into_fold_order(a, 1)
        np.testing.assert_array_equal(a, want)
