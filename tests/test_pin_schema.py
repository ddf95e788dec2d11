"""Pins for schema/stats.py and schema/writer.py (tests/MUTATION.md): weighting with
unequal inputs, block boundaries, every writer rule from both sides, exact names.

Expected values are brute-force references (whole arrays concatenated) or literals, never
the code's own constants.
"""

from __future__ import annotations

import json
import os
from collections import namedtuple

import h5py
import numpy as np
import pytest

from wellforge.errors import DiskFull, SchemaError
from wellforge.schema import reader as rd
from wellforge.schema import stats as st
from wellforge.schema import writer as wr
from wellforge.schema.writer import WellWriter


def _file(path, n_traj, n_time, seed, nx=6, ny=4, with_static=False):
    rng = np.random.default_rng(seed)
    x = np.arange(nx) / nx
    y = np.linspace(0.0, 1.0, ny)
    data = {"c": rng.normal(2.0 + seed, 1.0 + seed, (n_traj, n_time, nx, ny)),
            "u": rng.normal(-1.0, 0.5 + seed, (n_traj, n_time, nx, ny, 2))}
    data = {k: v.astype(np.float32) for k, v in data.items()}
    with WellWriter(str(path), "pin", n_traj, 0.5 * np.arange(n_time)) as w:
        w.add_dimension("x", x)
        w.add_dimension("y", y)
        w.add_field("c")
        w.add_field("u", order=1)
        if with_static:
            w.add_field("k", sample_varying=False, time_varying=False)
        for i in range(n_traj):
            for k in range(n_time):
                w.write_frame(i, k, {"c": data["c"][i, k], "u": data["u"][i, k]})
        if with_static:
            w.write_frame(None, None, {"k": np.full((nx, ny), 3.0)})
    return data


def _brute(datas, name, order):
    """Whole-array statistics of all files' values pooled together (the Well's
    count-weighted mixture is exactly this)."""
    vals = np.concatenate([d[name].astype(np.float64).reshape(
        -1, *d[name].shape[d[name].ndim - order:]) for d in datas])
    dels = np.concatenate([np.diff(d[name].astype(np.float64), axis=1).reshape(
        -1, *d[name].shape[d[name].ndim - order:]) for d in datas])
    out = {}
    for key, x in (("", vals), ("_delta", dels)):
        out["mean" + key] = x.mean(axis=0)
        out["std" + key] = x.std(axis=0)
        out["rms" + key] = np.sqrt((x * x).mean(axis=0))
    return out


@pytest.fixture(scope="module")
def unequal(tmp_path_factory):
    """Three train files of different sizes (1x3, 3x7, 2x12 frames) and scales."""
    d = tmp_path_factory.mktemp("pin_stats")
    sizes = [(1, 3), (3, 7), (2, 12)]
    paths = [str(d / f"f{i}.hdf5") for i in range(3)]
    datas = [_file(p, *s, seed=i) for i, (p, s) in enumerate(zip(paths, sizes))]
    return paths, datas


@pytest.mark.parametrize("name,order", [("c", 0), ("u", 1)])
def test_pooling_is_count_weighted_over_files_of_different_sizes(unequal, name, order):
    paths, datas = unequal
    got = st.compute_stats(paths)
    ref = _brute(datas, name, order)
    for key, want in ref.items():
        np.testing.assert_allclose(np.asarray(got[key][name]), want, rtol=1e-10, atol=1e-12,
                                   err_msg=key)
    # the unweighted mean of the per-file means differs: the weighting matters here
    naive = np.mean([d[name].astype(np.float64).reshape(-1, *(
        (2,) if order else ())).mean(axis=0) for d in datas], axis=0)
    assert np.all(np.abs(naive - ref["mean"]) > 1e-3)


