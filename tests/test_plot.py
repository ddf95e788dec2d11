"""See the data: ``wellforge plot`` (Cartesian, Chebyshev and spherical grids), the
dataset card's previews made at finalize, ``wellforge info``.

Pictures are checked by reading colours back: a pixel at a known physical position must
show the value of the grid point nearest to it (true geometry and orientation, not array
indices)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from PIL import Image  # noqa: E402  (a matplotlib dependency)

from wellforge.cli import main  # noqa: E402
from wellforge.schema import plot as wplot  # noqa: E402
from wellforge.schema.writer import WellWriter  # noqa: E402

T = np.arange(4) * 0.5


def write(path, dims, fields, grid_type="cartesian", units="m"):
    """A one-trajectory Well file; ``fields``: name -> f(mesh..., t) (vectors: last axis)."""
    with WellWriter(str(path), "toy", 1, T, time_units="s", grid_type=grid_type) as w:
        for name, c in dims.items():
            w.add_dimension(name, c, units=units if grid_type == "cartesian" else "rad")
        w.add_parameter("alpha", 2.0, units="1")
        mesh = np.meshgrid(*dims.values(), indexing="ij")
        for name in fields:
            vector = name == "velocity"
            w.add_field(name, order=int(vector), units="m/s" if vector else "K")
        for name in dims:
            w.add_boundary_condition(name, "PERIODIC" if name in ("x", "phi") else "OPEN")
        w.set_provenance({"generator": "test"})
        for k, t in enumerate(T):
            w.write_frame(0, k, {n: fn(*mesh, t) for n, fn in fields.items()})
    return str(path)


def cheb(n, lo=0.0, hi=1.0):
    return lo + (hi - lo) * (1 - np.cos(np.pi * (np.arange(n) + 0.5) / n)) / 2


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("plots")
    x = 2.0 * np.arange(32) / 32
    nt, nphi = 24, 48
    theta = (np.arange(nt) + 0.5) * np.pi / nt  # colatitude, cell centres
    phi = 2 * np.pi * np.arange(nphi) / nphi
    return {
        "cartesian": write(d / "cart.hdf5", {"x": x, "y": np.arange(16) / 16}, {
            "fx": lambda X, Y, t: X + 0 * t, "fy": lambda X, Y, t: Y + 0 * t,
            "velocity": lambda X, Y, t: np.stack([np.sin(np.pi * X + t), Y], -1)}),
        "chebyshev": write(d / "cheb.hdf5", {"x": x, "y": cheb(16)}, {
            "fx": lambda X, Y, t: X + 0 * t, "fy": lambda X, Y, t: Y + 0 * t}),
        "sphere": write(d / "sphere.hdf5", {"theta": theta, "phi": phi}, {
            "fx": lambda TH, PH, t: PH + 0 * t,  # longitude
            "fy": lambda TH, PH, t: np.cos(TH) + 0 * t},  # sin(latitude): north high
            grid_type="equiangular"),
        "cube": write(d / "cube.hdf5", {"x": x, "y": np.arange(16) / 16, "z": cheb(12)}, {
            "fx": lambda X, Y, Z, t: X + 0 * t, "fy": lambda X, Y, Z, t: Y + 0 * t,
            "fz": lambda X, Y, Z, t: Z + 0 * t}),
    }


class Reader:
    """Colour -> value through the panel's colormap and norm."""

    def __init__(self, plot: wplot.Plot, panel: int = 0):
        self.rgba = plot.rgba()
        self.ax, art = plot.axes[panel], plot.artists[panel]
        self.lut = art.cmap(np.linspace(0, 1, 256))[:, :3] * 255
        self.lo, self.hi = art.norm.vmin, art.norm.vmax

    def at(self, x, y) -> float:
        """Value shown at data coordinates (x, y)."""
        px, py = self.ax.transData.transform((x, y))
        rgb = self.rgba[self.rgba.shape[0] - 1 - int(py), int(px), :3].astype(float)
        k = int(np.argmin(np.sum((self.lut - rgb) ** 2, axis=1)))
        return self.lo + (self.hi - self.lo) * k / 255


def not_blank(path) -> None:
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGB"), dtype=float)
    assert a.std() > 20 and len(np.unique(a.reshape(-1, 3), axis=0)) > 50


@pytest.mark.parametrize("kind", ["cartesian", "chebyshev", "sphere"])
@pytest.mark.parametrize("size", [(640, 300), (801, 333)])
def test_png_has_the_requested_size_and_is_not_blank(files, tmp_path, kind, size):
    out = tmp_path / f"{kind}.png"
    assert main(["plot", files[kind], "--field", "fy", "--out", str(out),
                 "--size", f"{size[0]}x{size[1]}", "--times", "0,-1"]) == 0
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == size
    not_blank(out)


