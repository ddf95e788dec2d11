"""Pins for validate's check modules (bc_checks, card_checks, dataset_checks, invariants,
units_checks, safety; tests/MUTATION.md): thresholds from both sides, helpers against
literals and closed forms, severities and exact messages.
"""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest
from wellforge.schema.writer import WellWriter
from wellforge.validate import safe_open as so
from wellforge.validate import unit_algebra as ua
from wellforge.validate.checks import dataset as dc
from wellforge.validate.checks import invariants as inv
from wellforge.validate.checks import safety as sf
from wellforge.validate.checks import units as uc
from wellforge.validate.context import Limits, Options
from wellforge.validate.findings import Severity
from wellforge.validate.runner import validate


def run(paths, **kw):
    kw.setdefault("isolate", False)
    return validate([str(p) for p in paths], Options(**kw))


def by(rep, code):
    return [f for f in rep.findings if f.code == code]


# -- periodic seam: 4 x the neighbouring steps ----------------------------------------------

def seam_file(path, jump, nt=3):
    """Along x (8 periodic points): c = 0, 1, 2, m, m, J + 2, J + 1, J: every step next to
    the wrap is 1, the wrap itself (J to 0) is J."""
    m = (2 + jump + 2) / 2
    line = np.array([0.0, 1.0, 2.0, m, m, jump + 2, jump + 1, jump], dtype=np.float32)
    with WellWriter(str(path), "seam", 1, np.arange(nt, dtype=float)) as w:
        w.add_dimension("x", np.arange(8) / 8)
        w.add_dimension("y", np.linspace(0, 1, 4))
        w.add_field("c")
        w.add_boundary_condition("x", "PERIODIC")
        w.add_boundary_condition("y", "OPEN")
        for k in range(nt):
            w.write_frame(0, k, {"c": np.repeat(line[:, None], 4, axis=1) * (1 + k)})
    return str(path)


@pytest.mark.parametrize("jump,hit", [(4.5, True), (3.5, False), (-4.5, True)])
def test_seam_ratio_from_both_sides(tmp_path, jump, hit):
    rep = run([seam_file(tmp_path / "s.hdf5", jump)], select=["WF400"])
    got = by(rep, "WF400")
    assert bool(got) == hit
    if hit:
        (f,) = got
        assert f.severity == Severity.ERROR and f.expected == "<= 4 x neighbouring steps"
        # every frame has the same ratio (frame k is scaled by k + 1): the first is the worst
        assert f.observed["frame"] == 0 and f.observed["jump"] == pytest.approx(abs(jump))
        assert f.observed["step"] == pytest.approx(1.0)
        assert "in 3 frame(s)" in f.message and f"{abs(jump) / 1:.1f}x" in f.message


def test_repeated_periodic_endpoint_from_the_data(tmp_path):
    """Without a card the period is unknown: a last point equal to the first in every
    varying frame of every field is the duplicate endpoint (WF401)."""
    x = np.arange(8) / 7  # 0 .. 1 inclusive: the last point is the first one again
    with WellWriter(str(tmp_path / "d.hdf5"), "dup", 1, np.arange(3.0)) as w:
        w.add_dimension("x", x)
        w.add_dimension("y", np.linspace(0, 1, 4))
        w.add_field("c")
        w.add_boundary_condition("x", "PERIODIC")
        w.add_boundary_condition("y", "OPEN")
        for k in range(3):
            c = np.sin(2 * np.pi * x)[:, None] * np.ones(4) * (k + 1)
            c[-1] = c[0]
            w.write_frame(0, k, {"c": c})
    rep = run([str(tmp_path / "d.hdf5")], select=["WF401"])
    (f,) = by(rep, "WF401")
    assert f.object == "/dimensions/x" and f.observed == 3 and f.severity == Severity.ERROR


# -- L0: the shape-bomb cap from both sides, links ----------------------------------------------

@pytest.mark.parametrize("gib,hit", [(1.5, True), (0.75, False)])
def test_shape_bomb_cap(tmp_path, gib, hit):
    p = str(tmp_path / "b.hdf5")
    with h5py.File(p, "w") as f:
        f.create_dataset("big", shape=(int(gib * 2**28),), dtype=np.float32, chunks=(1024,))
    rep = run([p], level=0)
    got = by(rep, "WF006")
    assert bool(got) == hit
    if hit:
        assert got[0].expected == f"<= {2**30:.3e} bytes" and got[0].observed == gib * 2**30
    # the ratio rule: a 100 kB file may declare up to 1000 x its size above 1 GiB
    lim = Limits(bomb_min_bytes=1 << 20, bomb_ratio=1000.0)
    size = os.path.getsize(p)
    rep = run([p], level=0, limits=lim)
    assert bool(by(rep, "WF006")) == (gib * 2**30 > 1000 * size)


