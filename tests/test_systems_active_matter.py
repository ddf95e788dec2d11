"""active_matter: the linear theory of the isotropic suspension (derived independently
from the kinetic equation, then measured in Dedalus runs), the activity threshold, the
moment identities tr D = c and tr E = 0, conservation of ∫c, and the tiny dataset
(a saturated, aligned state; the validator's trace checks on it)."""

import shutil

import h5py
import numpy as np
import pytest
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory
from wellforge.generators.systems.active_matter import BETA, D_R, D_T, growth_rates
from wellforge.schema.dataset import SPLITS, split_files

NAME = "active_matter"
L = 10.0
K_MIN = 2 * np.pi / L


def kinetic_rates(alpha, zeta, kvec, n_theta=32, beta=BETA, d_T=D_T, d_R=D_R):
    """Eigenvalues of the Smoluchowski equation linearised about ψ0 = 1/(2π), u = 0, for
    ψ' ∝ exp(i k.x) (collocation in θ; no closure: the moments of ψ' are exact):

        ∂t ψ' = -d_T k² ψ' + d_R ∂θ² ψ' - ψ0 ∂θ θ̇',  θ̇' = p⊥·(∇u'ᵀ + 2ζ D')·p,
        (1 + β/8) k² û = (I - k̂k̂)·(i Σ̂'·k),  Σ' = α(D' - c'I/2) - 2ζβ(D'/4 - c'I/8),

    the last from Σ = α(D - cI/2) + βS:E - 2ζβ(D·D - S:D) with S0:X = (tr X I + 2X)/8
    (the isotropic fourth moment), so (D·D - S:D)' = D'/4 - c'I/8 and βS0:E' = βE'/4,
    whose divergence is the (β/8)∇²u' on the left."""
    N = n_theta
    th = 2 * np.pi * np.arange(N) / N
    w = 2 * np.pi / N
    m = np.fft.fftfreq(N, 1 / N)
    m[N // 2] = 0
    F = np.fft.fft(np.eye(N), axis=0)
    Dth = np.real(np.fft.ifft(1j * m[:, None] * F, axis=0))
    Dthth = np.real(np.fft.ifft(-(m**2)[:, None] * F, axis=0))
    p = np.stack([np.cos(th), np.sin(th)])
    pperp = np.stack([-np.sin(th), np.cos(th)])
    k = np.asarray(kvec, dtype=float)
    kk = k @ k
    P = np.eye(2) - np.outer(k, k) / kk
    A = np.zeros((N, N), dtype=complex)
    for j in range(N):  # column j: the response to ψ' = δ_j
        psi = np.zeros(N)
        psi[j] = 1.0
        c1 = w * psi.sum()
        D1 = w * np.einsum("in,jn,n->ij", p, p, psi)
        sigma = alpha * (D1 - c1 * np.eye(2) / 2) - 2 * zeta * beta * (
            D1 / 4 - c1 * np.eye(2) / 8)
        u = P @ (1j * sigma @ k) / ((1 + beta / 8) * kk)
        T = np.outer(u, 1j * k).T + 2 * zeta * D1  # (∇u)ᵀ_ab = ∂_b u_a = i k_b u_a
        thdot = np.einsum("in,ij,jn->n", pperp, T, p)
        A[:, j] = -d_T * kk * psi + d_R * Dthth @ psi - Dth @ thdot / (2 * np.pi)
    return np.linalg.eigvals(A)


@pytest.mark.parametrize("alpha,zeta,mode", [(-1.0, 1.0, (1, 0)), (-5.0, 17.0, (1, 1)),
                                             (-3.0, 0.0, (2, -1)), (2.0, 0.1, (0, 1)),
                                             (-0.9, 0.0, (1, 0))])
def test_dispersion_relation_is_the_kinetic_theorys(alpha, zeta, mode):
    """growth_rates (the shear, splay and concentration branches, derived from the moment
    equations) are eigenvalues of the linearised kinetic equation, and the largest of
    them is its least stable mode (the m = ±1, ±4, ... angular modes decay faster)."""
    kvec = K_MIN * np.array(mode, dtype=float)
    ev = kinetic_rates(alpha, zeta, kvec)
    rates = growth_rates(alpha, zeta, float(np.hypot(*kvec)))
    for r in rates.values():
        assert np.min(np.abs(ev - r)) < 1e-10
    assert np.max(ev.real) == pytest.approx(max(rates.values()), abs=1e-10)


def simulate(tmp_path, alpha, zeta, ic, res=8, dt_out=0.5, n_frames=11, seed=0):
    spec = RunSpec("test", 0, NAME, NAME, {"L": L, "zeta": zeta, "alpha": alpha}, ic, seed,
                   (res, res), (res, res), 0.0, dt_out, n_frames)
    path = str(tmp_path / f"am_{len(list(tmp_path.iterdir()))}.hdf5")
    assert run_trajectory(get_system(NAME), spec, path, progress=False).status == "done"
    with h5py.File(path) as f:
        return (f["dimensions/time"][()].astype(np.float64),
                f["t2_fields/D"][0].astype(np.float64),
                f["t0_fields/concentration"][0].astype(np.float64))


def plane_wave_rate(tmp_path, alpha, zeta, mode, branch, T=5.0, amplitude=1e-4):
    """The growth rate of D's plane-wave eigenvector q (shear: k̂k̂⊥ + k̂⊥k̂, splay:
    k̂k̂ - k̂⊥k̂⊥) at wavevector 2π mode/L, started at ``amplitude`` about c = 1,
    D = I/2: the least-squares slope of log |Σ_ij q_ij D̂_ij(k)| over the stored frames."""
    ic = {"ic": "plane_wave", "amplitude": amplitude, "mode_x": mode[0], "mode_y": mode[1],
          "branch": branch}
    t, D, _ = simulate(tmp_path, alpha, zeta, ic, dt_out=T / 10)
    n = np.array(mode, float) / np.hypot(*mode)
    m_ = np.array([-n[1], n[0]])
    q = np.outer(n, m_) + np.outer(m_, n) if branch == "shear" else \
        np.outer(n, n) - np.outer(m_, m_)
    Dk = np.fft.fft2(D, axes=(1, 2))[:, mode[0] % 8, mode[1] % 8]
    amp = np.abs(np.einsum("ij,tij->t", q, Dk))
    return np.polyfit(t, np.log(amp), 1)[0], float(np.hypot(*mode)) * K_MIN


@pytest.mark.parametrize("alpha,zeta,mode,branch", [
    (-3.0, 0.0, (1, 0), "shear"),   # extensile, no alignment: σ = 0.462
    (-1.0, 1.0, (1, 1), "shear"),   # a Well cell, oblique wave: σ = 1.081
    (-1.0, 1.0, (1, 0), "splay"),   # no flow: σ = ζ - 4 d_R - d_T k² = 0.780
    (2.0, 0.0, (0, 1), "shear"),    # contractile: σ = -0.675
    (-5.0, 17.0, (1, 0), "shear"),  # the Well's dearest cell: σ = 19.46, σ dt = 0.085
])
def test_growth_rate_matches_linear_theory(tmp_path, alpha, zeta, mode, branch):
    """Within 1 % (the largest error, 0.5 %, is the Well corner's: SBDF2 at the preset's
    step 0.1/(1 + ζ + |α|), over 0.3 time units from amplitude 1e-5)."""
    fast = zeta > 10
    rate, k = plane_wave_rate(tmp_path, alpha, zeta, mode, branch, T=0.3 if fast else 5.0,
                              amplitude=1e-5 if fast else 1e-4)
    assert rate == pytest.approx(growth_rates(alpha, zeta, k)[branch], rel=0.01)


@pytest.mark.parametrize("alpha", [-0.9, -1.1])
def test_activity_threshold(tmp_path, alpha):
    """At ζ = 0 the isotropic state loses stability where the shear mode of the longest
    wave turns: α_c = -(8 + β)(4 d_R + d_T k²)/2 = -0.9669. Just above it the wave
    decays (σ = -0.0152), just below it grows (σ = +0.0303), at the theory's rate (1 %)."""
    alpha_c = -(8 + BETA) * (4 * D_R + D_T * K_MIN**2) / 2
    assert alpha_c == pytest.approx(-0.96685, abs=1e-5)
    rate, k = plane_wave_rate(tmp_path, alpha, 0.0, (1, 0), "shear", T=10.0)
    expected = growth_rates(alpha, 0.0, k)["shear"]
    assert (rate > 0) == (alpha < alpha_c) and (expected > 0) == (alpha < alpha_c)
    assert rate == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("alpha", [-0.5, -2.0])
def test_threshold_sides_from_the_wells_random_ic(tmp_path, alpha):
    """The Well's IC (products cos(k1 x) cos(k2 y), k1, k2 ∈ 1..8, with all angular
    harmonics of cos^(i+1)) at ζ = 0, seed 4 (which seeds an unstable long wave): the
    anisotropy ‖D - cI/2‖ decays on the stable side (α = -0.5: every branch of every
    wave decays, 0.015 of its start by t = 20) and grows on the unstable side (α = -2:
    the shear branch of waves with k² < 5.1 grows, up to σ = 0.215 at (1, 1)·2π/L;
    ×13 by t = 20)."""
    _, D, c = simulate(tmp_path, alpha, 0.0, {"ic": "well"}, res=16, dt_out=1.0,
                       n_frames=21, seed=4)
    q = D - c[..., None, None] * np.eye(2) / 2
    norm = np.sqrt((q**2).sum(axis=(1, 2, 3, 4)))
    ratio = norm[-1] / norm[0]
    assert ratio < 0.1 if alpha > -0.9669 else ratio > 5


# -- the tiny dataset: a saturated state, and the identities in every stored frame --------

def tiny_frames(root):
    for split in SPLITS:
        for p in split_files(root, split):
            with h5py.File(p) as f:
                yield (p, f["t0_fields/concentration"][()].astype(np.float64),
                       f["t1_fields/velocity"][()].astype(np.float64),
                       f["t2_fields/D"][()].astype(np.float64),
                       f["t2_fields/E"][()].astype(np.float64))


def test_tiny_reaches_an_aligned_flowing_state(tiny):
    """From the Well's IC (anisotropy s ≈ 0.03, |u| ≈ 0.005) every trajectory saturates:
    by t = 20 the rods are nearly aligned somewhere (s > 0.9) and stirred (|u| > 0.3),
    and D stays a second moment (positive definite)."""
    for p, c, u, D, _ in tiny_frames(tiny(NAME)):
        s = np.sqrt((D[..., 0, 0] - D[..., 1, 1]) ** 2 + 4 * D[..., 0, 1] ** 2) / c
        assert (s[:, 0].max(axis=(1, 2)) < 0.05).all(), p
        assert (s[:, -1].max(axis=(1, 2)) > 0.9).all(), p
        assert (np.abs(u[:, -1]).max(axis=(1, 2, 3)) > 0.3).all(), p
        assert ((1 - s) / 2).min() > 0, p


def test_trace_identities_and_conserved_concentration_in_every_stored_frame(tiny):
    """tr D = c and tr E = 0 to float32 rounding (the trace of the D equation is the c
    equation; tr E = ∇·u); the mean of c constant to float32 rounding (mean 1)."""
    for p, c, _, D, E in tiny_frames(tiny(NAME)):
        assert np.abs(D[..., 0, 0] + D[..., 1, 1] - c).max() < 4 * 2.0**-24 * 2, p
        assert np.abs(E[..., 0, 0] + E[..., 1, 1]).max() < 1e-6 * np.abs(E).max(), p
        mean = c.mean(axis=(2, 3))
        assert np.abs(mean - 1).max() < 1e-6, p
        assert np.abs(mean - mean[:, :1]).max() < 1e-7, p
        assert c[:, 0].std(axis=(1, 2)).min() > 5e-3  # c is not trivially constant


def _validate(path):
    from wellforge.validate.context import Options
    from wellforge.validate.runner import validate

    return validate([path], Options())


def test_the_validators_trace_checks_see_a_broken_identity(tiny, tmp_path):
    """WF417 on the tiny data: D_xx changed by 1e-4 cos(2πx/L) in one frame (tr D - c of
    RMS 7.1e-5 of c's) and E_xx by 1 % of max|E| times the same wave in another (|tr E|
    up to 1e-2 of max|E|) are each found, at their frames, and nothing else is (the
    spatial means do not move)."""
    src = split_files(tiny(NAME), "train")[0]
    dst = str(tmp_path / "broken.hdf5")
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        D, E = f["t2_fields/D"], f["t2_fields/E"]
        wave = np.cos(2 * np.pi * f["dimensions/x"][()] / L)[:, None]
        d = D[0, 30]
        d[..., 0, 0] += 1e-4 * wave
        D[0, 30] = d
        e = E[0, 50]
        e[..., 0, 0] += 1e-2 * np.abs(e).max() * wave
        E[0, 50] = e
    rep = _validate(dst)
    found = sorted((f.code, f.object, f.observed["frame"]) for f in rep.findings)
    assert found == [("WF417", "/t2_fields/D", 30), ("WF417", "/t2_fields/E", 50)]
    rel = {f.object: f.observed["relative"] for f in rep.findings}
    assert rel["/t2_fields/E"] == pytest.approx(1e-2, rel=0.05)
    assert 0.5 < rel["/t2_fields/D"] / 7.07e-5 < 2  # a sketch's estimate of the RMS


def test_trace_invariants_in_cards_load_and_lint():
    """The shipped Well card and this system's card declare tr D = concentration and a
    traceless E; a card whose trace names a vector, a traceless scalar or an unknown
    field is refused (unknown) or warned about, one line each."""
    import yaml
    from wellforge.errors import ConfigError
    from wellforge.schema.cardfile import card_from_mapping, card_to_mapping
    from wellforge.validate.cards import builtin_card, card_from_data, lint

    for card in (builtin_card(NAME).card, get_system(NAME).card):
        kinds = {(v.kind, v.field, v.equals) for v in card.invariants}
        assert {("trace", "D", "concentration"), ("traceless", "E", None)} <= kinds
    d = yaml.safe_load(yaml.safe_dump(card_to_mapping(get_system(NAME).card)))
    d["invariants"] = [{"kind": "trace", "field": "D", "equals": "velocity", "tolerance": 1e-5},
                       {"kind": "traceless", "field": "concentration", "tolerance": 1e-5}]
    warnings = [m for lvl, m in lint(card_from_data(d, "card")) if lvl == "warning"]
    assert warnings == [
        "trace of 'D' equals 'velocity', a t1 field (a trace is a scalar: give a t0 field)",
        "traceless on 'concentration', a t0 field (only t2 fields are checked)"]
    d["invariants"][0]["equals"] = "nothing"
    with pytest.raises(ConfigError, match=r"invariants\[0\]\.equals: 'nothing' is not a field"):
        card_from_mapping(d)