def test_cartesian_orientation_x_right_y_up(files):
    xs, ys = 2.0 * np.arange(32) / 32, np.arange(16) / 16
    r = Reader(wplot.render(files["cartesian"], "fx", times=[0], size=(600, 400)))
    got = [r.at(x, 0.5) for x in xs[2:-2]]
    np.testing.assert_allclose(got, xs[2:-2], atol=0.02 * 2)  # value x at position x
    r = Reader(wplot.render(files["cartesian"], "fy", times=[0], size=(600, 400)))
    np.testing.assert_allclose([r.at(1.0, y) for y in ys[1:-1]], ys[1:-1], atol=0.02)
    assert r.ax.get_aspect() == 1.0  # equal aspect: a 2 × 1 domain is twice as wide


def test_chebyshev_points_are_drawn_where_they_are(files):
    """Each node's value shows at the node's height; index-spaced drawing would put the
    clustered wall nodes far from their heights."""
    y = cheb(16)
    r = Reader(wplot.render(files["chebyshev"], "fy", times=[0], size=(500, 600)))
    np.testing.assert_allclose([r.at(1.0, yj) for yj in y[1:-1]], y[1:-1], atol=0.01)
    # and between nodes, the nearest node's value
    for yp in (0.05, 0.3, 0.62, 0.93):
        assert abs(r.at(1.0, yp) - y[np.argmin(np.abs(y - yp))]) < 0.01


def test_sphere_map_north_up_east_right(files):
    nt, nphi = 24, 48
    lat = 90 - np.degrees((np.arange(nt) + 0.5) * np.pi / nt)
    lon = np.degrees(2 * np.pi * np.arange(nphi) / nphi)
    r = Reader(wplot.render(files["sphere"], "fy", times=[0], size=(720, 400)))
    got = [r.at(180.0, la) for la in lat[1:-1]]
    np.testing.assert_allclose(got, np.sin(np.radians(lat[1:-1])), atol=0.01)
    assert r.at(180.0, 80.0) > 0.9 and r.at(180.0, -80.0) < -0.9  # north at the top
    r = Reader(wplot.render(files["sphere"], "fx", times=[0], size=(720, 400)))
    np.testing.assert_allclose([r.at(lo, 10.0) for lo in lon[1:-1]],
                               np.radians(lon[1:-1]), atol=0.03)


def test_3d_orthogonal_slices_show_the_three_mid_planes(files, tmp_path):
    """--slice orthogonal: the (x, y), (x, z) and (y, z) planes through the centre at one
    time, each at its true geometry, its axes named with their units, its plane in the
    title; one colour scale for the three."""
    z = cheb(12)
    for field, probe in (("fx", lambda p, v: (v, 0.5) if p < 2 else None),
                         ("fy", lambda p, v: (0.5, v) if p == 0 else (v, 0.5) if p == 2
                          else None),
                         ("fz", lambda p, v: (0.5, v) if p > 0 else None)):
        plot = wplot.render(files["cube"], field, times=[0, -1], slice_="orthogonal",
                            size=(1000, 360))
        assert len(plot.axes) == 3
        assert [a.get_title() for a in plot.axes] == [
            f"z = {z[6]:.4g}", "y = 0.5", "x = 1"]
        assert [(a.get_xlabel(), a.get_ylabel()) for a in plot.axes] == [
            ("x [m]", "y [m]"), ("x [m]", "z [m]"), ("y [m]", "z [m]")]
        assert len({(a.norm.vmin, a.norm.vmax) for a in plot.artists}) == 1
        for panel in range(3):
            r = Reader(plot, panel)
            values = {"fx": 2.0 * np.arange(4, 28) / 32, "fy": np.arange(2, 14) / 16,
                      "fz": z[2:-2]}[field]
            pts = [probe(panel, v) for v in values]
            if pts[0] is None:  # the field does not vary across this plane: constant
                continue
            np.testing.assert_allclose([r.at(*pt) for pt in pts], values,
                                       atol=0.01 * (values.max() - values.min()) + 0.02)
    out = tmp_path / "cube.png"
    assert main(["plot", files["cube"], "--field", "fz", "--slice", "orthogonal",
                 "--out", str(out)]) == 0
    not_blank(out)


@pytest.mark.parametrize("target, out, needle", [
    ("cartesian", "a.png", "needs 3-D data"), ("cube", "a.gif", "not an animation")])