@pytest.mark.parametrize("frames_per_block", [1, 2, 5])
def test_deltas_across_read_blocks(unequal, monkeypatch, frames_per_block):
    """Trajectories longer than one streaming block: the delta between the last frame of
    a block and the first of the next counts, a delta across trajectories does not."""
    paths, datas = unequal
    nblocks = []
    real = rd.iter_blocks

    def small_blocks(dset, info, max_elements=None):
        frame = int(np.prod(info.shape[2:]))
        for item in real(dset, info, max_elements=frames_per_block * frame):
            nblocks.append(item[0])
            yield item

    monkeypatch.setattr(st, "iter_blocks", small_blocks)
    got = st.compute_stats(paths)
    # the setup: several blocks per trajectory
    assert len(nblocks) > 2 * sum(d["c"].shape[0] for d in datas)
    for name, order in (("c", 0), ("u", 1)):
        ref = _brute(datas, name, order)
        for key in ("mean_delta", "std_delta", "rms_delta", "mean", "std"):
            np.testing.assert_allclose(np.asarray(got[key][name]), ref[key], rtol=1e-10,
                                       atol=1e-12, err_msg=f"{name} {key}")


def test_one_frame_blocks_in_a_single_trajectory_file(tmp_path, monkeypatch):
    data = _file(tmp_path / "one.hdf5", 1, 4, seed=3)
    real = rd.iter_blocks
    monkeypatch.setattr(st, "iter_blocks", lambda d, i, max_elements=None: real(
        d, i, max_elements=int(np.prod(i.shape[2:]))))
    m = st.file_moments(str(tmp_path / "one.hdf5"))
    vals, dels = m["c"]
    assert vals.count == 4 * 24 and dels.count == 3 * 24
    d = np.diff(data["c"].astype(np.float64), axis=1)
    np.testing.assert_allclose(dels.mean, d.mean(), rtol=1e-12)
    np.testing.assert_allclose(dels.var, d.var(), rtol=1e-10)


def test_constant_field_has_values_but_no_deltas(tmp_path):
    _file(tmp_path / "s.hdf5", 2, 3, seed=1, with_static=True)
    m = st.file_moments(str(tmp_path / "s.hdf5"))
    vals, dels = m["k"]
    assert dels is None and vals.count == 24 and vals.mean == pytest.approx(3.0)
    out = st.compute_stats([str(tmp_path / "s.hdf5")])
    assert out["mean"]["k"] == pytest.approx(3.0) and out["std"]["k"] == pytest.approx(0.0)
    assert out["rms"]["k"] == pytest.approx(3.0)
    assert "c" in out["mean_delta"]
    assert all("k" not in out[key] for key in ("mean_delta", "std_delta", "rms_delta"))


def test_compute_stats_needs_files():
    with pytest.raises(ValueError, match="no train files"):
        st.compute_stats([])


def test_moments_merge_literals():
    m = st.Moments()
    m.merge(0, 5.0, 1.0)  # an empty part changes nothing
    assert m.count == 0
    m.merge(2, 1.0, 2.0)  # values 0, 2
    assert (m.count, m.mean, m.m2) == (2, 1.0, 2.0)
    m.merge(0, 100.0, 100.0)
    assert (m.count, m.mean, m.m2) == (2, 1.0, 2.0)
    m.merge(1, 4.0, 0.0)  # values 0, 2, 4: mean 2, m2 = 8
    assert m.count == 3 and m.mean == pytest.approx(2.0) and m.m2 == pytest.approx(8.0)
    assert m.var == pytest.approx(8.0 / 3)
    m2 = st.Moments()
    m2.add(np.zeros((0, 3)), order=0)
    assert m2.count == 0
    m2.add(np.array([[1.0, 3.0], [5.0, 7.0]]), order=1)  # per component: (1,5), (3,7)
    np.testing.assert_allclose(m2.mean, [3.0, 5.0])
    np.testing.assert_allclose(m2.var, [4.0, 4.0])


def test_pool_literals():
    a, b = st.Moments(), st.Moments()
    a.add(np.array([1.0, 1.0, 1.0]), 0)  # 3 x 1
    b.add(np.array([-3.0]), 0)  # 1 x -3
    mean, std, rms = st.pool([a, b])
    assert mean == pytest.approx(0.0)
    assert rms == pytest.approx(np.sqrt((3 + 9) / 4))
    assert std == pytest.approx(np.sqrt(3.0))
    c = st.Moments()
    c.add(np.array([2.0, 2.0]), 0)
    mean, std, rms = st.pool([c])
    assert std == 0.0 and mean == 2.0 and rms == 2.0  # never NaN from rounding below 0