def test_preflight_literals(tmp_path):
    assert so.preflight(str(tmp_path / "nope")).startswith("cannot stat: ")
    e = tmp_path / "empty"
    e.write_bytes(b"")
    assert so.preflight(str(e)) == "empty file (0 bytes)"
    t = tmp_path / "text"
    t.write_bytes(b"x" * 2000)
    assert so.preflight(str(t)) == "not an HDF5 file (no HDF5 signature)"
    u = tmp_path / "userblock"  # the signature may sit at 512 * 2^k
    u.write_bytes(b"\0" * 1024 + so.HDF5_SIGNATURE + b"\0" * 100)
    assert so.preflight(str(u)) is None
    v = tmp_path / "odd"
    v.write_bytes(b"\0" * 700 + so.HDF5_SIGNATURE + b"\0" * 100)
    assert so.preflight(str(v)) == "not an HDF5 file (no HDF5 signature)"
    assert so.preflight(str(tmp_path)).startswith("not a regular file")
    assert so.HDF5_SIGNATURE == b"\x89HDF\r\n\x1a\n"


def test_inventory_resolve_and_children():
    inv_ = so.Inventory(file_size=1, objects={"/": "group", "/a": "group", "/a/b": "dataset",
                                              "/c": "dataset"},
                        soft_links={"/l": "/a", "/r": "b", "/a/rel": "b", "/bad": "/zzz"})
    assert inv_.resolve("/a/b") == "/a/b"
    assert inv_.resolve("/l/b") == "/a/b"
    assert inv_.resolve("/a/rel") == "/a/b"
    assert inv_.resolve("/bad") is None and inv_.resolve("/nothing") is None
    assert inv_.children("/a") == ["b", "rel"]
    assert inv_.children("/l") == ["b", "rel"]


def test_first_line_and_inside(tmp_path):
    assert so.first_line(ValueError("one\ntwo")) == "ValueError: one"
    assert so.first_line(KeyError()) == "KeyError:"
    assert sf._inside(str(tmp_path / "a" / "b"), str(tmp_path))
    assert sf._inside(str(tmp_path), str(tmp_path))
    assert not sf._inside(str(tmp_path) + "x", str(tmp_path))


def test_walk_records_links_and_limits(tmp_path):
    p = str(tmp_path / "w.hdf5")
    with h5py.File(p, "w") as f:
        g = f.create_group("g")
        g.create_dataset("d", data=np.arange(4.0), compression="gzip")
        f["soft"] = h5py.SoftLink("/g/d")
        f["ext"] = h5py.ExternalLink("other.h5", "/x")
        f["g"].attrs["big"] = np.zeros(300)
        f["alias"] = f["g"]  # a second hard link to a group
        deep = f
        for i in range(4):
            deep = deep.create_group(f"n{i}")
    with h5py.File(p, "r") as f:
        lim = Limits(max_depth=3, max_attr_bytes=1000)
        i = so.walk(f, lim)
    assert i.soft_links == {"/soft": "/g/d"} and i.external_links == {"/ext": ("other.h5",
                                                                               "/x")}
    (d,) = [v for k, v in i.datasets.items() if k.endswith("/d")]
    assert d.shape == (4,) and d.declared_bytes == 32 and d.layout == "chunked"
    assert [c for c, _ in d.filters] == [1]
    assert [(a, n) for _, a, n in i.big_attrs] == [("big", 2400)]
    assert len(i.cycles) == 1 and i.cycles[0] in ("/g", "/alias")
    assert i.too_deep == ["/n0/n1/n2"]
    with h5py.File(p, "r") as f:
        t = so.walk(f, Limits(max_objects=2))
    assert t.truncated_walk


# -- units --------------------------------------------------------------------------------------

def test_dimensionless_group_names():
    for name in ("Reynolds", "reynolds_number", "RAYLEIGH", "Re", "Re_tau", "Pr", "Ma"):
        assert ua.is_group(name), name
    for name in ("Rex", "rho", "density", "Temperature", "re", "viscosity", "Pr2"):
        assert not ua.is_group(name), name


def test_unit_dimensions_and_text():
    assert ua.dmul((("length", 1),), (("time", -1),), (("length", 1),)) == (("length", 2),
                                                                         ("time", -1))
    assert ua.dmul((("length", 1),), (("length", -1),)) == ()
    assert ua.dpow((("length", 1), ("time", -2)), 2) == (("length", 2), ("time", -4))
    assert ua.dpow((("length", 1),), 0) == ()
    assert ua.dimension_text(()) == "dimensionless"
    assert ua.dimension_text((("length", 1), ("time", -1))) == "[length] / [time]"
    assert ua.dimension_text((("length", 2), ("time", -2))) == "[length] ** 2 / [time] ** 2"
    assert ua.dimension_text((("time", -1),)) == "1 / [time]"
    assert ua.dimension_text((("length", 1), ("mass", 1))) == "[length] * [mass]"
    assert ua.dimension("m/s") == (("length", 1), ("time", -1)) and ua.is_dimensionless("1") is True
    assert ua.is_dimensionless("m") is False and ua.is_dimensionless("arbitrary units") is None
    assert ua.is_angle("rad") and ua.is_angle("degree") and not ua.is_angle("1")
    assert not ua.is_angle("m")
    assert ua.parse_error("m/s") is None and ua.parse_error("furlongz") is not None


