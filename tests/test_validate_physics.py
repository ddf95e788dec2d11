"""L2 units/cards and L4 physics rules of the validator, mutation-harness style.

Clean data from every generator (small presets, generated once for this module) give no
finding at all; one fault per rule, injected into a copy of a generated file or of an
analytic fixture, makes exactly that rule fire at the right object and region. Analytic
fixtures on Chebyshev and sphere grids prove that conservation is measured with the
grid's quadrature (an unweighted mean of the same data drifts).
"""

from __future__ import annotations

import json
import os
import shutil

import h5py
import numpy as np
import pytest
import yaml
from wellforge.validate.context import Options
from wellforge.validate.runner import validate

from wellforge.cli import main

#: small versions of each generator's tiny preset: one parameter set, 3-4 frames, 3 runs
#: (one per split), no spin-up
SYSTEMS = {
    "shear_flow": ["Reynolds=1e4", "Schmidt=1", "n_frames=4", "resolution=16,32",
                   "stored_resolution=16,32"],
    "rayleigh_benard": ["Rayleigh=1e6", "Prandtl=1", "n_frames=4", "resolution=32,16",
                        "stored_resolution=32,16"],
    "gray_scott_reaction_diffusion": ["F=0.03", "k=0.062", "n_frames=3", "dt_out=2",
                                      "resolution=32,32", "stored_resolution=32,32"],
    "kolmogorov_flow": ["Reynolds=20", "n_frames=4", "resolution=32,32",
                        "stored_resolution=32,32"],
    "kuramoto_sivashinsky": ["L=36", "n_frames=4"],
    "planetswe": ["ic=random", "n_frames=3", "dt_out=0.25", "resolution=12,24",
                  "stored_resolution=12,24"],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("wf_physics_gen")
    for name, sets in SYSTEMS.items():
        args = ["generate", name, "--preset", "tiny", "--out", str(out), "--no-progress",
                "--set", "spinup=0"]
        for s in sets:
            args += ["--set", s]
        assert main(args) == 0, name
    return {name: str(out / name) for name in SYSTEMS}


def train_file(root: str) -> str:
    d = os.path.join(root, "data", "train")
    return os.path.join(d, min(os.listdir(d)))


@pytest.fixture
def copy_of(generated, tmp_path):
    """A private copy of a generated dataset's train file."""
    def make(system: str) -> str:
        dst = tmp_path / f"{system}.hdf5"
        shutil.copy(train_file(generated[system]), dst)
        return str(dst)
    return make


def run(paths, **kw):
    opts = Options(**kw)
    rep = validate([str(p) for p in paths], opts)
    return rep, rep.exit_code(opts.fail_on)


def hits(rep, code):
    return [f for f in rep.findings if f.code == code]


# -- clean data ----------------------------------------------------------------------------

@pytest.mark.parametrize("system", list(SYSTEMS))
def test_clean_generated_data_fires_nothing(generated, system):
    """Every generator's data: no finding at any level, and the run used its card."""
    rep, rc = run([generated[system]])
    assert [(f.code, f.object, f.message) for f in rep.findings] == []
    assert rc == 0
    assert any(f"@wellforge_system = {system!r}" in n["note"] for n in rep.notes)


# -- mutations of generated files ----------------------------------------------------------

def edit(path):
    return h5py.File(path, "r+")


def _frames_offset(f, path, fn):
    """Apply fn(frame_index, array) to every frame of trajectory 0."""
    d = f[path]
    for k in range(d.shape[1]):
        d[0, k] = fn(k, d[0, k])


MUTATIONS = []


def mutation(code, system, obj, *, also=(), name=None):
    def deco(fn):
        MUTATIONS.append(pytest.param(system, fn, code, obj, set(also),
                                      id=f"{code}-{name or fn.__name__}"))
        return fn
    return deco


@mutation("WF200", "shear_flow", "/t0_fields/tracer")
def unparsable_units(p):
    with edit(p) as f:
        f["t0_fields/tracer"].attrs["units"] = "arbitrary units"


@mutation("WF201", "shear_flow", "/t1_fields/velocity", also={"WF202"})
def velocity_in_kelvin(p):
    with edit(p) as f:
        f["t1_fields/velocity"].attrs["units"] = "K"


@mutation("WF202", "kolmogorov_flow", "/t1_fields/velocity", also={"WF201"},
          name="dimensional-coordinates-nondimensional-velocity")
def mixed_units(p):
    with edit(p) as f:
        for d in ("x", "y"):
            f[f"dimensions/{d}"].attrs["units"] = "m"
        f["dimensions/time"].attrs["units"] = "s"


@mutation("WF202", "kolmogorov_flow", "/dimensions/time", also={"WF201"},
          name="time-dimensional-space-not")
def mixed_frame(p):
    with edit(p) as f:
        f["dimensions/time"].attrs["units"] = "s"


@mutation("WF203", "shear_flow", "/scalars/Reynolds", also={"WF201"})
def reynolds_with_units(p):
    with edit(p) as f:
        f["scalars/Reynolds"].attrs["units"] = "m/s"


@mutation("WF208", "rayleigh_benard", "/")
def rayleigh_out_of_range(p):
    with edit(p) as f:
        f.attrs["Rayleigh"] = -5.0


@mutation("WF209", "kolmogorov_flow", "/")
def unknown_system(p):
    """An unknown system and no card embedded: nothing to check the file against."""
    with edit(p) as f:
        f.attrs["wellforge_system"] = "no_such_system"
        del f.attrs["wellforge_card"]


@mutation("WF400", "shear_flow", "/t0_fields/tracer")
def non_periodic_seam(p):
    """A ramp along the periodic x axis: the data of a non-periodic domain."""
    with edit(p) as f:
        x = f["dimensions/x"][()]
        ramp = 0.3 * (x / x.max())[:, None]
        _frames_offset(f, "t0_fields/tracer", lambda k, a: a + ramp)


@mutation("WF402", "rayleigh_benard", "/t1_fields/velocity", name="slip-at-no-slip-wall")
def slip(p):
    """u_x = 0.01 at both walls (a uniform offset): the flow slips."""
    with edit(p) as f:
        _frames_offset(f, "t1_fields/velocity", lambda k, a: a + np.array([0.01, 0.0]))


@mutation("WF402", "rayleigh_benard", "/t0_fields/buoyancy", name="wrong-wall-temperature")
def hot_wall(p):
    """b(y = 0) = 1.02 instead of 1 (a uniform offset)."""
    with edit(p) as f:
        _frames_offset(f, "t0_fields/buoyancy", lambda k, a: a + 0.02)


@mutation("WF410", "shear_flow", "/t0_fields/tracer")
def tracer_mean_drift(p):
    """The tracer's mean drifts linearly by 1e-3 over the trajectory."""
    with edit(p) as f:
        n = f["t0_fields/tracer"].shape[1]
        _frames_offset(f, "t0_fields/tracer", lambda k, a: a + 1e-3 * k / (n - 1))


@mutation("WF410", "planetswe", "/t0_fields/height", name="sphere-mass-drift")
def height_drift(p):
    with edit(p) as f:
        rms = float(np.sqrt(np.mean(f["t0_fields/height"][0, 1].astype(np.float64) ** 2)))
        _frames_offset(f, "t0_fields/height", lambda k, a: a + 1e-3 * rms * k)


@mutation("WF411", "kolmogorov_flow", "/t0_fields/pressure")
def pressure_gauge(p):
    with edit(p) as f:
        _frames_offset(f, "t0_fields/pressure", lambda k, a: a + 0.05 * np.abs(a).max())


@mutation("WF412", "kolmogorov_flow", "/t1_fields/velocity", name="divergent-fourier")
def divergent_fourier(p):
    """u_x += 0.05 max|u| sin(x): ∂x u_x ≠ 0 (mean momentum unchanged)."""
    with edit(p) as f:
        x = f["dimensions/x"][()]
        _frames_offset(f, "t1_fields/velocity", lambda k, a: a + np.stack(
            [0.05 * np.abs(a).max() * np.sin(x)[:, None] * np.ones(a.shape[1]),
             np.zeros(a.shape[:2])], axis=-1))


@mutation("WF412", "rayleigh_benard", "/t1_fields/velocity", name="divergent-chebyshev")
def divergent_chebyshev(p):
    """u_y += ε y (1 - y): zero at the walls (no WF402), ∂y u_y = ε (1 - 2y)."""
    with edit(p) as f:
        y = f["dimensions/y"][()]
        prof = y * (1 - y)
        _frames_offset(f, "t1_fields/velocity", lambda k, a: a + np.stack(
            [np.zeros(a.shape[:2]), 0.05 * np.abs(a).max() * np.ones(a.shape[0])[:, None]
             * prof], axis=-1))


@pytest.mark.parametrize("system,mutate,code,obj,also", MUTATIONS)
def test_mutation_of_generated_data_fires_its_rule(copy_of, system, mutate, code, obj, also):
    p = copy_of(system)
    mutate(p)
    rep, rc = run([p])
    fired = {f.code for f in rep.findings}
    assert code in fired, f"{code} did not fire; got {sorted(fired)}"
    assert fired - {code} <= also, [(f.code, f.message) for f in rep.findings]
    assert any(f.object == obj for f in hits(rep, code)), [f.object for f in hits(rep, code)]
    assert rc == (0 if all(f.severity.label != "error" for f in rep.findings) else 1)


def test_wall_finding_says_where_and_when(copy_of):
    p = copy_of("rayleigh_benard")
    hot_wall(p)
    rep, _ = run([p])
    low, high = sorted(hits(rep, "WF402"), key=lambda f: "high" in f.message)
    assert "buoyancy at the high wall of 'y' deviates from 0 by 0.02" in high.message
    f = low
    assert "buoyancy at the low wall of 'y' deviates from 1 by 0.02" in f.message
    n = h5py.File(p)["t0_fields/buoyancy"].shape[1]
    assert f.region == {"trajectory": [0, 0], "time": [1, n - 1]}  # frame 0 is the IC
    assert f.observed["error"] == pytest.approx(0.02, rel=1e-3)


def test_tracer_drift_reports_worst_frame_and_curve(copy_of, capsys):
    p = copy_of("shear_flow")
    tracer_mean_drift(p)
    rep, _ = run([p])
    (f,) = hits(rep, "WF410")
    n = h5py.File(p)["t0_fields/tracer"].shape[1]
    assert f.region == {"trajectory": [0, 0], "time": [2, n - 1]}
    assert f.observed["frame"] == n - 1
    curve = f.curve
    assert curve["trajectory"] == 0 and curve["frame"] == list(range(n))
    rms = np.sqrt(np.mean(h5py.File(p)["t0_fields/tracer"][0, -1].astype(float) ** 2))
    np.testing.assert_allclose(curve["value"][2:], 1e-3 * (np.arange(2, n) - 1) / (n - 1)
                               / rms, rtol=0.05)
    # the JSON report carries it and still validates against its schema
    jsonschema = pytest.importorskip("jsonschema")
    assert main(["validate", p, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    with open(os.path.join(os.path.dirname(__file__), "..", "validate", "schemas",
                           "report.schema.json")) as fh:
        schema = json.load(fh)
    jsonschema.validate(doc, schema)
    (g,) = [x for x in doc["findings"] if x["code"] == "WF410"]
    assert g["curve"]["value"][-1] == pytest.approx(curve["value"][-1])


def test_energy_growth_against_the_wells_shear_flow_card(copy_of):
    """The Well's shear_flow card declares the energy of the unforced flow non-increasing;
    our data satisfy it, and a velocity that grows 1% per frame does not."""
    from wellforge.validate.cards import CARDS_DIR

    card = os.path.join(CARDS_DIR, "shear_flow.yaml")
    p = copy_of("shear_flow")
    rep, _ = run([p], card=card)
    assert not hits(rep, "WF416") and not hits(rep, "WF410") and not hits(rep, "WF412")
    with edit(p) as f:
        _frames_offset(f, "t1_fields/velocity", lambda k, a: a * (1 + 0.01 * k))
    rep, _ = run([p], card=card)
    (w,) = hits(rep, "WF416")
    assert w.object == "/t1_fields/velocity" and w.curve["quantity"].startswith("energy")


# -- analytic fixtures ---------------------------------------------------------------------

CHEB_CARD = {
    "name": "chebyshev_fixture", "title": "analytic fields on a Fourier x Chebyshev grid",
    "time_units": "s",
    "fields": [{"name": "c", "order": 0, "units": "mol/m^3"},
               {"name": "b", "order": 0, "units": "K"},
               {"name": "velocity", "order": 1, "units": "m/s"},
               {"name": "C", "order": 2, "units": "1"}],
    "parameters": [],
    "axes": [{"name": "x", "kind": "fourier", "bounds": [0, 4], "units": "m",
              "bc": "PERIODIC"},
             {"name": "y", "kind": "chebyshev", "bounds": [0, 1], "units": "m", "bc": "WALL",
              "bc_variant": "dirichlet",
              "bc_values": {"b": [1, 0], "velocity_x": [0, 0], "velocity_y": [0, 0]}}],
    "invariants": [{"kind": "conserved_mean", "field": "c", "tolerance": 1e-6},
                   {"kind": "non_negative", "field": "c", "tolerance": 0.0},
                   {"kind": "bounded", "field": "b", "tolerance": 1e-3},
                   {"kind": "divergence_free", "field": "velocity", "tolerance": 1e-4},
                   {"kind": "symmetric", "field": "C", "tolerance": 1e-6},
                   {"kind": "positive_definite", "field": "C", "tolerance": 1e-6}],
}


def write_chebyshev_fixture(path, *, embed=True, nx=32, ny=24, nt=6):
    """Band-limited analytic fields on x in [0, 4) (periodic) × Chebyshev–Gauss y in
    [0, 1]: c = 1 + cos t (y² − 1/3) has a constant weighted mean but a drifting
    unweighted one; b = 1 − y + a(t) sin(πx/2) y(1 − y) satisfies b(0) = 1, b(1) = 0; the
    velocity is divergence-free and no-slip (ψ = A(t) sin(πx/2) y²(1 − y)²); C is
    symmetric positive definite."""
    from wellforge.schema.writer import WellWriter
    from wellforge.validate.quadrature import chebyshev_gauss_nodes

    x = 4 * np.arange(nx) / nx
    y = chebyshev_gauss_nodes(ny, 0.0, 1.0)
    t = 0.5 * np.arange(nt)
    X, Y = np.meshgrid(x, y, indexing="ij")
    k = np.pi / 2
    with WellWriter(path, "chebyshev_fixture", 1, t, time_units="s") as w:
        w.add_dimension("x", x, units="m")
        w.add_dimension("y", y, units="m")
        w.add_field("c", order=0, units="mol/m^3")
        w.add_field("b", order=0, units="K")
        w.add_field("velocity", order=1, units="m/s")
        w.add_field("C", order=2, units="1")
        w.add_boundary_condition("x", "PERIODIC")
        w.add_boundary_condition("y", "WALL", variant="dirichlet", fields=("b", "velocity"),
                                 values={"b": (1, 0), "velocity_x": (0, 0),
                                         "velocity_y": (0, 0)})
        if embed:
            w.set_root_attrs(wellforge_card=yaml.safe_dump(CHEB_CARD))
        for i, tt in enumerate(t):
            A = np.cos(tt)
            g = Y ** 2 * (1 - Y) ** 2
            dg = 2 * Y * (1 - Y) ** 2 - 2 * Y ** 2 * (1 - Y)
            u = A * np.sin(k * X) * dg
            v = -A * k * np.cos(k * X) * g
            a11 = 2 + 0.5 * np.sin(k * X + tt)
            C = np.stack([np.stack([a11, 0.3 * np.cos(Y)], -1),
                          np.stack([0.3 * np.cos(Y), 2 - 0.5 * np.sin(k * X)], -1)], -2)
            w.write_frame(0, i, {
                "c": 1 + np.cos(tt) * (Y ** 2 - 1 / 3) + 0.2 * np.sin(k * X - tt),
                "b": 1 - Y + 0.1 * np.cos(tt) * np.sin(k * X) * Y * (1 - Y),
                "velocity": np.stack([u, v], -1), "C": C})
    return path


def test_chebyshev_fixture_is_clean_and_uses_the_quadrature(tmp_path):
    """Clean: no finding. The unweighted grid mean of c moves by ~1e-2 per frame while
    the Fejér-weighted one is constant to float32: WF410 stays silent."""
    p = write_chebyshev_fixture(str(tmp_path / "cheb.hdf5"))
    rep, rc = run([p])
    assert [(f.code, f.message) for f in rep.findings] == [] and rc == 0
    assert any("embedded in the file" in n["note"] for n in rep.notes)
    c = h5py.File(p)["t0_fields/c"][0].astype(np.float64)
    assert np.ptp(c.mean(axis=(1, 2))) > 1e-2  # what an unweighted mean would call drift


def _negative_pair(d):
    """c = -0.5 at one point; its neighbour along x (same quadrature weight) takes the
    difference, so the conserved mean does not move."""
    a, b = float(d[0, 2, 5, 5]), float(d[0, 2, 6, 5])
    d[0, 2, 5, 5] = -0.5
    d[0, 2, 6, 5] = a + b + 0.5


CHEB_MUTATIONS = {
    "WF410": ("/t0_fields/c", lambda f: _frames_offset(
        f, "t0_fields/c", lambda k, a: a + 1e-4 * k)),
    "WF413": ("/t2_fields/C", lambda f: _frames_offset(
        f, "t2_fields/C", lambda k, a: a + np.array([[0, 0.01], [0, 0]]))),
    "WF414": ("/t2_fields/C", lambda f: _frames_offset(
        f, "t2_fields/C", lambda k, a: a - np.eye(2) * (2.0 if k == 3 else 0.0))),
    "WF415": ("/t0_fields/c", lambda f: _negative_pair(f["t0_fields/c"])),
    "WF412": ("/t1_fields/velocity", lambda f: _frames_offset(
        f, "t1_fields/velocity", lambda k, a: a + np.stack(
            [0.01 * np.sin(np.pi * f["dimensions/x"][()] / 2)[:, None]
             * np.sin(np.pi * f["dimensions/y"][()])[None, :],
             np.zeros(a.shape[:2])], -1))),
}


@pytest.mark.parametrize("code", sorted(CHEB_MUTATIONS))
def test_chebyshev_fixture_mutations(tmp_path, code):
    from tests.test_validate_mutations import check_golden

    obj, fault = CHEB_MUTATIONS[code]
    p = write_chebyshev_fixture(str(tmp_path / "cheb.hdf5"))
    with edit(p) as f:
        fault(f)
    rep, rc = run([p])
    assert {f.code for f in rep.findings} == {code}, [(f.code, f.message) for f in rep.findings]
    assert hits(rep, code)[0].object == obj and rc == 1
    check_golden(f"chebyshev-{code}", rep.findings, str(tmp_path))


SPHERE_CARD = {
    "name": "sphere_fixture", "title": "analytic fields on the sphere", "time_units": "hour",
    "grid_type": "equiangular",
    "fields": [{"name": "height", "order": 0, "units": "m"},
               {"name": "velocity", "order": 1, "units": "m/s"}],
    "axes": [{"name": "theta", "kind": "equiangular", "bounds": [0, 3.141592653589793],
              "units": "rad", "bc": "OPEN"},
             {"name": "phi", "kind": "fourier", "bounds": [0, 6.283185307179586],
              "units": "rad", "bc": "PERIODIC"}],
    "invariants": [{"kind": "conserved_mean", "field": "height", "tolerance": 1e-6},
                   {"kind": "divergence_free", "field": "velocity", "tolerance": 1e-5}],
}


def write_sphere_fixture(path, nt=16, nphi=32, frames=5):
    """h = 100 + 50 cos t P2(cos θ) + 20 sin θ cos(φ − t): area mean 100 at every time,
    while the plain grid mean moves with cos t; u = r̂ × ∇ψ is divergence-free."""
    from wellforge.schema.writer import WellWriter
    from wellforge.validate.quadrature import equiangular_colatitudes

    th = equiangular_colatitudes(nt, ascending=False)
    ph = 2 * np.pi * np.arange(nphi) / nphi
    T, P = np.meshgrid(th, ph, indexing="ij")
    t = np.arange(frames, dtype=float)
    with WellWriter(path, "sphere_fixture", 1, t, time_units="hour",
                    grid_type="equiangular") as w:
        w.add_dimension("theta", th, units="rad")
        w.add_dimension("phi", ph, units="rad")
        w.add_field("height", order=0, units="m")
        w.add_field("velocity", order=1, units="m/s")
        w.add_boundary_condition("theta", "OPEN")
        w.add_boundary_condition("phi", "PERIODIC")
        w.set_root_attrs(wellforge_card=json.dumps(SPHERE_CARD))
        for k, tt in enumerate(t):
            mu = np.cos(T)
            h = 100 + 50 * np.cos(tt) * (1.5 * mu ** 2 - 0.5) + 20 * np.sin(T) * np.cos(P - tt)
            # ψ = sin θ cos θ cos(φ - t): u = r̂ × ∇ψ = (-∂φψ / sin θ, ∂θψ)
            ut = np.cos(T) * np.sin(P - tt)
            up = np.cos(2 * T) * np.cos(P - tt)
            w.write_frame(0, k, {"height": h, "velocity": np.stack([ut, up], -1)})
    return path


def test_sphere_fixture_conservation_and_divergence(tmp_path):
    p = write_sphere_fixture(str(tmp_path / "sphere.hdf5"))
    rep, rc = run([p])
    assert [(f.code, f.message) for f in rep.findings] == [] and rc == 0
    h = h5py.File(p)["t0_fields/height"][0].astype(np.float64)
    assert np.ptp(h.mean(axis=(1, 2))) > 1.0  # the unweighted mean would drift
    with edit(p) as f:
        _frames_offset(f, "t0_fields/height", lambda k, a: a + 1e-3 * k)
        _frames_offset(f, "t1_fields/velocity", lambda k, a: a + np.stack(
            [0.1 * np.sin(2 * f["dimensions/theta"][()])[:, None] * np.ones(a.shape[1]),
             np.zeros(a.shape[:2])], -1))  # u_θ = 0.1 sin 2θ: div = 0.1 (3cos²θ - 1)·2/…
    rep, _ = run([p])
    assert {f.code for f in rep.findings} == {"WF410", "WF412"}
    from tests.test_validate_mutations import check_golden

    check_golden("sphere-WF410-WF412", rep.findings, str(tmp_path))


def write_periodic_closed(path, card: bool):
    """A periodic axis stored with its endpoint: x = linspace(0, 2π, 17)."""
    from wellforge.schema.writer import WellWriter

    x = np.linspace(0, 2 * np.pi, 17)
    y = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    X, Y = np.meshgrid(x, y, indexing="ij")
    t = np.arange(4.0)
    with WellWriter(path, "closed", 1, t) as w:
        w.add_dimension("x", x)
        w.add_dimension("y", y)
        w.add_field("u", order=0)
        w.add_boundary_condition("x", "PERIODIC")
        w.add_boundary_condition("y", "PERIODIC")
        if card:
            w.set_root_attrs(wellforge_card=yaml.safe_dump({
                "name": "closed", "title": "t", "fields": [{"name": "u", "order": 0,
                                                            "units": "1"}],
                "axes": [{"name": "x", "kind": "fourier", "bounds": [0, 6.283185307179586],
                          "units": "1", "bc": "PERIODIC"},
                         {"name": "y", "kind": "fourier", "bounds": [0, 6.283185307179586],
                          "units": "1", "bc": "PERIODIC"}]}))
        for k in range(4):
            w.write_frame(0, k, {"u": np.sin(X + k) * np.cos(Y)})
    return path


@pytest.mark.parametrize("card", [True, False], ids=["from-coordinates", "from-data"])
def test_duplicate_periodic_endpoint(tmp_path, card):
    p = write_periodic_closed(str(tmp_path / "closed.hdf5"), card)
    rep, _ = run([p])
    (f,) = hits(rep, "WF401")
    assert f.object == "/dimensions/x"
    assert not hits(rep, "WF400")
    from tests.test_validate_mutations import check_golden

    check_golden(f"physics-closed-periodic-{'card' if card else 'data'}", rep.findings,
                 str(tmp_path))


# -- the synthetic fixture: generic rules without a card ---------------------------------

TRAIN = "data/train/synthetic_alpha_1.hdf5"


def test_no_card_means_generic_checks_and_a_note(wf_dataset, capsys):
    rep, rc = run([wf_dataset])
    assert rep.findings == [] and rc == 0
    assert any("no system card for @dataset_name 'synthetic'" in n["note"] for n in rep.notes)
    assert main(["validate", os.path.join(wf_dataset, TRAIN)]) == 0
    assert "note: no system card" in capsys.readouterr().out


def test_generic_no_slip_wall_from_the_files_values(wf_dataset):
    """The synthetic file's y_wall_noslip group has values (0, 0): checked without a card."""
    p = os.path.join(wf_dataset, TRAIN)
    with edit(p) as f:
        _frames_offset(f, "t1_fields/velocity", lambda k, a: a + np.array([0.0, 0.05]))
    rep, _ = run([p])
    assert {f.code for f in rep.findings} == {"WF402"}
    assert all("values of /boundary_conditions/y_wall_noslip" in f.message
               for f in hits(rep, "WF402"))
    from tests.test_validate_mutations import check_golden

    check_golden("physics-generic-wall", rep.findings, wf_dataset)


def test_an_older_files_values_dataset_is_still_read(wf_dataset):
    """Files of schema 1.0 carry a ``values`` dataset instead of ``@wellforge_values``."""
    p = os.path.join(wf_dataset, TRAIN)
    with edit(p) as f:
        g = f["boundary_conditions/y_wall_noslip"]
        del g.attrs["wellforge_values"]
        g["values"] = np.zeros(2, np.float32)
        f.attrs["wellforge_schema"] = "1.0"
        _frames_offset(f, "t1_fields/velocity", lambda k, a: a + np.array([0.0, 0.05]))
    rep, _ = run([p])
    assert {f.code for f in rep.findings} == {"WF402"}


def test_symmetric_flag_is_checked_without_a_card(wf_dataset):
    p = os.path.join(wf_dataset, TRAIN)
    with edit(p) as f:
        f["t2_fields/T"].attrs["symmetric"] = True
    assert run([p])[0].findings == []
    with edit(p) as f:
        _frames_offset(f, "t2_fields/T", lambda k, a: a + np.array([[0, 1e-3], [0, 0]]))
    rep, _ = run([p])
    (s,) = hits(rep, "WF413")
    assert s.object == "/t2_fields/T" and "@symmetric" in s.message
    from tests.test_validate_mutations import check_golden

    check_golden("physics-symmetric-flag", rep.findings, wf_dataset)


def test_unmatched_bc_values_and_units_across_files(wf_dataset):
    """Values in a layout that cannot be matched to the fields: an older file's ``values``
    dataset of 3 numbers (still read: 2 or 2 per component)."""
    with edit(os.path.join(wf_dataset, TRAIN)) as f:
        del f["boundary_conditions/y_wall_noslip"].attrs["wellforge_values"]
        f["boundary_conditions/y_wall_noslip/values"] = np.zeros(3, np.float32)
    with edit(os.path.join(wf_dataset, "data/train/synthetic_alpha_2.hdf5")) as f:
        f["t1_fields/velocity"].attrs["units"] = "km/s"
    rep, _ = run([wf_dataset])
    assert {f.code for f in rep.findings} == {"WF210", "WF204"}
    (u,) = hits(rep, "WF204")
    assert u.object == "/t1_fields/velocity" and "1 km/s = 1000 m/s" in u.message
    assert u.file.endswith("synthetic_alpha_2.hdf5")
    from tests.test_validate_mutations import check_golden

    check_golden("physics-bc-values-units", rep.findings, wf_dataset)


# -- a card that contradicts the file ------------------------------------------------------

def test_card_contradicting_the_file_is_a_finding_naming_both(wf_dataset, tmp_path):
    """A card without the file's field 'T', with an axis 'z' the file lacks (and a BC on
    it), and a Chebyshev y declared uniform: findings that name the card and the file's
    object, no crash."""
    card = {
        "name": "wrong_card", "title": "disagrees with the synthetic file",
        "time_units": "s",
        "fields": [{"name": "c", "order": 0, "units": "mol/m^3"},
                   {"name": "velocity", "order": 1, "units": "m/s"},
                   {"name": "rho", "order": 0, "units": "kg/m^3"}],
        "parameters": [{"name": "alpha", "units": "1"}],
        "axes": [{"name": "x", "kind": "fourier", "bounds": [0, 2], "units": "m",
                  "bc": "PERIODIC"},
                 {"name": "y", "kind": "uniform", "bounds": [0, 1], "units": "m",
                  "bc": "WALL"},
                 {"name": "z", "kind": "fourier", "bounds": [0, 1], "units": "m",
                  "bc": "WALL"}],
    }
    path = tmp_path / "wrong.yaml"
    path.write_text(yaml.safe_dump(card))
    rep, rc = run([os.path.join(wf_dataset, TRAIN)], card=str(path))
    msgs = {(f.code, f.object): f.message for f in rep.findings}
    assert not hits(rep, "WF000") and rc == 1
    assert "not in card 'wrong_card'" in msgs[("WF205", "/t2_fields/T")]
    assert "declares field 'rho'" in msgs[("WF205", "/t0_fields")]
    assert "card 'wrong_card'" in msgs[("WF206", "/dimensions")] and \
        "'z'" in msgs[("WF206", "/dimensions")]
    assert "Chebyshev–Gauss" in msgs[("WF207", "/dimensions/y")]
    from tests.test_validate_mutations import check_golden

    check_golden("physics-wrong-card", rep.findings, wf_dataset)


def test_card_bc_on_an_axis_the_file_lacks(wf_dataset):
    p = os.path.join(wf_dataset, TRAIN)
    with edit(p) as f:
        g = f.create_group("boundary_conditions/q_wall")
        g.attrs.update(bc_type="WALL", associated_dims=["q"], associated_fields=[],
                       sample_varying=False, time_varying=False)
        g["mask"] = np.array([True, True])
        f.attrs["wellforge_card"] = yaml.safe_dump(CHEB_CARD)
    rep, _ = run([p], level=2)
    bc = [f for f in hits(rep, "WF206") if f.object == "/boundary_conditions/q_wall"]
    assert bc and "'q'" in bc[0].message and "chebyshev_fixture" in bc[0].message
    assert not hits(rep, "WF000")
    from tests.test_validate_mutations import check_golden

    check_golden("physics-card-bc-axis", rep.findings, wf_dataset)


# -- wellforge check-card ------------------------------------------------------------------

def test_check_card(tmp_path, capsys, generated):
    from wellforge.validate.cards import CARDS_DIR

    assert main(["check-card", os.path.join(CARDS_DIR, "rayleigh_benard.yaml")]) == 0
    assert "card OK" in capsys.readouterr().out
    bad = dict(CHEB_CARD, invariants=[{"kind": "bounded", "field": "c", "tolerance": 0.1}])
    bad["fields"] = CHEB_CARD["fields"] + [{"name": "u_velocity", "order": 1, "units": "K"}]
    p = tmp_path / "lint.yaml"
    p.write_text(yaml.safe_dump(bad))
    assert main(["check-card", str(p)]) == 1
    out = capsys.readouterr().out
    assert "warning: bounded 'c' without bounds" in out
    assert "warning: field 'u_velocity' is velocity but its units 'K'" in out
    p.write_text("name: x\ntitle: t\nfields: []\naxes: []\n")
    assert main(["check-card", str(p)]) == 2
    assert "fields: expected a non-empty list" in capsys.readouterr().err
    # files against a card: the Well's rayleigh_benard card fits our generator's data
    assert main(["check-card", os.path.join(CARDS_DIR, "rayleigh_benard.yaml"),
                 generated["rayleigh_benard"]]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_every_shipped_card_loads_and_lints_clean():
    from wellforge.validate.cards import builtin_card, builtin_cards, lint

    names = set(builtin_cards())
    assert {"rayleigh_benard", "shear_flow", "planetswe", "viscoelastic_instability",
            "gray_scott_reaction_diffusion", "active_matter", "MHD_64", "MHD_256",
            "euler_multi_quadrants_periodicBC", "acoustic_scattering_maze"} <= names
    for n in names:
        assert [m for lvl, m in lint(builtin_card(n)) if lvl == "warning"] == [], n


#: codes with a fault in this module (the harness in test_validate_mutations counts them)
MUTATED_CODES = ({p.values[2] for p in MUTATIONS} | set(CHEB_MUTATIONS)
                 | {"WF204", "WF205", "WF206", "WF207", "WF210", "WF401", "WF402", "WF413",
                    "WF416",
                    "WF417"})  # tests/test_systems_active_matter.py (its tiny data, broken)


def test_unit_table_agrees_with_pint():
    """The units the validator knows without importing pint are pint's."""
    from wellforge.validate.unit_table import KNOWN, from_pint

    assert {k: from_pint(k) for k in KNOWN} == KNOWN


def test_readme_card_example_loads_and_lints_clean(tmp_path):
    """The card in validate/README.md's 'Writing a card' is valid and lint-free."""
    from wellforge.validate.cards import card_from_text, lint

    with open(os.path.join(os.path.dirname(__file__), "..", "validate", "README.md")) as fh:
        text = fh.read()
    block = text.split("## Writing a card", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    card = card_from_text(block, "README")
    assert card.name == "my_channel" and lint(card) == []


def test_derivative_stride_checks_every_kth_frame(tmp_path):
    """limits.derivative_stride = k: the divergence of frames 1, 1 + k, ... only (and a
    note says so); a divergent frame off the stride goes unseen, one on it is found."""
    from wellforge.validate.context import Limits

    p = write_chebyshev_fixture(str(tmp_path / "cheb.hdf5"), nt=7)
    x = h5py.File(p)["dimensions/x"][()]
    y = h5py.File(p)["dimensions/y"][()]
    bump = 0.01 * np.sin(np.pi * x / 2)[:, None] * np.sin(np.pi * y)[None, :]
    with edit(p) as f:
        f["t1_fields/velocity"][0, 2, :, :, 0] += bump  # frame 2: off a stride of 3
    rep, _ = run([p], limits=Limits(derivative_stride=3))
    assert not hits(rep, "WF412")
    assert any("one frame in 3" in n["note"] for n in rep.notes)
    with edit(p) as f:
        f["t1_fields/velocity"][0, 4, :, :, 0] += bump  # frame 4 = 1 + 3
    rep, _ = run([p], limits=Limits(derivative_stride=3))
    (d,) = hits(rep, "WF412")
    assert d.region == {"trajectory": [0, 0], "time": [4, 4]}


def test_frames_larger_than_the_block_budget(tmp_path):
    """Frames read in slabs (block_bytes below one frame): the slab-additive checks (means,
    ranges, tensors, seams and walls across the first axis) agree with whole frames; what
    needs a whole frame (the divergence) is skipped with a note."""
    from wellforge.validate.context import Limits

    p = write_chebyshev_fixture(str(tmp_path / "cheb.hdf5"))
    rep, _ = run([p], limits=Limits(block_bytes=2048))
    assert rep.findings == []
    assert any("divergence not checked" in n["note"] for n in rep.notes)
    with edit(p) as f:
        CHEB_MUTATIONS["WF410"][1](f)
        CHEB_MUTATIONS["WF413"][1](f)
    rep, _ = run([p], limits=Limits(block_bytes=2048))
    assert {f.code for f in rep.findings} == {"WF410", "WF413"}


@pytest.mark.parametrize("system", ["rayleigh_benard", "shear_flow"])
def test_a_well_style_file_is_checked_against_the_shipped_card(copy_of, system):
    """Strip wellforge's additions (as in the Well's released files: no @units, no
    @wellforge_system, no provenance): the card comes from @dataset_name, the Well's own;
    the data still satisfy it (shear_flow renamed to the Well's 'Rayleigh' quirk)."""
    p = copy_of(system)
    with edit(p) as f:
        for k in ("wellforge_system", "wellforge_schema", "wellforge_card"):
            del f.attrs[k]
        del f["provenance"]
        f.visititems(lambda n, o: o.attrs.__delitem__("units") if "units" in o.attrs else None)
        if system == "shear_flow":
            f.move("scalars/Reynolds", "scalars/Rayleigh")
            f.attrs["Rayleigh"] = f.attrs.pop("Reynolds")
            f.attrs["simulation_parameters"] = ["Rayleigh", "Schmidt"]
            f["scalars"].attrs["field_names"] = ["Rayleigh", "Schmidt"]
    rep, rc = run([p])
    assert [(f.code, f.message) for f in rep.findings if f.severity.label != "info"] == []
    assert rc == 0 and any(f"Well dataset {system!r}" in n["note"] for n in rep.notes)


@pytest.mark.parametrize("space,axis,nc", [((6, 40), 1, 2), ((40, 6), 0, 1), ((3, 40, 5), 1, 4),
                                           ((150, 40), 1, 2)])
@pytest.mark.parametrize("sparse", [False, True])
def test_wall_contraction_equals_tensordot(space, axis, nc, sparse):
    """The walls' BLAS contraction (row batches, middle axes, sparse wall stencils) gives
    the plain tensor contraction of the data with the wall operator."""
    from wellforge.validate.checks.boundaries import Contraction

    rng = np.random.default_rng(7)
    n = space[axis]
    M = rng.standard_normal((n, 4)).astype(np.float32)
    if sparse:  # walls on grid points plus a 3-point local stencil
        M[3:n - 3] = 0
    x = rng.standard_normal((3, *space, nc)).astype(np.float32)
    op = Contraction(M, axis, nc)
    assert op.sparse == sparse
    got = op(x)
    ref = np.tensordot(x.astype(np.float64), M.astype(np.float64),
                       axes=([1 + axis], [0]))  # (nf, *other axes, nc, m)
    ref = ref.reshape(3, -1, nc, 4)
    assert got.shape == ref.shape
    assert np.max(np.abs(got - ref)) <= 1e-5 * np.max(np.abs(ref))