def test_dump_stats_exact_text():
    assert st.dump_stats({"std": {"b": 2.0}, "mean": {"a": [0.5, -12345.678]}}) == (
        "mean:\n  a:\n  - 5.0000E-01\n  - -1.2346E+04\nstd:\n  b: 2.0000E+00\n")
    assert st.STAT_KEYS == ("mean", "std", "rms", "mean_delta", "std_delta", "rms_delta")


# -- writer --------------------------------------------------------------------------------

def _w(tmp_path, n_traj=1, time=(0.0, 1.0, 2.0), name="w.hdf5", **kw):
    return WellWriter(str(tmp_path / name), "pin", n_traj, np.asarray(time), **kw)


def test_writer_file_names_and_partial(tmp_path):
    w = _w(tmp_path, name="sub/a_b.hdf5")
    assert w.path == str(tmp_path / "sub" / "a_b.hdf5")
    assert w.partial == str(tmp_path / "sub" / "a_b.hdf5.partial")
    w.add_dimension("x", [0.0, 1.0])
    w.add_field("c", time_varying=False)
    w.write_frame(0, None, {"c": np.zeros(2)})
    assert sorted(os.listdir(tmp_path / "sub")) == ["a_b.hdf5.partial"]
    assert w.close() == w.path
    assert sorted(os.listdir(tmp_path / "sub")) == ["a_b.hdf5"]
    assert w.close() == w.path  # closing twice is harmless