def test_same_unit_factor_tolerance():
    assert uc._same("m", "m") and uc._same("m/s", "meter / second")
    assert not uc._same("km", "m") and not uc._same("m", "s")
    assert not uc._same("m", "nonsense units")
    assert uc._factor_text("m", "km") == "1 km = 1000 m"
    assert uc._factor_text("m", "s") == "[time] vs [length]"
    assert uc._factor_text("m", "zz zz") == "one does not parse"


# -- invariants: closed forms ---------------------------------------------------------------------

def test_min_eigenvalue_closed_forms():
    # frame 0: [[2, 1], [1, 2]] (eigenvalues 1, 3) and [[1, 0], [0, 3]];
    # frame 1: [[0, 3], [1, 0]] (symmetric part [[0, 2], [2, 0]]: -2, 2)
    T = np.array([[[2.0, 1.0, 1.0, 2.0], [1.0, 0.0, 0.0, 3.0]],
                  [[0.0, 3.0, 1.0, 0.0], [5.0, 0.0, 0.0, 5.0]]], dtype=np.float32)
    np.testing.assert_allclose(inv._min_eig(T.copy(), 2), [1.0, -2.0], atol=1e-6)
    A = np.array([[[1.0, 2.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 5.0]]])  # eigs -1, 3, 5
    np.testing.assert_allclose(inv._min_eig(A, 3), [-1.0])
    np.testing.assert_allclose(inv._min_eig(np.array([[[4.0], [-2.0]]]), 1), [-2.0])
    np.testing.assert_allclose(inv._absmax(np.array([[1.0, -5.0, 3.0], [2.0, 0.0, 1.0]])),
                               [5.0, 2.0])


def test_drift_curve_is_max_pooled():
    c = inv._curve(None, 1, np.arange(600.0), "q")
    assert c["quantity"] == "q" and c["trajectory"] == 1
    assert len(c["value"]) == 200 and c["value"][:2] == [2.0, 5.0] and c["value"][-1] == 599.0
    assert c["frame"][:3] == [0, 3, 6]
    small = inv._curve(None, None, np.array([1.0, np.nan, np.inf]), "q")
    assert small["value"] == [1.0, None, None] and small["frame"] == [0, 1, 2]
    assert inv.CURVE_POINTS == 256 and len(inv._curve(None, 0, np.ones(256), "q")["value"]) == 256


def test_mixed_weights_parseval():
    """Σ W |Y|² equals the mean of |y|² for the real FFT of a periodic axis (the half
    spectrum counted twice, the Nyquist mode once)."""
    from wellforge.validate import quadrature as q

    n = 8
    a = q.AxisGrid("x", q.FOURIER, np.arange(n) / n, np.ones(n), 0.0, 1.0)
    y = np.random.default_rng(0).normal(size=n)
    Y = np.fft.rfft(y)
    W = inv._mixed_weights([a], Y.shape)
    assert W.dtype == np.float32
    assert float(np.sum(W * np.abs(Y) ** 2)) == pytest.approx(np.mean(y * y), rel=1e-6)
    b = q.AxisGrid("y", q.UNIFORM, np.arange(3.0), np.array([1.0, 2.0, 1.0]), 0, 2)
    np.testing.assert_allclose(inv._mixed_weights([b], (3,)), [0.25, 0.5, 0.25])


# -- dataset checks -------------------------------------------------------------------------------

def test_majority_keeps_the_first_of_the_most_common():
    assert dc._majority([[1], [2], [2], [1], [2]]) == [2]
    assert dc._majority(["a", "b"]) == "a"
    assert dc._norm({1: (1, 2), "a": [{"b": (3,)}]}) == {"1": [1, 2], "a": [{"b": [3]}]}
    assert dc.COUNT_KEYS == ("n_files", "n_trajectories_per_file", "n_steps_per_trajectory")


def test_recompute_stats_needs_every_file():
    from wellforge.schema.stats import Moments

    def part(vals, n=None):
        m = Moments()
        m.add(np.asarray(vals, float), 0)
        d = Moments()
        d.add(np.diff(np.asarray(vals, float)), 0)
        return {"/t0_fields/c": {"name": "c", "vals": m, "deltas": d}}

    f1 = {"summary": {"moments": part([1.0, 3.0])}}
    f2 = {"summary": {"moments": part([5.0, 5.0, 5.0, 9.0])}}
    s = dc.recompute_stats([f1, f2])
    allv = np.array([1.0, 3.0, 5.0, 5.0, 5.0, 9.0])
    assert s["mean"]["c"] == pytest.approx(allv.mean())
    assert s["std"]["c"] == pytest.approx(allv.std())
    assert s["rms"]["c"] == pytest.approx(np.sqrt((allv ** 2).mean()))
    alld = np.array([2.0, 0.0, 0.0, 4.0])
    assert s["mean_delta"]["c"] == pytest.approx(alld.mean())
    assert dc.recompute_stats([]) is None
    assert dc.recompute_stats([f1, {"summary": {}}]) is not None  # files without moments skipped
    f3 = {"summary": {"moments": {"/t0_fields/d": part([1.0])["/t0_fields/c"]}}}
    assert dc.recompute_stats([f1, f3]) is None  # different fields
    empty = {"summary": {"moments": {"/t0_fields/c": {"name": "c", "vals": Moments(),
                                                       "deltas": None}}}}
    assert dc.recompute_stats([f1, empty]) is None



