"""Time-varying scalars (diagnostics) in the writer: declared with ``add_series``, one
number per frame through ``write_frame``, stored as the Well's (n_traj, T) scalars."""

import h5py
import numpy as np
import pytest
from wellforge.schema.writer import WellWriter

from wellforge.errors import SchemaError

T = np.arange(3) * 0.5


def writer(path):
    w = WellWriter(str(path), "toy", 2, T)
    w.add_dimension("x", np.arange(4.0))
    w.add_parameter("alpha", 2.0)
    w.add_field("c")
    w.add_series("energy", units="J")
    w.add_boundary_condition("x", "PERIODIC")
    return w


def test_series_are_stored_per_trajectory_and_frame(tmp_path):
    w = writer(tmp_path / "a.hdf5")
    for i in range(2):
        for k in range(3):
            w.write_frame(i, k, {"c": np.zeros(4), "energy": 10 * i + k + 0.25})
    w.close()
    with h5py.File(tmp_path / "a.hdf5") as f:
        d = f["scalars/energy"]
        np.testing.assert_array_equal(d[()], [[0.25, 1.25, 2.25], [10.25, 11.25, 12.25]])
        assert d.dtype == np.float32 and d.attrs["units"] == "J"
        assert bool(d.attrs["sample_varying"]) and bool(d.attrs["time_varying"])
        assert list(f["scalars"].attrs["field_names"]) == ["alpha", "energy"]


def test_a_missing_series_value_refuses_to_close(tmp_path):
    w = writer(tmp_path / "b.hdf5")
    for i in range(2):
        for k in range(3):
            w.write_frame(i, k, {"c": np.zeros(4), **({"energy": 1.0} if (i, k) != (1, 2)
                                                     else {})})
    with pytest.raises(SchemaError, match=r"missing energy \(1 frames\)"):
        w.close()
    assert not (tmp_path / "b.hdf5").exists() and not (tmp_path / "b.hdf5.partial").exists()


@pytest.mark.parametrize("traj, k, value, needle", [
    (2, 0, 1.0, "out of range"), (0, None, 1.0, "out of range"),
    (0, 0, np.ones(2), "one number per frame")])
def test_bad_series_writes_are_refused(tmp_path, traj, k, value, needle):
    w = writer(tmp_path / "c.hdf5")
    with pytest.raises(SchemaError, match=needle):
        w.write_frame(traj, k, {"energy": value})
    w.abort()


def test_a_series_is_declared_once(tmp_path):
    w = writer(tmp_path / "d.hdf5")
    for name in ("energy", "alpha"):
        with pytest.raises(SchemaError, match="declared twice"):
            w.add_series(name)
    w.abort()


def _field_writer(path):
    w = WellWriter(str(path), "toy", 1, T)
    w.add_dimension("x", np.arange(4.0))
    w.add_dimension("y", np.arange(6.0))
    w.add_field("u", order=1)
    w.add_boundary_condition("x", "PERIODIC")
    w.add_boundary_condition("y", "PERIODIC")
    return w


def test_frames_written_in_parts_are_whole_once_covered(tmp_path):
    """``write_part``: the pieces of a process mesh (here 2 × 2) land where they belong;
    a frame counts as written only when its parts cover it."""
    full = np.random.default_rng(0).normal(size=(3, 4, 6, 2)).astype(np.float32)
    w = _field_writer(tmp_path / "p.hdf5")
    for k in range(3):
        for xs in (slice(0, 2), slice(2, 4)):
            for ys in (slice(0, 3), slice(3, 6)):
                w.write_part(0, k, "u", (xs, ys), full[k, xs, ys])
    w.close()
    with h5py.File(tmp_path / "p.hdf5") as f:
        np.testing.assert_array_equal(f["t1_fields/u"][0], full)
    w = _field_writer(tmp_path / "q.hdf5")
    for k in range(3):
        w.write_part(0, k, "u", (slice(0, 4), slice(0, 3)), full[k, :, :3])  # half a frame
    with pytest.raises(SchemaError, match=r"missing u \(3 frames\)"):
        w.close()


def test_a_part_of_the_wrong_shape_is_refused(tmp_path):
    w = _field_writer(tmp_path / "r.hdf5")
    with pytest.raises(SchemaError, match=r"expects shape \(2, 3, 2\)"):
        w.write_part(0, 0, "u", (slice(0, 2), slice(0, 3)), np.zeros((2, 3)))
    w.abort()
