"""The 2-D Bingham closure of the orientation moments, pointwise and robust.

Given the second moment D = c Q (tr Q = 1) of an orientation distribution, the Bingham
closure takes the distribution ψ_B(θ) ∝ exp(B:pp) whose second moment is D and returns its
fourth moment S = ∫pppp ψ_B dθ. In the eigenframe of Q, B:pp = const + κ cos 2θ, so with
s = μ1 - μ2 ∈ [0, 1] (the eigenvalue gap of Q) and I_n the modified Bessel functions

    s = I1(κ)/I0(κ),      g(s) := S_1122 / c = (1 - I2(κ)/I0(κ))/8 = s/(4κ),

and S in closed form (q̃ = Q - I/2, q̃:q̃ = s²/2, sym(ab)_ijkl = a_ij b_kl + a_ik b_jl +
a_il b_jk, made symmetric in a and b):

    S = c [A sym(δδ) + (1/6) sym(δq̃) + C sym(q̃q̃)],   C = (1 - 8g)/(3s²), A = 1/8 - C s²/8.

The contractions the active-matter model needs then take one scalar each, g and
h := (1 - 8g)/s² (E traceless and symmetric):

    D·D - S:D = 2 g c² q̃,        S:E = 2 g c E + (D:E)/2 I + h (D:E) q̃.

Evaluation (vectorised, relative error below 1e-12 on [0, 1]):

- s < 0.2: the Taylor series of h in s² (g = (1 - h s²)/8: no cancellation at isotropy);
- μ2 = (1 - s)/2 < 2.5e-3 (near full alignment, κ > 200): the asymptotic series
  g = μ2 - 3μ2² - 6μ2⁴ - 60μ2⁵ - 684μ2⁶ (neglected: O(μ2⁷) and e^(-1/(2μ2)));
- otherwise Newton's method in log κ on i1e(κ)/i0e(κ) = s (exponentially scaled Bessel
  functions: no overflow), started from the two-sided series of κ(s).
"""

from __future__ import annotations

import numpy as np

#: Taylor coefficients of h(s) = (1 - 8 g(s))/s² in powers of s² (exact rationals)
H_SERIES = (1 / 2, 1 / 6, 5 / 48, 7 / 90, 541 / 8640, 2101 / 40320, 254183 / 5806080,
            680963 / 18662400, 22130339 / 746496000)
S_SERIES = 0.2  # below: series
MU2_ASYMPTOTIC = 2.5e-3  # below: the asymptotic series of g in mu2
NEWTON_STEPS = 8


def _h_series(s2: np.ndarray) -> np.ndarray:
    out = np.zeros_like(s2)
    for a in reversed(H_SERIES):
        out = out * s2 + a
    return out


def bingham_kappa(s: np.ndarray) -> np.ndarray:
    """κ with I1(κ)/I0(κ) = s, for 0 < s < 1 (Newton in log κ)."""
    from scipy.special import i0e, i1e

    s = np.asarray(s, dtype=np.float64)
    eps = 1 - s
    # start: small-κ series (s < 0.6) or large-κ series (1/κ = 2ε - ε² - ε³ ...)
    k = np.where(s < 0.6, 2 * s + s**3 + 5 * s**5 / 6,
                 1 / np.maximum(2 * eps - eps**2 - eps**3, 1e-300))
    for _ in range(NEWTON_STEPS):
        a = i1e(k) / i0e(k)
        da = 1 - a / k - a * a  # dA/dκ
        k = k * np.exp(-np.clip((a - s) / (k * da), -1.0, 1.0))
    return k


def bingham_g_h(s) -> tuple[np.ndarray, np.ndarray]:
    """(g, h) of the 2-D Bingham closure at eigenvalue gaps ``s`` (clipped to [0, 1])."""
    s = np.clip(np.asarray(s, dtype=np.float64), 0.0, 1.0)
    g = np.empty_like(s)
    h = np.empty_like(s)
    small = s < S_SERIES
    mu2 = (1 - s) / 2
    aligned = mu2 < MU2_ASYMPTOTIC
    mid = ~(small | aligned)
    s2 = s[small] ** 2
    h[small] = _h_series(s2)
    g[small] = (1 - h[small] * s2) / 8
    m = mu2[aligned]
    g[aligned] = m - 3 * m**2 - 6 * m**4 - 60 * m**5 - 684 * m**6
    h[aligned] = (1 - 8 * g[aligned]) / s[aligned] ** 2
    if mid.any():
        k = bingham_kappa(s[mid])
        g[mid] = s[mid] / (4 * k)
        h[mid] = (1 - 2 * s[mid] / k) / s[mid] ** 2
    return g, h


def eigen_gap(Dxx, Dxy, Dyy, c):
    """s = μ1 - μ2 of Q = D/c (2 × 2 symmetric, tr Q = 1): sqrt((Qxx - Qyy)² + 4 Qxy²)."""
    return np.sqrt((Dxx - Dyy) ** 2 + 4 * Dxy**2) / c


def fourth_moment(D: np.ndarray, c) -> np.ndarray:
    """The closure's S_ijkl (for checks and diagnostics), D of shape (..., 2, 2)."""
    c = np.asarray(c, dtype=np.float64)
    Q = D / c[..., None, None]
    I2 = np.eye(2)
    q = Q - I2 / 2
    s = eigen_gap(D[..., 0, 0], D[..., 0, 1], D[..., 1, 1], c)
    g, h = bingham_g_h(s)
    C = h / 3
    A = 1 / 8 - C * s**2 / 8

    def sym(a, b):
        t = (np.einsum("...ij,...kl->...ijkl", a, b) + np.einsum("...ik,...jl->...ijkl", a, b)
             + np.einsum("...il,...jk->...ijkl", a, b))
        return t + (np.einsum("...ij,...kl->...ijkl", b, a)
                    + np.einsum("...ik,...jl->...ijkl", b, a)
                    + np.einsum("...il,...jk->...ijkl", b, a))

    dd = np.broadcast_to(I2, Q.shape)
    S = (A[..., None, None, None, None] * sym(dd, dd) / 2
         + sym(dd, q) / 6 + C[..., None, None, None, None] * sym(q, q) / 2)
    return c[..., None, None, None, None] * S