def test_divergence_mode_by_grid():
    from types import SimpleNamespace

    from wellforge.validate import quadrature as q

    def axes(*kinds):
        return SimpleNamespace(axes=[SimpleNamespace(kind=k) for k in kinds])

    assert inv._div_mode(axes(q.EQUIANGULAR, q.FOURIER)) == "sphere"
    assert inv._div_mode(axes(q.FOURIER, q.FOURIER)) == "mixed"
    assert inv._div_mode(axes(q.CHEBYSHEV, q.FOURIER)) == "mixed"
    assert inv._div_mode(axes(q.EQUIANGULAR, q.CHEBYSHEV)) is None
    assert inv._div_mode(axes(q.FOURIER, q.FOURIER_CLOSED)) is None
    assert inv._div_mode(axes(q.GAUSS, q.FOURIER)) is None
    assert inv._div_mode(SimpleNamespace(axes=None)) is None


def test_inside_the_root_directory():
    assert sf._inside("/tmp/x", "/")


def _ds(tmp_path):
    import shutil

    from wellforge.schema.synthetic import write_dataset

    root = str(tmp_path / "synthetic")
    write_dataset(root, n_time=3)
    return root, shutil


def test_dataset_messages(tmp_path):
    import yaml

    root, shutil = _ds(tmp_path)
    rep = run([root])
    assert [f.code for f in rep.findings] == []
    path = os.path.join(root, "stats.yaml")
    with open(path) as fh:
        s = yaml.safe_load(fh)
    del s["std"]["c"]
    with open(path, "w") as fh:
        yaml.safe_dump(s, fh)
    (f,) = by(run([root]), "WF520")
    assert (f.object, f.message) == ("std.c", "stats.yaml has no std.c")
    assert f.file.endswith("stats.yaml")
    with open(path, "w") as fh:
        fh.write("[1, 2]\n")
    (f,) = by(run([root]), "WF520")
    assert (f.object, f.message, f.observed) == ("/", "stats.yaml is not a mapping", "list")
    with open(path, "w") as fh:
        fh.write("a: [\n")
    (f,) = by(run([root]), "WF520")
    assert f.message.startswith("cannot read stats.yaml: ") and f.object == "/"
    os.remove(path)
    (f,) = by(run([root]), "WF520")
    # an error, as the rules table lists WF520: the Well's loader needs stats.yaml
    assert f.severity == Severity.ERROR and f.message == "stats.yaml is missing: the Well's " \
        "loader needs it to normalise every sample"
    meta = os.path.join(root, "synthetic.yaml")
    with open(meta) as fh:
        m = yaml.safe_load(fh)
    del m["n_files"]
    m["n_trajectories_per_file"] = [5, 5]
    with open(meta, "w") as fh:
        yaml.safe_dump(m, fh)
    got = {f.object: f for f in by(run([root]), "WF531")}
    assert got["n_files"].message.startswith("n_files is '<missing>', the data say ")
    assert got["n_files"].observed == "<missing>"
    t = got["n_trajectories_per_file"]
    assert t.observed == [5, 5] and "(total 10 vs " in t.message
    shutil.rmtree(os.path.join(root, "data", "test"))
    os.makedirs(os.path.join(root, "data", "valid_x"))
    for fn in os.listdir(os.path.join(root, "data", "valid")):
        os.remove(os.path.join(root, "data", "valid", fn))
    got = {f.message for f in by(run([root]), "WF503")}
    assert got == {"split 'valid' has no files", "split 'test' has no files (no directory)"}


def test_files_disagreeing_on_grid_and_fields(tmp_path):
    import h5py as h5

    root, _ = _ds(tmp_path)
    fn = os.path.join(root, "data", "train", "synthetic_alpha_1.hdf5")
    with h5.File(fn, "r+") as f:
        f.attrs["grid_type"] = "equiangular"
        f["t0_fields"].attrs["field_names"] = ["c", "extra"]
        f["t0_fields"].create_dataset("extra", data=f["t0_fields/c"][()])
        for k, v in f["t0_fields/c"].attrs.items():
            f["t0_fields/extra"].attrs[k] = v
    rep = run([root], level=5)
    (g,) = [f for f in by(rep, "WF501") if f.object == "/dimensions"]
    assert g.message == "@grid_type 'equiangular' differs from the other files ('cartesian')"
    (fl,) = by(rep, "WF502")
    assert fl.message.startswith("fields ") and "differs from the other files" in fl.message


