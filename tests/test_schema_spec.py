"""The writer's output obeys every rule of the spec (schema/spec.py) on a multi-file
dataset with t0 + t1 + t2 fields, periodic and wall BCs, time-varying and constant scalars."""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from wellforge.errors import SchemaError
from wellforge.schema import spec
from wellforge.schema.dataset import SPLITS, split_files
from wellforge.schema.reader import attr_str
from wellforge.schema.synthetic import grids, write_dataset
from wellforge.schema.writer import WellWriter

from .spec_rules import assert_spec_rules

@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(str(tmp_path_factory.mktemp("syn") / "synthetic"), files_per_split=2)


def all_files(root):
    return [p for s in SPLITS for p in split_files(root, s)]


def test_layout_has_every_split(dataset):
    for s in SPLITS:
        assert len(split_files(dataset, s)) == 2
    for name in ("stats.yaml", "synthetic.yaml", "README.md"):
        assert os.path.isfile(os.path.join(dataset, name))


def test_every_spec_rule_holds(dataset):
    for path in all_files(dataset):
        assert_spec_rules(path)
    with h5py.File(all_files(dataset)[0], "r") as f:
        assert f["t2_fields/T"].shape[-2:] == (2, 2)  # t2 stored (..., D, D)
        sc = f["scalars"]
        assert {bool(sc[n].attrs["time_varying"]) for n in sc} == {True, False}


def test_bc_types_cover_periodic_and_wall(dataset):
    with h5py.File(all_files(dataset)[0], "r") as f:
        types = {attr_str(g.attrs["bc_type"]) for g in f["boundary_conditions"].values()}
    assert types == {"PERIODIC", "WALL"}


def test_render_markdown_lists_every_rule():
    text = spec.render_markdown()
    for rule in spec.RULES:
        assert rule.where in text
        for a in rule.attrs:
            assert f"`@{a.name}`" in text


# -- writer misuse ------------------------------------------------------------------------

def _writer(tmp_path, n_time=3):
    x, y = grids(8, 4)
    w = WellWriter(str(tmp_path / "w.hdf5"), "t", 1, np.arange(n_time, dtype=float))
    w.add_dimension("x", x)
    w.add_dimension("y", y)
    w.add_field("c")
    w.add_field("velocity", order=1)
    return w


def test_frame_of_wrong_shape(tmp_path):
    w = _writer(tmp_path)
    with pytest.raises(SchemaError, match=r"t1_fields/velocity: frame shape expected \(8, 4, 2\), given \(8, 4\)"):
        w.write_frame(0, 0, {"velocity": np.zeros((8, 4))})
    w.abort()


def test_unknown_field(tmp_path):
    w = _writer(tmp_path)
    with pytest.raises(SchemaError, match="unknown field 'pressure'"):
        w.write_frame(0, 0, {"pressure": np.zeros((8, 4))})
    w.abort()


def test_non_finite_coordinate(tmp_path):
    w = WellWriter(str(tmp_path / "w.hdf5"), "t", 1, np.arange(3.0))
    with pytest.raises(SchemaError, match=r"dimensions/x: coordinates must be finite, given nan at index 2"):
        w.add_dimension("x", np.array([0.0, 1.0, np.nan, 3.0]))


def test_append_past_declared_length(tmp_path):
    w = _writer(tmp_path, n_time=3)
    with pytest.raises(SchemaError, match="time index 3 out of range: the file declares 3"):
        w.write_frame(0, 3, {"c": np.zeros((8, 4))})
    with pytest.raises(SchemaError, match="trajectory 1 out of range"):
        w.write_frame(1, 0, {"c": np.zeros((8, 4))})
    w.abort()


def test_incomplete_file_is_not_finalised(tmp_path):
    w = _writer(tmp_path)
    w.write_frame(0, 0, {"c": np.zeros((8, 4)), "velocity": np.zeros((8, 4, 2))})
    with pytest.raises(SchemaError, match="missing c \\(2 frames\\)"):
        w.close()
    assert not os.path.exists(w.path) and not os.path.exists(w.partial)


def test_bad_units_and_bc(tmp_path):
    w = WellWriter(str(tmp_path / "w.hdf5"), "t", 1, np.arange(3.0))
    with pytest.raises(SchemaError, match="dimensions/x: units"):
        w.add_dimension("x", np.arange(4.0), units="furlongs per fortnightz")
    w.add_dimension("x", np.arange(4.0))
    with pytest.raises(SchemaError, match="no such dimension"):
        w.add_boundary_condition("z", "PERIODIC")
    with pytest.raises(SchemaError, match="bc_type 'SLIPPERY'"):
        w.add_boundary_condition("x", "slippery")


KILL_SCRIPT = """
import sys, time, numpy as np
from wellforge.schema.writer import WellWriter
w = WellWriter(sys.argv[1], "t", 2, np.arange(1000.0))
w.add_dimension("x", np.arange(64.0)); w.add_dimension("y", np.arange(32.0))
w.add_field("c")
w.write_frame(0, 0, {"c": np.ones((64, 32))})
w._h5.flush()
print("started", flush=True)
for k in range(1, 1000):
    w.write_frame(0, k, {"c": np.ones((64, 32))})
    time.sleep(0.01)
w.close()
"""


def test_sigkill_leaves_only_partial(tmp_path):
    path = tmp_path / "killed.hdf5"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert sorted(os.listdir(tmp_path)) == ["killed.hdf5.partial"]


def test_format_doc_is_rendered_from_the_spec():
    import os

    from wellforge.schema.spec import render_markdown

    path = os.path.join(os.path.dirname(__file__), "..", "schema", "FORMAT.md")
    with open(path) as fh:
        assert fh.read() == render_markdown(), "run: wellforge schema -o schema/FORMAT.md"