def test_orthogonal_slices_refused_where_they_do_not_apply(files, tmp_path, capsys, target,
                                                           out, needle):
    assert main(["plot", files[target], "--field", "fx", "--slice", "orthogonal",
                 "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not (tmp_path / out).exists()


def test_sphere_mollweide(files, tmp_path):
    plot = wplot.render(files["sphere"], "fy", times=[0], size=(600, 330),
                        projection="mollweide")
    assert plot.axes[0].name == "mollweide"
    r = Reader(plot)  # sample off the 30°/15° grid lines
    assert r.at(0.2, np.radians(80)) > 0.95 and r.at(0.2, np.radians(-80)) < -0.95
    assert abs(r.at(1.0, np.radians(2))) < 0.1
    out = tmp_path / "m.png"
    assert main(["plot", files["sphere"], "--field", "fy", "--projection", "mollweide",
                 "--size", "600x330", "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.size == (600, 330)
    not_blank(out)


def test_gif_has_one_frame_per_time_and_the_size(files, tmp_path):
    out = tmp_path / "v.gif"
    assert main(["plot", files["cartesian"], "--field", "velocity", "--out", str(out),
                 "--size", "400x260"]) == 0
    with Image.open(out) as im:
        assert im.size == (400, 260) and im.n_frames == len(T)
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB"), dtype=float))
    assert all(f.std() > 20 for f in frames)
    assert np.abs(frames[0] - frames[1]).mean() > 0.5  # the field moves between frames


def test_vector_magnitude_and_components(files):
    plot = wplot.render(files["cartesian"], "velocity", times=[0])
    X, Y = np.meshgrid(2.0 * np.arange(32) / 32, np.arange(16) / 16, indexing="ij")
    np.testing.assert_allclose(plot.frames[0], np.hypot(np.sin(np.pi * X), Y), atol=1e-6)
    plot = wplot.render(files["cartesian"], "velocity_y", times=[0])
    np.testing.assert_allclose(plot.frames[0], Y, atol=1e-6)


@pytest.mark.parametrize("args, code, needle", [
    (["--field", "nope"], 2, "fields: fx, fy, |velocity|"),
    (["--field", "fx", "--size", "12"], 2, "--size"),
    (["--field", "fx", "--times", "9"], 2, "4 stored times"),
    (["--field", "fx", "--traj", "3"], 2, "1 trajectories"),
])
def test_plot_user_errors(files, tmp_path, capsys, args, code, needle):
    out = tmp_path / "e.png"
    assert main(["plot", files["cartesian"], *args, "--out", str(out)]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert needle.replace("|velocity|", "velocity") in err or needle in err
    assert not out.exists()


def test_plot_refuses_other_files(tmp_path, capsys):
    bad = tmp_path / "bad.hdf5"
    bad.write_bytes(b"not hdf5 at all")
    assert main(["plot", str(bad), "--field", "x", "--out", str(tmp_path / "a.png")]) == 3
    assert main(["plot", str(tmp_path / "missing.h5"), "--field", "x", "--out",
                 str(tmp_path / "a.png")]) == 2
    assert main(["plot", str(bad), "--field", "x", "--out", str(tmp_path / "a.jpg")]) == 2


# -- previews at finalize ----------------------------------------------------------------

def test_finalize_embeds_a_preview_per_field(tmp_path):
    from wellforge.schema.synthetic import write_dataset

    root = write_dataset(str(tmp_path / "synthetic"))
    text = (tmp_path / "synthetic" / "README.md").read_text()
    for name in ("c", "velocity", "T"):
        assert f"![{name}](previews/{name}.png)" in text
        png = tmp_path / "synthetic" / "previews" / f"{name}.png"
        with Image.open(png) as im:
            assert im.format == "PNG" and im.size[0] >= 400
        not_blank(png)
    assert main(["validate", root]) == 0  # the previews folder does not disturb a dataset


def test_finalize_without_matplotlib_still_writes_the_card(tmp_path, monkeypatch):
    from wellforge.errors import ConfigError
    from wellforge.schema.synthetic import write_dataset

    def missing():
        raise ConfigError("plotting needs matplotlib: pip install 'wellforge[plot]'")

    monkeypatch.setattr(wplot, "_mpl", missing)
    write_dataset(str(tmp_path / "s"))
    text = (tmp_path / "s" / "README.md").read_text()
    assert "## Data" in text and "Previews" not in text
    assert not (tmp_path / "s" / "previews").exists()


# -- info --------------------------------------------------------------------------------

def test_info_summarises_units_grids_parameters_and_provenance(files, capsys):
    assert main(["info", files["chebyshev"]]) == 0
    out = capsys.readouterr().out
    assert "Δt = 0.5 (uniform)" in out and "[s]" in out
    assert "Chebyshev nodes on [0, 1]" in out and "uniform" in out
    assert "alpha = 2" in out and "t0_fields/fy" in out and "[K]" in out
    assert "generator: test" in out
    assert main(["info", files["chebyshev"], "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [a["grid"] for a in d["axes"]] == ["uniform", "Chebyshev nodes on [0, 1]"]
    assert d["fields"][0]["shape"] == [1, 4, 32, 16] and d["parameters"]["alpha"]["value"] == 2
    assert main(["info", files["chebyshev"], "--tree"]) == 0
    tree = capsys.readouterr().out
    assert "t0_fields/" in tree and "@units = K" in tree and "(1, 4, 32, 16) float32" in tree