def test_card_contradictions_each_named(tmp_path):
    """A card that disagrees with the synthetic file in parameters, axis order, BC types,
    wall values, grids and ranges: every disagreement is one finding (golden record)."""
    import yaml

    from tests.test_validate_mutations import check_golden

    root, _ = _ds(tmp_path)
    p = os.path.join(root, "data", "train", "synthetic_alpha_1.hdf5")
    with h5py.File(p, "r+") as f:
        f.attrs["simulation_parameters"] = ["alpha", "gamma"]
        f.attrs["gamma"] = 3.0
        f["scalars"].create_dataset("gamma", data=np.float32(3.0)).attrs.update(
            sample_varying=False, time_varying=False, units="1")
        f["scalars"].attrs["field_names"] = ["alpha", "energy", "gamma"]
        f["boundary_conditions/y_wall_noslip"].attrs["wellforge_values"] = \
            '{"velocity": [0.5, 0.0]}'
    card = {"name": "contra", "title": "t", "time_units": "s",
            "fields": [{"name": "c", "order": 0, "units": "mol/m^3"},
                       {"name": "velocity", "order": 2, "units": "m/s"},
                       {"name": "T", "order": 2, "units": "Pa"}],
            "parameters": [{"name": "alpha", "units": "1", "low": 2.0, "high": 3.0},
                           {"name": "beta", "units": "1"}],
            "axes": [{"name": "y", "kind": "chebyshev", "bounds": [0, 2], "units": "m",
                      "bc": "WALL", "bc_values": {"velocity": [0.0, 0.0]}},
                     {"name": "x", "kind": "fourier", "bounds": [0, 3], "units": "m",
                      "bc": "OPEN"}]}
    cpath = tmp_path / "contra.yaml"
    cpath.write_text(yaml.safe_dump(card))
    rep = run([p], level=2, card=str(cpath))
    assert not by(rep, "WF000")
    assert {f.code for f in rep.findings} >= {"WF205", "WF206", "WF207", "WF208"}
    check_golden("card-contradictions", rep.findings, str(tmp_path))


# -- L4 tolerances from both sides (the Chebyshev fixture of test_validate_physics) ---------

def _cheb(tmp_path, card_changes=None):
    import yaml

    from tests.test_validate_physics import CHEB_CARD, write_chebyshev_fixture

    p = write_chebyshev_fixture(str(tmp_path / "cheb.hdf5"))
    if card_changes:
        card = {**CHEB_CARD, **card_changes}
        with h5py.File(p, "r+") as f:
            f.attrs["wellforge_card"] = yaml.safe_dump(card)
    return p


def _offset(p, path, fn):
    with h5py.File(p, "r+") as f:
        d = f[path]
        for k in range(d.shape[1]):
            d[0, k] = fn(k, d[0, k].astype(np.float64)).astype(np.float32)


@pytest.mark.parametrize("step,hit", [(2e-5, True), (2e-7, False)])
def test_conserved_mean_tolerance_from_both_sides(tmp_path, step, hit):
    """The mean of c (RMS about 1.03) drifts by step per frame from frame 1 on: by frame 5,
    4 steps, against the card's 1e-6."""
    p = _cheb(tmp_path)
    _offset(p, "t0_fields/c", lambda k, a: a + step * max(k - 1, 0))
    got = by(run([p]), "WF410")
    assert bool(got) == hit
    if hit:
        # 4 steps relative to the RMS (about 1.05): 7.6e-5
        assert got[0].observed["frame"] == 5 and 6e-5 < got[0].observed["drift"] < 8e-5


@pytest.mark.parametrize("frame,hit", [(0, False), (1, True)])
def test_zero_mean_after_the_initial_condition(tmp_path, frame, hit):
    from tests.test_validate_physics import CHEB_CARD

    inv_ = [{"kind": "zero_mean", "field": "b", "tolerance": 1e-6}]
    p = _cheb(tmp_path, {"invariants": CHEB_CARD["invariants"] + inv_})
    with h5py.File(p, "r+") as f:  # b - its weighted mean: zero-mean but one frame
        from wellforge.validate import quadrature as q

        y = f["dimensions/y"][()].astype(np.float64)
        w = q.fejer1(y.size)[1] / 2
        d = f["t0_fields/b"]
        for k in range(d.shape[1]):
            a = d[0, k].astype(np.float64)
            a = a - (a.mean(axis=0) @ w)
            d[0, k] = (a + (0.5 if k == frame else 0.0)).astype(np.float32)
    got = by(run([p]), "WF411")
    assert bool(got) == hit
    if hit:
        assert got[0].observed["frame"] == 1 and got[0].region["time"] == [1, 1]


# -- more survivors: overflowing sums, non-finite trajectories, slabs, cards, energy -------

def _frames_file(path, frames, fields=("c",), order=0, bc=("PERIODIC", "OPEN")):
    frames = np.asarray(frames, dtype=np.float32)
    t = np.arange(frames.shape[1], dtype=float)
    with WellWriter(str(path), "pin", frames.shape[0], t) as w:
        w.add_dimension("x", np.arange(frames.shape[2]) / frames.shape[2])
        w.add_dimension("y", np.linspace(0, 1, frames.shape[3]) if bc[1] != "PERIODIC"
                        else np.arange(frames.shape[3]) / frames.shape[3])
        for n in fields:
            w.add_field(n, order=order)
        w.add_boundary_condition("x", bc[0])
        w.add_boundary_condition("y", bc[1])
        for i in range(frames.shape[0]):
            for k in range(frames.shape[1]):
                w.write_frame(i, k, {n: frames[i, k] for n in fields})
    return str(path)


