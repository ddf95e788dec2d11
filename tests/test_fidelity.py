"""Physics in the developed or nonlinear regime against published numbers (issue 19), at
coarse grids: the anchors of ``bench/fidelity.py`` that a CI budget allows, measured the
bench's way on wellforge's own output files (``run_trajectory``, the path of ``wellforge
generate``). The full table, finer grids and the other systems: bench/RESULTS.md.
"""

import importlib.util
import pathlib

import pytest

pytest.importorskip("dedalus")

_BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench" / "fidelity.py"
_spec = importlib.util.spec_from_file_location("wellforge_bench_fidelity", _BENCH)
fid = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fid)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    monkeypatch.setattr(fid, "TMP", str(tmp_path))
    return tmp_path


def test_kelvin_helmholtz_growth_rate_is_michalkes(scratch):
    """A 2e-5 U single-mode seed of the tanh layer at Michalke's most unstable kδ = 0.4446
    (n_s = 2, m = 1, δ = 0.0708, Re = 1e5) grows at Michalke's inviscid σδ/U = 0.1897 less
    the finite-Re, finite-box and diffusing-base-flow corrections (−1.7 % together, from an
    Orr–Sommerfeld solve of this very profile): within 0.5 % of the corrected value and
    2.5 % of the published one; the billows do not travel (c_r = 0)."""
    row = fid.shear_flow_row([(16, 64)])
    (got,) = row["convergence"]
    expected = row["computed"]["quasi_steady_window_mean"]
    assert got["sigma"] == pytest.approx(expected, rel=5e-3)
    assert got["sigma_delta_over_U"] == pytest.approx(fid.MICHALKE_SIGMA, rel=0.025)
    # the computed correction itself reproduces Michalke for an isolated inviscid layer
    assert row["computed"]["isolated_layer_inviscid_sigma_delta_over_U"] == pytest.approx(
        fid.MICHALKE_SIGMA, abs=2e-4)
    assert got["phase_drift_rad"] < 1e-3
    assert got["final_amplitude"] < 1e-3  # still linear at the end of the window


def test_unperturbed_galewsky_jet_stays_balanced_and_the_bump_does_not(scratch):
    """Forcing and hyperviscosity off, 32 × 64, 5 days: the unperturbed jet is a steady
    state (height, wind and vorticity move by round-off only, no non-zonal energy) whose
    balanced height falls 1086.98 m from pole to pole (Galewsky et al.'s gradient-wind
    balance, by 1-D quadrature); with the 120 m bump the same measure moves by tens of metres
    within 2 days."""
    ref = fid.galewsky_reference()
    assert ref["drop"] == pytest.approx(1086.98, abs=0.01)
    assert ref["pv_max"] == pytest.approx(2.42915e-8, rel=1e-5)
    bal = fid.galewsky_balance((32, 64))
    assert bal["dh_max_m"] < 1e-3 and bal["du_max_ms"] < 1e-6 and bal["dzeta_max"] < 1e-10
    assert bal["nonzonal_fraction"] < 1e-12
    assert bal["drop_m"] == pytest.approx(ref["drop"], rel=0.01)
    assert bal["zeta0_max"] > 0 and bal["zeta0_min"] < 0  # cyclonic north flank, as the jet
    bumped = fid.galewsky_balance((32, 64), hours=48.0, bump=120.0)
    assert bumped["dh_max_m"] > 10.0 and bumped["nonzonal_fraction"] > 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("pattern", ["spots", "maze"])
def test_gray_scott_reaches_the_pattern_its_name_says(scratch, pattern):
    """64², Gaussian-bump IC, t = 600: 'spots' is many (≥ 30) small isolated B components
    without loops, 'maze' a dense network of few large stripes with loops (holes)."""
    d = fid.gray_scott_pattern(pattern, (64, 64), 600.0)
    assert fid.PATTERN_TESTS[pattern](d), d
    other = "maze" if pattern == "spots" else "spots"
    assert not fid.PATTERN_TESTS[other](d), d  # the descriptors tell the two apart


def test_rayleigh_benard_nusselt_at_1e4_is_clever_and_busses(scratch):
    """Ra = 1e4, Pr = 0.71, 4 rolls in Γ = 4 (α = π, Clever & Busse's 3.117): steady Nu from
    both walls and from the volume flux agree within 0.5 % and lie within 1.5 % of
    Clever & Busse's 2.661."""
    (row,) = fid.rayleigh_benard_rows([(1e4, 0.71, [(32, 16)], 80.0, 5.0)])
    (got,) = row["convergence"]
    assert got["rolls"] == [4]
    assert got["steady"] < 1e-3
    nu = 0.5 * (got["Nu_bottom"] + got["Nu_top"])
    assert abs(got["walls_vs_volume"]) < 5e-3
    assert nu == pytest.approx(fid.CLEVER_BUSSE[1e4], rel=0.015)


ANCHORS = {"shear_flow": "Michalke", "rayleigh_benard": "Clever & Busse",
           "kolmogorov_flow": "Chandler & Kerswell", "kuramoto_sivashinsky": "Lyapunov",
           "planetswe": "Galewsky", "gray_scott_reaction_diffusion": "Turing"}


@pytest.mark.parametrize("system", sorted(ANCHORS))
def test_every_card_states_its_anchor_measurement_and_gap(system):
    from wellforge.generators.registry import get_system

    notes = [n for n in get_system(system).card.notes if n.startswith("Fidelity (issue 19")]
    assert len(notes) == 1 and ANCHORS[system] in notes[0]
    assert "measured" in notes[0].lower() and "gap" in notes[0].lower()


def test_the_generated_readme_carries_the_anchor(tiny):
    readme = (pathlib.Path(tiny("rayleigh_benard")) / "README.md").read_text()
    assert "Fidelity (issue 19" in readme and "Clever & Busse" in readme and "2.661" in readme