def test_writer_layout_is_exact(tmp_path):
    t = np.array([[0.0, 0.5, 1.0], [0.0, 0.25, 0.5]])
    w = _w(tmp_path, n_traj=2, time=t, time_units="s", grid_type="equiangular")
    w.add_dimension("x", [3.0, 2.0, 1.0], units="m")  # decreasing is monotonic too
    w.add_dimension("y", [0.0, 1.0, 2.0, 4.0], units="m")
    w.add_parameter("Reynolds", 10)
    w.add_scalar("e", np.ones((2, 3)), units="J", sample_varying=True, time_varying=True)
    w.add_field("c", units="K")
    w.add_field("u", order=1, units="m/s")
    w.add_field("s", order=2, sample_varying=False)
    w.add_field("k", time_varying=False)
    w.add_boundary_condition("x", "wall", variant="noslip", fields=("u",),
                             values={"u_x": (0, 1), "u_y": (0, 0)})
    w.add_boundary_condition("y", "periodic")
    w.set_root_attrs(wellforge_system="sys")
    w.set_provenance({"arr": np.arange(3), "nums": [1, 2.5], "map": {"b": 1, "a": [1]},
                      "none": None, "s": "text", "strs": ["a", "b"], "empty": []})
    for i in range(2):
        w.write_frame(i, None, {"k": np.full((3, 4), i)})
        for k in range(3):
            w.write_frame(i, k, {"c": np.full((3, 4), 10 * i + k),
                                 "u": np.zeros((3, 4, 2))})
    for k in range(3):
        w.write_frame(None, k, {"s": np.zeros((3, 4, 2, 2))})
    w.close()
    with h5py.File(w.path) as f:
        a = dict(f.attrs)
        assert a["dataset_name"] == "pin" and a["n_spatial_dims"] == 2
        assert a["n_trajectories"] == 2 and a["grid_type"] == "equiangular"
        assert list(a["simulation_parameters"]) == ["Reynolds"] and a["Reynolds"] == 10.0
        assert a["wellforge_schema"] == "1.1"
        assert a["wellforge_system"] == "sys"
        assert list(f["dimensions"].attrs["spatial_dims"]) == ["x", "y"]
        tt = f["dimensions/time"]
        assert tt.dtype == np.float32 and tt.shape == (2, 3)
        assert tt.attrs["sample_varying"] and tt.attrs["time_varying"]
        assert tt.attrs["units"] == "s"
        xx = f["dimensions/x"]
        assert xx.dtype == np.float32 and list(xx[()]) == [3.0, 2.0, 1.0]
        assert not xx.attrs["sample_varying"] and not xx.attrs["time_varying"]
        assert xx.attrs["units"] == "m"
        assert list(f["scalars"].attrs["field_names"]) == ["Reynolds", "e"]
        r = f["scalars/Reynolds"]
        assert r.shape == () and r[()] == 10.0 and not r.attrs["sample_varying"]
        assert not r.attrs["time_varying"]
        e = f["scalars/e"]
        assert e.shape == (2, 3) and e.attrs["sample_varying"] and e.attrs["time_varying"]
        assert e.attrs["units"] == "J"
        assert sorted(f["boundary_conditions"]) == ["x_wall_noslip", "y_periodic"]
        g = f["boundary_conditions/x_wall_noslip"]
        assert g.attrs["bc_type"] == "WALL" and list(g.attrs["associated_dims"]) == ["x"]
        assert list(g.attrs["associated_fields"]) == ["u"]
        assert not g.attrs["sample_varying"] and not g.attrs["time_varying"]
        assert g["mask"].dtype == bool and list(g["mask"][()]) == [True, False, True]
        # JSON, not a dataset: the Well's create_mini_well refuses datasets it does not know
        assert "values" not in g and g.attrs["wellforge_values"] == \
            '{"u_x": [0.0, 1.0], "u_y": [0.0, 0.0]}'
        gy = f["boundary_conditions/y_periodic"]
        assert list(gy["mask"][()]) == [True, False, False, True] and "values" not in gy
        assert "wellforge_values" not in gy.attrs
        assert gy.attrs["bc_type"] == "PERIODIC"
        assert list(f["t0_fields"].attrs["field_names"]) == ["c", "k"]
        assert list(f["t1_fields"].attrs["field_names"]) == ["u"]
        assert list(f["t2_fields"].attrs["field_names"]) == ["s"]
        c = f["t0_fields/c"]
        assert c.shape == (2, 3, 3, 4) and c.dtype == np.float32 and c.chunks == (1, 1, 3, 4)
        assert c[1, 2, 0, 0] == 12.0 and c.attrs["units"] == "K"
        assert list(c.attrs["dim_varying"]) == [True, True]
        assert c.attrs["sample_varying"] and c.attrs["time_varying"]
        assert f["t1_fields/u"].shape == (2, 3, 3, 4, 2)
        s = f["t2_fields/s"]
        assert s.shape == (3, 3, 4, 2, 2) and s.chunks == (1, 3, 4, 2, 2)
        assert not s.attrs["sample_varying"] and s.attrs["time_varying"]
        k = f["t0_fields/k"]
        assert k.shape == (2, 3, 4) and k.chunks == (1, 3, 4) and k[1, 0, 0] == 1.0
        assert k.attrs["units"] == "1"
        p = f["provenance"]
        assert list(p) == []  # attributes only (the Well's tools refuse unknown datasets)
        assert p.attrs["arr"] == "[0, 1, 2]" and p.attrs["nums"] == "[1, 2.5]"
        assert json.loads(p.attrs["map"]) == {"a": [1], "b": 1}
        assert p.attrs["map"] == '{"a": [1], "b": 1}'
        assert p.attrs["none"] == "null" and p.attrs["s"] == "text"
        assert json.loads(p.attrs["strs"]) == ["a", "b"] and p.attrs["empty"] == "[]"
        assert isinstance(p.attrs["wellforge_version"], str)
        assert "T" in p.attrs["created"] and p.attrs["created"].endswith("+00:00")


def test_unchunked_constant_field(tmp_path):
    w = _w(tmp_path)
    w.add_dimension("x", [0.0, 1.0])
    w.add_field("k", sample_varying=False, time_varying=False)
    w.write_frame(None, None, {"k": np.ones(2)})
    w.close()
    with h5py.File(w.path) as f:
        assert f["t0_fields/k"].shape == (2,) and f["t0_fields/k"].chunks is None