def test_float32_overflow_of_the_sums_is_recomputed(tmp_path):
    """Values of 1e30 are finite float32, their squares are not: the frame is re-summed
    in float64, not reported as non-finite, and its RMS is right."""
    f = np.ones((5, 3, 8, 4)) * 1e30
    f[:, :, ::2] *= -1  # spatial variation, not constant
    for i in range(5):
        for k in range(3):
            f[i, k] *= (1 + 0.01 * i) * (1 + 0.1 * k)
    p = _frames_file(tmp_path / "big.hdf5", f)
    rep = run([p], select=["WF300", "WF301", "WF302", "WF304"])
    assert [x.code for x in rep.findings] == []
    # the RMS is finite and right: a trajectory 100 x the others is the outlier (their
    # float32 sums of squares overflow: before, every RMS was inf and none stood out)
    f[4] *= 100.0
    rep = run([_frames_file(tmp_path / "big2.hdf5", f)], select=["WF304"])
    (o,) = by(rep, "WF304")
    assert o.region == {"trajectory": [4, 4]} and "RMS 1.15e+32" in o.message
    # and a frame equal to the previous one is found (its signature overflows too)
    f[0, 2] = f[0, 1]
    rep = run([_frames_file(tmp_path / "big3.hdf5", f)], select=["WF302"])
    assert [x.message for x in by(rep, "WF302")] == [
        "1 frame(s) equal to the previous one at frame 2 (t = 2), trajectory 0"]


def test_a_non_finite_trajectory_keeps_the_others_indices(tmp_path):
    f = np.stack([np.stack([np.where(np.arange(32).reshape(8, 4) % 2, 1.0, -1.0)
                            * (1 + 0.001 * i)] * 3) for i in range(7)])
    f[0] = np.nan  # trajectory 0: no finite frame (RMS NaN)
    f[6] *= 100.0  # trajectory 6: the outlier
    p = _frames_file(tmp_path / "nan.hdf5", f)
    rep = run([p], select=["WF304", "WF300"])
    (o,) = by(rep, "WF304")
    assert o.region == {"trajectory": [6, 6]}
    (n,) = by(rep, "WF300")
    assert n.observed == {"nan": 96, "inf": 0}


@pytest.mark.parametrize("amp,hit", [(8.0, True), (16.0, False)])
def test_outlier_floor_for_a_vector_field(tmp_path, amp, hit):
    """The floor is 1e-3 of the RMS over all components (not scaled by their number)."""
    checker = np.array([[1.0, -1.0, 1.0, -1.0], [-1.0, 1.0, -1.0, 1.0]] * 4)
    fr = np.stack([amp * checker for _ in range(27)])
    fr[-1] += 1 / 64
    v = np.stack([fr, fr], axis=-1)[None]
    p = _frames_file(tmp_path / "v.hdf5", v, fields=("u",), order=1)
    assert bool(by(run([p], select=["WF303"]), "WF303")) == hit


@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_seam_reference_is_the_largest_of_the_four_neighbouring_steps(tmp_path, which):
    """One of the four steps next to the wrap is 3, the others 1; a wrap jump of 10.5 is
    3.5 x the largest step: no seam, whichever step is the large one."""
    J = 10.5
    steps = [1.0, 1.0, 1.0, 1.0]  # c1 - c0, c2 - c1, c7 - c6 (negated), c6 - c5
    steps[which] = 3.0
    c0, c7 = 0.0, J
    c1 = c0 + steps[0]
    c2 = c1 + steps[1]
    c6 = c7 + steps[2]
    c5 = c6 + steps[3]
    mid = (c2 + c5) / 2
    line = np.array([c0, c1, c2, mid, mid, c5, c6, c7])
    f = np.stack([np.repeat(line[:, None], 4, axis=1) * (1 + k) for k in range(3)])[None]
    p = _frames_file(tmp_path / "s.hdf5", f)
    assert by(run([p], select=["WF400"]), "WF400") == []
    line[-1] = c7 = 13.5  # 4.5 x: a seam
    line[-2], line[-3] = c7 + steps[2], c7 + steps[2] + steps[3]
    f = np.stack([np.repeat(line[:, None], 4, axis=1) * (1 + k) for k in range(3)])[None]
    p = _frames_file(tmp_path / "s2.hdf5", f)
    assert len(by(run([p], select=["WF400"]), "WF400")) == 1


