"""The 2-D Bingham closure against a direct quadrature of the Bingham distribution.

The reference knows nothing of Bessel functions or series: ψ(θ) ∝ exp(κ cos 2(θ - φ)),
κ found by root-finding on its own trapezoid-rule moment ⟨cos 2(θ - φ)⟩ = s (periodic
integrand: the rule converges exponentially once the step resolves the peak, width
~ 1/sqrt(κ)), and S_ijkl = ∫ p_i p_j p_k p_l ψ dθ by the same rule."""

import numpy as np
import pytest
from scipy.optimize import brentq

from wellforge.generators.systems.bingham import (
    MU2_ASYMPTOTIC,
    S_SERIES,
    bingham_g_h,
    eigen_gap,
    fourth_moment,
)

#: eigenvalue gaps s = μ1 - μ2: isotropy, both sides of each branch switch, near alignment
GAPS = (0.0, 1e-9, 1e-4, 0.05, S_SERIES * (1 - 1e-9), S_SERIES, S_SERIES * (1 + 1e-9), 0.45,
        0.8, 0.97, 1 - 2 * MU2_ASYMPTOTIC * (1 + 1e-9), 1 - 2 * MU2_ASYMPTOTIC,
        1 - 2 * MU2_ASYMPTOTIC * (1 - 1e-9), 0.998, 1 - 1e-4, 1 - 1e-5)


def _nodes(kappa):
    n = 1 << max(10, int(np.ceil(np.log2(48 * np.sqrt(kappa + 1) * 2 * np.pi))))
    return 2 * np.pi * np.arange(n) / n


def _mean_cos2(kappa):
    th = _nodes(kappa)
    w = np.exp(kappa * (np.cos(2 * th) - 1))  # shifted: no overflow
    return (w * np.cos(2 * th)).sum() / w.sum()


def quadrature_S(s, phi, c):
    """(D, S) of the Bingham distribution with eigenvalue gap s, axis φ, mass c."""
    if s == 0:
        kappa = 0.0
    else:
        kappa = brentq(lambda lk: _mean_cos2(np.exp(lk)) - s, -40, 14, xtol=1e-15,
                       rtol=1e-15)
        kappa = np.exp(kappa)
    th = _nodes(kappa)
    w = np.exp(kappa * (np.cos(2 * (th - phi)) - 1))
    w *= c / w.sum()
    p = np.stack([np.cos(th), np.sin(th)])
    pp = (p[:, None] * p[None, :]).reshape(4, -1)
    D = (pp @ w).reshape(2, 2)
    S = ((pp * w) @ pp.T).reshape(2, 2, 2, 2)
    return D, S


@pytest.mark.parametrize("s", GAPS)
def test_fourth_moment_matches_quadrature(s):
    """S[D] of the closure equals the quadrature's S for the same D, entry by entry,
    relative to c, to 5e-14 (the quadrature's own error is ~1e-15; the last terms of the
    near-alignment series are ~1e-13): at isotropy, across the series/Newton/asymptotic
    switches and near full alignment (μ2 = 5e-6, κ ≈ 1e5)."""
    c, phi = 1.3, 0.7
    D, S = quadrature_S(s, phi, c)
    assert eigen_gap(D[0, 0], D[0, 1], D[1, 1], c) == pytest.approx(s, abs=1e-12)
    got = fourth_moment(D[None], np.array([c]))[0]
    assert np.abs(got - S).max() / c < 5e-14
    assert np.abs(np.einsum("ijkk->ij", got) - D).max() < 1e-13  # S:I = D exactly


@pytest.mark.parametrize("s", GAPS)
def test_g_is_accurate_relative_to_itself(s):
    """g = S_1122/c, the small entry that carries the closure near alignment (g ≈ μ2):
    relative error below 1e-11 (plus the conditioning of s → μ2 = (1 - s)/2, a few ε)."""
    _, S = quadrature_S(s, 0.0, 1.0)
    g, _ = bingham_g_h(np.array([s]))
    assert abs(g[0] - S[0, 0, 1, 1]) <= 1e-11 * S[0, 0, 1, 1] + 4e-16


@pytest.mark.parametrize("s", GAPS)
def test_the_model_contractions_equal_those_of_the_quadrature(s):
    """The closed forms the solver uses, D·D - S:D = 2 g c² q̃ and
    S:E = 2 g c E + (D:E) I/2 + h (D:E) q̃, against the quadrature's S contracted
    directly (E symmetric traceless, not aligned with D)."""
    c = 0.9
    D, S = quadrature_S(s, -0.4, c)
    g, h = (float(x[0]) for x in bingham_g_h(np.array([s])))
    E = np.array([[0.3, -1.1], [-1.1, -0.3]])
    q = D / c - np.eye(2) / 2
    DE = np.tensordot(D, E)
    SE = 2 * g * c * E + DE * np.eye(2) / 2 + h * DE * q
    AL = 2 * g * c * c * q
    assert np.abs(SE - np.einsum("ijkl,kl->ij", S, E)).max() < 1e-11
    assert np.abs(AL - (D @ D - np.einsum("ijkl,kl->ij", S, D))).max() < 1e-11


def test_closure_is_finite_smooth_and_monotone_up_to_full_alignment():
    """On a fine grid of s ∈ [0, 1] (and beyond: clipped), g decreases from 1/8 to 0 and
    h rises from 1/2 to 1, both finite, without a jump at the branch switches (the
    jump across each switch is below 1e-12, against a slope of order 1)."""
    s = np.concatenate([np.linspace(0, 1, 200001), [1 + 1e-3, 2.0, -1e-3]])
    g, h = bingham_g_h(s)
    assert np.isfinite(g).all() and np.isfinite(h).all()
    assert g[0] == 0.125 and h[0] == 0.5 and g[200000] == 0 and h[200000] == 1
    assert (np.diff(g[:200001]) < 0).all() and (np.diff(h[:200001]) > 0).all()
    assert g[-3] == g[-2] == 0 and g[-1] == 0.125  # outside [0, 1]: clipped
    for edge in (S_SERIES, 1 - 2 * MU2_ASYMPTOTIC):
        lo, hi = bingham_g_h(np.array([edge * (1 - 1e-13), edge * (1 + 1e-13)]))
        assert abs(lo[1] - lo[0]) < 1e-12 and abs(hi[1] - hi[0]) < 1e-12


def test_near_alignment_g_is_the_small_eigenvalue():
    """As μ2 → 0 the distribution is a narrow peak: S_1122 = g → μ2 (the closure's
    near-singular limit, κ ≈ 1/(4μ2) → ∞), approached from below as μ2 - 3μ2²."""
    mu2 = np.array([1e-3, 1e-5, 1e-8])
    g, _ = bingham_g_h(1 - 2 * mu2)
    assert np.allclose(g, mu2 - 3 * mu2**2, rtol=1e-5, atol=0)