def test_writer_boundaries_from_both_sides(tmp_path):
    with pytest.raises(SchemaError, match=r"n_trajectories: expected >= 1, given 0"):
        _w(tmp_path, n_traj=0)
    _w(tmp_path, n_traj=1)  # the smallest count is fine
    with pytest.raises(SchemaError, match="grid_type 'polar'"):
        _w(tmp_path, grid_type="polar")
    for bad in ([0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [[0.0, 0.0]], [0.0, np.inf], [1.0, 0.0]):
        with pytest.raises(SchemaError, match="dimensions/time"):
            _w(tmp_path, time=bad)
    with pytest.raises(SchemaError, match=r"expected shape \(T,\) or \(2, T\), given \(3, 2\)"):
        _w(tmp_path, n_traj=2, time=np.zeros((3, 2)) + np.arange(2))
    with pytest.raises(SchemaError, match="dimensions/time"):
        _w(tmp_path, time=np.zeros((1, 1, 2)))
    _w(tmp_path, time=[0.0, 1e-9])  # a tiny positive step is fine
    w = _w(tmp_path)
    with pytest.raises(SchemaError, match=r">= 2 points, given shape \(1,\)"):
        w.add_dimension("x", [0.0])  # a one-point axis
    with pytest.raises(SchemaError, match="strictly monotonic"):
        w.add_dimension("x", [0.0, 1.0, 1.0])  # a duplicated coordinate
    with pytest.raises(SchemaError, match="strictly monotonic"):
        w.add_dimension("x", [0.0, 2.0, 1.0])
    with pytest.raises(SchemaError, match="given inf at index 1"):
        w.add_dimension("x", [0.0, np.inf])
    with pytest.raises(SchemaError, match="given shape \\(2, 2\\)"):
        w.add_dimension("x", np.zeros((2, 2)))
    w.add_dimension("x", [0.0, 1.0])  # two points: the smallest axis
    with pytest.raises(SchemaError, match="dimensions/x: declared twice"):
        w.add_dimension("x", [0.0, 1.0])
    with pytest.raises(SchemaError, match="dimensions/time: declared twice"):
        w.add_dimension("time", [0.0, 1.0])
    with pytest.raises(SchemaError, match="scalars/p: expected a finite value, given nan"):
        w.add_parameter("p", float("nan"))
    with pytest.raises(SchemaError, match=r"scalars/e: expected shape \(\), given \(3,\)"):
        w.add_scalar("e", np.ones(3))
    with pytest.raises(SchemaError, match=r"scalars/e: expected shape \(1, 3\), given \(3,\)"):
        w.add_scalar("e", np.ones(3), sample_varying=True, time_varying=True)
    w.add_scalar("e", np.ones(3), time_varying=True)
    with pytest.raises(SchemaError, match="tensor order must be 0, 1 or 2, given 3"):
        w.add_field("q", order=3)
    w.add_field("c")
    with pytest.raises(SchemaError, match="t0_fields/c: declared twice"):
        w.add_field("c")
    with pytest.raises(SchemaError, match=r"no such dimension \(declared: x\)"):
        w.add_boundary_condition("y", "WALL")
    w.abort()
    assert not os.path.exists(w.partial) and not os.path.exists(w.path)


def test_frame_indices_from_both_sides(tmp_path):
    w = _w(tmp_path, n_traj=2)
    w.add_dimension("x", [0.0, 1.0])
    w.add_field("c")
    w.add_field("k", sample_varying=False, time_varying=False)
    z = np.zeros(2)
    w.write_frame(1, 2, {"c": z})  # the last valid indices
    for traj, t, what in ((2, 0, "trajectory 2"), (-1, 0, "trajectory -1"),
                          (0, 3, "time index 3"), (0, -1, "time index -1"),
                          (None, 0, "trajectory None"), (0, None, "time index None")):
        with pytest.raises(SchemaError, match=f"t0_fields/c: {what} out of range: the file "
                           f"declares {3 if 'time' in what else 2}"):
            w.write_frame(traj, t, {"c": z})
    with pytest.raises(SchemaError, match="t0_fields/k: is not trajectory-varying; pass None"):
        w.write_frame(0, None, {"k": z})
    with pytest.raises(SchemaError, match="t0_fields/k: is not time index-varying; pass None"):
        w.write_frame(None, 0, {"k": z})
    with pytest.raises(SchemaError, match="declarations must come before"):
        w.add_field("late")
    with pytest.raises(SchemaError, match="unknown field 'q': declared fields are c, k"):
        w.write_frame(0, 0, {"q": z})
    w.write_frame(None, None, {"k": z})
    for i in range(2):
        for k in range(3):
            if (i, k) != (0, 1):
                w.write_frame(i, k, {"c": z})
    with pytest.raises(SchemaError, match=r"missing c \(1 frames\)$"):
        w.close()
    assert not os.path.exists(w.partial)
    with pytest.raises(SchemaError, match="writer already closed"):
        w.write_frame(0, 0, {"c": z})


def test_no_dimension_and_exceptions_in_with(tmp_path):
    w = _w(tmp_path)
    with pytest.raises(SchemaError, match="no dimensions declared"):
        w.write_frame(0, 0, {})
    with pytest.raises(RuntimeError, match="boom"):
        with _w(tmp_path, name="e.hdf5") as w2:
            w2.add_dimension("x", [0.0, 1.0])
            w2.add_field("c")
            w2.write_frame(0, 0, {"c": np.zeros(2)})
            assert os.path.exists(w2.partial)
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


Statvfs = namedtuple("Statvfs", "f_bavail f_frsize")


@pytest.mark.parametrize("free_blocks,ok", [((32 + 2**20) // 2, True),
                                            ((32 + 2**20) // 2 - 1, False)])
def test_disk_reserve_boundary(tmp_path, monkeypatch, free_blocks, ok):
    """A frame of 4 float32 values (16 bytes) needs 2 x 16 bytes + 1 MiB free."""
    w = _w(tmp_path)
    w.add_dimension("x", [0.0, 1.0, 2.0, 3.0])
    w.add_field("c")
    w._open()
    # f_frsize 2: free bytes = 2 * f_bavail = 32 + 1 MiB (ok) or 2 bytes less
    monkeypatch.setattr(wr.os, "statvfs", lambda p: Statvfs(free_blocks, 2))
    if ok:
        w.write_frame(0, 0, {"c": np.zeros(4)})
    else:
        with pytest.raises(DiskFull, match=r"MiB free, below the 1 MiB reserve for writing "
                           r"w.hdf5"):
            w.write_frame(0, 0, {"c": np.zeros(4)})
    w.abort()


def test_io_errors_become_disk_full_only_for_enospc():
    import errno

    with pytest.raises(DiskFull, match="no space left on the device writing p"):
        with wr._io_errors("p"):
            raise OSError(errno.ENOSPC, "x")
    with pytest.raises(DiskFull):
        with wr._io_errors("p"):
            raise RuntimeError("Can't write data (No space left on device)")
    with pytest.raises(OSError, match="other"):
        with wr._io_errors("p"):
            raise OSError(errno.EIO, "other")


def test_snapshot_and_resume(tmp_path):
    def declare(w):
        w.add_dimension("x", [0.0, 1.0])
        w.add_field("c")
        w.add_field("k", time_varying=False)

    w = _w(tmp_path, name="a.hdf5")
    declare(w)
    w.write_frame(0, None, {"k": np.ones(2)})
    w.write_frame(0, 0, {"c": np.full(2, 7.0)})
    snap = str(tmp_path / "snap.hdf5")
    w.snapshot(snap)
    assert os.path.exists(snap) and not os.path.exists(snap + ".partial")
    w.write_frame(0, 1, {"c": np.full(2, 8.0)})  # still writable after the snapshot
    w.abort()
    with h5py.File(snap) as f:
        assert list(f["t0_fields/c"][0, 0]) == [7.0, 7.0]
    r = _w(tmp_path, name="b.hdf5")
    declare(r)
    r.resume(snap, 1)
    with pytest.raises(SchemaError, match="resume must come before"):
        r.resume(snap, 1)
    r.write_frame(0, 1, {"c": np.full(2, 8.0)})
    # frame 2 of c is missing; k is not time-varying: it is written again, not resumed
    with pytest.raises(SchemaError, match=r"missing c \(1 frames\), k \(1 frames\)$"):
        r.close()
    r = _w(tmp_path, name="c.hdf5")
    declare(r)
    r.resume(snap, 1)
    r.write_frame(0, None, {"k": np.ones(2)})
    r.write_frame(0, 1, {"c": np.full(2, 8.0)})
    r.write_frame(0, 2, {"c": np.full(2, 9.0)})
    r.close()
    with h5py.File(r.path) as f:
        assert f["t0_fields/c"][0, :, 0].tolist() == [7.0, 8.0, 9.0]
        assert f["t0_fields/k"][0].tolist() == [1.0, 1.0]


# -- survivors of the first mutation run (tests/MUTATION.md) --------------------------------

def test_merge_into_a_single_value():
    m = st.Moments()
    m.add(np.array([1.0]), 0)  # count 1
    m.merge(1, 3.0, 0.0)  # values 1, 3: mean 2, m2 2
    assert (m.count, m.mean, m.m2) == (2, 2.0, 2.0)


def test_sample_varying_constant_field_counts_every_trajectory(tmp_path):
    with WellWriter(str(tmp_path / "k.hdf5"), "pin", 3, np.arange(2.0)) as w:
        w.add_dimension("x", [0.0, 1.0])
        w.add_field("k", time_varying=False)
        for i in range(3):
            w.write_frame(i, None, {"k": np.full(2, float(i))})
    vals, dels = st.file_moments(str(tmp_path / "k.hdf5"))["k"]
    assert dels is None and vals.count == 6
    assert vals.mean == pytest.approx(1.0) and vals.var == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="^no train files to compute statistics from$"):
        st.compute_stats([])


def test_unit_errors_name_the_object(tmp_path):
    bad = "furlongz"
    with pytest.raises(SchemaError, match="^dimensions/time: units "):
        _w(tmp_path, time_units=bad)
    w = _w(tmp_path)
    w.add_dimension("x", [0.0, 1.0])
    for call, where in ((lambda: w.add_scalar("e", 1.0, units=bad), "scalars/e"),
                        (lambda: w.add_parameter("p", 1.0, units=bad), "scalars/p"),
                        (lambda: w.add_field("c", units=bad), "field c")):
        with pytest.raises(SchemaError, match=f"^{where}: units "):
            call()
    w.add_field("c")
    w.write_frame(0, 0, {"c": np.zeros(2)})
    for call, where in ((lambda: w.add_dimension("y", [0.0, 1.0]), "dimensions/y"),
                        (lambda: w.add_parameter("p", 1.0), "scalars/p"),
                        (lambda: w.add_scalar("e", 1.0), "scalars/e"),
                        (lambda: w.add_field("d", order=1), "t1_fields/d"),
                        (lambda: w.add_boundary_condition("x", "WALL"), "boundary_conditions/x")):
        with pytest.raises(SchemaError, match=f"^{where}: declarations must come before the "
                           "first frame is written$"):
            call()
    with pytest.raises(SchemaError, match="^resume must come before the first frame is written$"):
        w.resume(w.partial, 0)
    w.abort()
    e = _w(tmp_path, name="e.hdf5")
    with pytest.raises(SchemaError, match=r"\(declared: none\)$"):
        e.add_boundary_condition("x", "WALL")
    with pytest.raises(SchemaError, match="^no dimensions declared: call add_dimension first$"):
        e.write_frame(0, 0, {})
    e.add_dimension("x", [0.0, 1.0])
    with pytest.raises(SchemaError, match="declared fields are none$"):
        e.write_frame(0, 0, {"c": np.zeros(2)})
    e.abort()


@pytest.mark.parametrize("coords", [[1.0, 1.0], [2.0, 2.0, 2.0], [0.0, 0.5, 0.25],
                                    [0.0, -0.5, -0.25]])
def test_constant_or_turning_coordinates(tmp_path, coords):
    with pytest.raises(SchemaError, match="^dimensions/x: coordinates must be strictly monotonic$"):
        _w(tmp_path).add_dimension("x", coords)


def test_stored_dtypes_units_compression_libver(tmp_path):
    w = _w(tmp_path, compression="gzip")
    w.add_dimension("x", [0.0, 1.0])
    w.add_parameter("Re", 2, units="m")
    w.add_scalar("e", [1.0, 2.0, 3.0], time_varying=True)
    w.add_field("c")
    for k in range(3):
        w.write_frame(0, k, {"c": np.arange(2.0)})
    w._open()
    assert w._h5.libver == ("earliest", "v110")  # readable by HDF5 1.10 (the Well's h5py)
    w.close()
    with h5py.File(w.path) as f:
        assert f["scalars/Re"].attrs["units"] == "m" and f["scalars/Re"].dtype == np.float32
        assert f["scalars/e"].dtype == np.float32 and f["t0_fields/c"].compression == "gzip"


def test_snapshot_keeps_appending_to_the_same_file(tmp_path, monkeypatch):
    renames = []
    real = wr.atomic_rename
    monkeypatch.setattr(wr, "atomic_rename", lambda a, b: (renames.append((a, b)), real(a, b)))
    w = _w(tmp_path)
    w.add_dimension("x", [0.0, 1.0])
    w.add_field("c")
    w.write_frame(0, 0, {"c": np.full(2, 5.0)})
    snap = str(tmp_path / "snap.hdf5")
    w.snapshot(snap)
    assert renames == [(snap + ".partial", snap)]
    w.write_frame(0, 1, {"c": np.full(2, 6.0)})
    w.write_frame(0, 2, {"c": np.full(2, 7.0)})
    w.close()
    assert renames[-1] == (w.partial, w.path)
    w.close()  # a second close neither rewrites nor renames anything
    assert len(renames) == 2
    with h5py.File(w.path) as f:
        assert f["t0_fields/c"][0, :, 0].tolist() == [5.0, 6.0, 7.0]


def test_abort_closes_the_file_and_provenance_of_odd_objects(tmp_path):
    from pathlib import PurePosixPath

    w = _w(tmp_path)
    w.add_dimension("x", [0.0, 1.0])
    w.add_field("c", time_varying=False)
    w.write_frame(0, None, {"c": np.zeros(2)})
    h = w._h5
    w.abort()
    assert not h.id.valid and w._h5 is None and not os.path.exists(w.partial)
    v = _w(tmp_path, name="v.hdf5")
    v.add_dimension("x", [0.0, 1.0])
    v.add_field("c", time_varying=False)
    v.set_provenance({"where": {"path": PurePosixPath("/a/b")}})
    v.write_frame(0, None, {"c": np.zeros(2)})
    v.close()
    with h5py.File(v.path) as f:
        assert f["provenance"].attrs["where"] == '{"path": "/a/b"}'


def test_disk_full_messages(tmp_path, monkeypatch):
    import errno

    w = _w(tmp_path)
    w.add_dimension("x", [0.0, 1.0, 2.0, 3.0])
    w.add_field("c")
    w._open()
    monkeypatch.setattr(wr.os, "statvfs", lambda p: Statvfs(3 * 2**18, 2))  # 1.5 MiB free
    monkeypatch.setattr(wr, "DISK_RESERVE", 2 << 20)
    with pytest.raises(DiskFull) as e:
        w.write_frame(0, 0, {"c": np.zeros(4)})
    assert str(e.value) == (f"{tmp_path}: 1.5 MiB free, below the 2 MiB reserve for writing "
                            "w.hdf5: free space and rerun the same command (finished files "
                            "are kept)")
    monkeypatch.undo()

    def full(self, key, value):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(h5py.Dataset, "__setitem__", full)
    with pytest.raises(DiskFull) as e:
        w.write_frame(0, 0, {"c": np.zeros(4)})
    assert str(e.value) == (f"no space left on the device writing {w.partial}: free space "
                            "and rerun the same command (finished files are kept)")
    monkeypatch.undo()
    w.abort()


def test_last_writer_messages(tmp_path, monkeypatch):
    import errno

    with pytest.raises(SchemaError, match="^dimensions/time: expected finite, strictly "
                       "increasing values$"):
        _w(tmp_path, time=[0.0, 0.0])
    w = _w(tmp_path)
    w.add_dimension("x", [0.0, 1.0])
    w.add_dimension("y", [0.0, 1.0])
    with pytest.raises(SchemaError, match=r"\(declared: x, y\)$"):
        w.add_boundary_condition("z", "WALL")
    w.add_field("c", time_varying=False)
    w.write_frame(0, None, {"c": np.zeros((2, 2))})

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(h5py.File, "flush", full)
    with pytest.raises(DiskFull, match=f"^no space left on the device writing {w.partial}:"):
        w.close()
    monkeypatch.undo()
    w.abort()