def test_seam_in_slabs_checks_the_other_axes(tmp_path):
    """Frames larger than the block budget are read in slabs of the first axis: its seam
    is not checked (a note says so), the second axis's still is."""
    from tests.test_validate_mutations import check_golden

    y = np.arange(16) / 16
    x = np.arange(16) / 16
    X, Y = np.meshgrid(x, y, indexing="ij")
    c = np.sin(2 * np.pi * X) + 8 * Y  # a ramp in y: a seam across the y wrap
    f = np.stack([c * (1 + k) for k in range(3)])[None]
    p = _frames_file(tmp_path / "slab.hdf5", f, bc=("PERIODIC", "PERIODIC"))
    rep = run([p], select=["WF400"], limits=Limits(block_bytes=16 * 4 * 4))
    (s,) = by(rep, "WF400")
    assert "'y'" in s.message
    assert any("the seam of the first axis was not checked" in n["note"] for n in rep.notes)
    check_golden("seam-slabs", rep.findings, str(tmp_path))


def test_energy_growth_on_the_chebyshev_fixture(tmp_path):
    from tests.test_validate_mutations import check_golden
    from tests.test_validate_physics import CHEB_CARD

    inv_ = [{"kind": "energy_non_increasing", "field": "velocity", "tolerance": 1e-3}]
    p = _cheb(tmp_path, {"invariants": CHEB_CARD["invariants"] + inv_})
    rep = run([p])
    # the velocity's amplitude is cos t (t = 0.5 k): its energy, ∝ cos² t, rises from
    # frame 3 to 4 (0.005 -> 0.173, by 34x) and from 4 to 5 (to 0.642)
    (e,) = by(rep, "WF416")
    assert e.observed["frame"] == 4 and e.observed["growth"] == pytest.approx(
        np.cos(2.0) ** 2 / np.cos(1.5) ** 2 - 1, rel=1e-3)
    assert e.curve["quantity"] == "energy (area mean of |u|^2/2)" and e.region["time"] == [4, 5]
    check_golden("chebyshev-energy", rep.findings, str(tmp_path))


def test_card_axes_and_parameters_on_one_side(tmp_path):
    import yaml

    from tests.test_validate_mutations import check_golden

    root, _ = _ds(tmp_path)
    p = os.path.join(root, "data", "train", "synthetic_alpha_1.hdf5")
    card = {"name": "xonly", "title": "t", "time_units": "s",
            "fields": [{"name": "c", "order": 0, "units": "mol/m^3"},
                       {"name": "velocity", "order": 1, "units": "m/s"},
                       {"name": "T", "order": 2, "units": "Pa"}],
            # energy is a scalar of the file but not a simulation parameter: not missing
            "parameters": [{"name": "alpha", "units": "1"}, {"name": "energy", "units": "J"}],
            "axes": [{"name": "x", "kind": "fourier", "bounds": [0, 2], "units": "m",
                      "bc": "PERIODIC"}]}
    cpath = tmp_path / "xonly.yaml"
    cpath.write_text(yaml.safe_dump(card))
    rep = run([p], level=2, card=str(cpath))
    assert not [f for f in rep.findings if "declares parameter" in f.message]
    msgs = {f.message for f in by(rep, "WF206")}
    assert any("axis 'y' is not an axis of card 'xonly'" in m for m in msgs)
    assert any("on axis 'y', which card 'xonly'" in m for m in msgs)
    check_golden("card-x-only", rep.findings, str(tmp_path))


def test_inventory_resolve_edge_names():
    i = so.Inventory(file_size=1, objects={"/": "group", "/a": "group", "/b": "dataset"},
                     soft_links={"/LX": "/a", "/r": "b"})
    assert i.resolve("/LX") == "/a"  # a name ending in X
    assert i.resolve("/r") == "/b"  # a relative link at the root


def test_walk_object_limit_from_both_sides(tmp_path):
    p = str(tmp_path / "n.hdf5")
    with h5py.File(p, "w") as f:
        for k in range(4):
            f.create_group(f"g{k}")
        f["alias"] = f["g0"]
    with h5py.File(p, "r") as f:
        assert not so.walk(f, Limits(max_objects=5)).truncated_walk
        assert so.walk(f, Limits(max_objects=4)).truncated_walk
        i = so.walk(f, Limits())
    assert {k: v for k, v in i.objects.items() if k in ("/alias", "/g0")} == {
        "/alias": "group", "/g0": "group"}


def test_virtual_sources_inside_the_dataset(tmp_path):
    root, _ = _ds(tmp_path)
    p = os.path.join(root, "data", "train", "synthetic_alpha_1.hdf5")
    src = os.path.join(root, "data", "train", "src.h5")
    with h5py.File(src, "w") as g:
        g["x"] = np.arange(4, dtype=np.float32)
    layout = h5py.VirtualLayout(shape=(4,), dtype=np.float32)
    layout[:] = h5py.VirtualSource(src, "x", shape=(4,))
    with h5py.File(p, "r+") as f:
        f.create_virtual_dataset("extra_vds", layout)
    assert by(run([p], level=0), "WF004") == []
    os.remove(src)
    (v,) = by(run([p], level=0), "WF004")
    assert v.message.endswith("does not exist (would read as fill values)")


def test_l0_limits_and_unallocated_messages(tmp_path):
    p = str(tmp_path / "l.hdf5")
    with h5py.File(p, "w") as f:
        g = f.create_group("g")
        for k in range(5):
            g.attrs[f"a{k}"] = k
        f.create_dataset("empty", shape=(16,), dtype=np.float32)  # contiguous, unwritten
        for k in range(3):
            f.create_group(f"h{k}")
    rep = run([p], level=0, limits=Limits(max_attrs_per_object=3, max_objects=3))
    got = {(f.code, f.object, f.message, repr(f.expected)) for f in rep.findings}
    assert ("WF007", "/", "more than 3 objects", "3") in got
    rep = run([p], level=0, limits=Limits(max_attrs_per_object=3))
    got = {(f.code, f.object, f.message) for f in rep.findings}
    assert ("WF007", "/g", "more than 3 attributes") in got
    assert ("WF009", "/empty", "no data stored: reads return the fill value") in got


def test_grid_descriptions():
    from types import SimpleNamespace

    from wellforge.validate import quadrature as q
    from wellforge.validate.checks import cards as cc

    want = {q.FOURIER: "uniform periodic", q.UNIFORM: "uniform",
            q.CELLS: "uniform cell centres", q.CHEBYSHEV: "Chebyshev–Gauss nodes",
            q.LOBATTO: "Chebyshev–Lobatto nodes", q.EQUIANGULAR: "equiangular colatitudes",
            q.GAUSS: "Gauss–Legendre colatitudes",
            q.NONUNIFORM: "neither uniform nor Chebyshev nor a sphere grid"}
    assert {k: cc._describe(SimpleNamespace(kind=k)) for k in want} == want


def test_card_grids_parameters_and_units(tmp_path):
    """Against a card: the x period may be a parameter of the file (alpha = 2), y's lower
    wall is off, a parameter exactly at its lower bound is in range, and units that
    contradict the card, mix dimensional and dimensionless, or give a group units."""
    import yaml

    from tests.test_validate_mutations import check_golden

    root, _ = _ds(tmp_path)
    p = os.path.join(root, "data", "train", "synthetic_alpha_2.hdf5")
    with h5py.File(p, "r+") as f:
        f["dimensions/y"].attrs["units"] = "furlongz"
        f["t0_fields/c"].attrs["units"] = "K"
        f["dimensions/time"].attrs["units"] = "1"
        f["scalars"].create_dataset("Reynolds", data=np.float32(5.0)).attrs.update(
            sample_varying=False, time_varying=False, units="m")
        f["scalars"].attrs["field_names"] = ["alpha", "energy", "Reynolds"]
    card = {"name": "grids", "title": "t", "time_units": "s",
            "fields": [{"name": "c", "order": 0, "units": "mol/m^3"},
                       {"name": "velocity", "order": 1, "units": "m/s"},
                       {"name": "T", "order": 2, "units": "Pa"}],
            "parameters": [{"name": "alpha", "units": "m", "low": 2.0, "high": 3.0}],
            "axes": [{"name": "x", "kind": "fourier", "bounds": [1, 6], "units": "m",
                      "bc": "PERIODIC"},
                     {"name": "y", "kind": "chebyshev", "bounds": [-0.5, 1], "units": "m",
                      "bc": "WALL"}]}
    cpath = tmp_path / "grids.yaml"
    cpath.write_text(yaml.safe_dump(card))
    rep = run([p], level=2, card=str(cpath))
    codes = {(f.code, f.object) for f in rep.findings}
    assert ("WF207", "/dimensions/x") not in codes  # the period 2 is the parameter alpha
    assert ("WF207", "/dimensions/y") in codes and not by(rep, "WF208")
    assert {"WF200", "WF201", "WF202", "WF203"} <= {c for c, _ in codes}
    check_golden("card-grids-units", rep.findings, str(tmp_path))


def test_uniform_card_axis_with_unknown_walls_and_unknown_system(tmp_path):
    import yaml

    from tests.test_validate_mutations import check_golden

    p = str(tmp_path / "u.hdf5")
    with WellWriter(p, "u", 1, np.arange(3.0)) as w:
        w.add_dimension("x", np.linspace(0.2, 0.9, 5))  # neither on the walls nor cells
        w.add_field("c")
        w.add_boundary_condition("x", "WALL")
        w.set_root_attrs(wellforge_card=yaml.safe_dump({
            "name": "u", "title": "t", "fields": [{"name": "c", "order": 0, "units": "1"}],
            "axes": [{"name": "x", "kind": "uniform", "bounds": [0, 1], "units": "1",
                      "bc": "WALL"}]}))
        for k in range(3):
            w.write_frame(0, k, {"c": np.arange(5.0) * (k + 1)})
    (g,) = by(run([p], level=2), "WF207")
    assert g.message == "axis 'x': uniform grid on [0.2, 0.9] (grid points), card 'u' " \
        "(@wellforge_card) declares [0, 1]"
    with h5py.File(p, "r+") as f:
        del f.attrs["wellforge_card"]
        f.attrs["wellforge_system"] = "no_such_system"
    rep = run([p], level=2)
    (u,) = by(rep, "WF209")
    assert u.object == "/" and "no_such_system" in u.message
    check_golden("card-unknown-system", rep.findings, str(tmp_path))
