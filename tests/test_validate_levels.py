"""Properties of the levels beyond single faults: the Well's own dummy-fixture defects are
all reported at once, the streaming statistics equal the Well's stats computation, and
slab-wise reading (frames larger than the block budget) gives the same answers."""

from __future__ import annotations

import os

import h5py
import numpy as np
from wellforge.schema.dataset import split_files
from wellforge.schema.stats import compute_stats
from wellforge.validate.checks.dataset import recompute_stats
from wellforge.validate.context import Limits, Options
from wellforge.validate.runner import Target, validate, validate_file


def write_well_dummy(path):
    """A file with the defects of the Well's ``the_well/utils/dummy_data.py`` (Appendix A
    of the validator anchors): no @time_varying on time, associated_dims a scalar string,
    periodic masks all False."""
    n, T, nx, ny = 2, 4, 8, 8
    with h5py.File(path, "w") as f:
        f.attrs.update(dataset_name="dummy", n_spatial_dims=2, n_trajectories=n,
                       grid_type="cartesian", simulation_parameters=[])
        d = f.create_group("dimensions")
        d.attrs["spatial_dims"] = ["x", "y"]
        t = d.create_dataset("time", data=np.arange(T, dtype=np.float32))
        t.attrs["sample_varying"] = False
        for name, size in (("x", nx), ("y", ny)):
            c = d.create_dataset(name, data=np.linspace(0, 1, size, dtype=np.float32))
            c.attrs.update(sample_varying=False, time_varying=False)
        bc = f.create_group("boundary_conditions")
        for dim, size in (("x", nx), ("y", ny)):
            g = bc.create_group(f"{dim}_periodic")
            g.attrs.update(bc_type="PERIODIC", associated_dims=dim, associated_fields=[],
                           sample_varying=False, time_varying=False)
            mask = np.zeros(size, bool)
            mask[0] = mask[-1]  # the fixture's bug: copies a False
            g["mask"] = mask
        s = f.create_group("scalars")
        s.attrs["field_names"] = []
        for order in (0, 1, 2):
            g = f.create_group(f"t{order}_fields")
            g.attrs["field_names"] = ["a"] if order == 0 else []
        rng = np.random.default_rng(0)
        a = f["t0_fields"].create_dataset("a", data=rng.random((n, T, nx, ny), np.float32))
        a.attrs.update(dim_varying=[True, True], sample_varying=True, time_varying=True)


def test_well_dummy_defects_reported_all_at_once(tmp_path):
    p = str(tmp_path / "dummy.hdf5")
    write_well_dummy(p)
    rep = validate([p], Options())
    found = {(f.code, f.object) for f in rep.findings}
    assert ("WF101", "/dimensions/time") in found  # time_varying missing
    assert ("WF102", "/boundary_conditions/x_periodic") in found  # associated_dims scalar
    assert ("WF120", "/boundary_conditions/x_periodic/mask") in found  # read as OPEN
    assert ("WF120", "/boundary_conditions/y_periodic/mask") in found
    # a plain Well file: the wellforge extras are infos, not errors
    assert {f.severity.label for f in rep.findings if f.code in ("WF130", "WF131")} == {"info"}
    assert rep.exit_code(Options().fail_on) == 1


def test_streamed_stats_equal_the_wells_computation(wf_dataset):
    """The moments gathered by the streaming pass give compute_stats' numbers (to 1e-6),
    whole-frame and slab-wise."""
    train = split_files(wf_dataset, "train")
    want = compute_stats(train)
    for lim in (Limits(), Limits(block_bytes=200, direct_chunks=0)):
        files = []
        for p in train:
            t = Target(p, p, os.path.basename(p), wf_dataset, "train")
            res = validate_file(t, Options(limits=lim, isolate=False), ("moments",))
            files.append({"summary": res["summary"]})
        got = recompute_stats(files)
        for key, per_field in want.items():
            for name, v in per_field.items():
                scale = np.max(np.abs(want["rms_delta" if key.endswith("_delta")
                                           else "rms"][name]))
                np.testing.assert_allclose(got[key][name], v, rtol=1e-6, atol=1e-6 * scale)


def test_slab_reading_finds_the_same_nonfinite_and_constant_frames(wf_dataset):
    p = os.path.join(wf_dataset, "data/test/synthetic_alpha_21.hdf5")
    with h5py.File(p, "r+") as f:
        f["t2_fields/T"][1, 1, 3, 2, 0, 1] = np.nan
        f["t1_fields/velocity"][0, 2, ..., 1] = 0.0  # one constant component
    results = []
    # 64 B: two rows of T per read; prefetch 0: one thread (no read-ahead)
    for lim in (Limits(), Limits(block_bytes=64), Limits(prefetch=0),
                Limits(block_bytes=64, prefetch=0)):
        rep = validate([p], Options(limits=lim))
        results.append(sorted((f.code, f.object, str(f.region), f.message)
                              for f in rep.findings))
    assert all(r == results[0] for r in results[1:])
    codes = {r[0] for r in results[0]}
    assert {"WF300", "WF301"} <= codes
    assert any("velocity_y" in r[3] for r in results[0] if r[0] == "WF301")


def test_sample_varying_time_and_constant_field(tmp_path):
    """(n_traj, T) time arrays and a time-constant field are valid layouts."""
    from wellforge.schema.synthetic import grids
    from wellforge.schema.writer import WellWriter

    x, y = grids(16, 8)
    t = np.array([[0.0, 1.0, 2.0], [0.0, 0.5, 1.0]])
    p = str(tmp_path / "f.hdf5")
    with WellWriter(p, "var", 2, t, time_units="s") as w:
        w.add_dimension("x", x, units="m")
        w.add_dimension("y", y, units="m")
        w.add_field("c", order=0, units="1")
        w.add_field("mu", order=0, units="1", time_varying=False)
        w.add_boundary_condition("x", "PERIODIC")
        w.add_boundary_condition("y", "WALL")
        X, Y = np.meshgrid(x, y, indexing="ij")
        for i in range(2):
            w.write_frame(i, None, {"mu": 1 + np.cos(np.pi * X) * Y * (i + 1)})
            for k in range(3):  # periodic in x (period 2): the L4 seam check holds
                w.write_frame(i, k, {"c": np.sin(np.pi * X + t[i, k]) * np.cos(Y)})
    rep = validate([p], Options())
    assert rep.findings == []


def test_the_wells_own_dummy_fixture(tmp_path):
    """The Well's ``the_well/utils/dummy_data.py`` fails its own format checker at the
    first assertion (and exits 0); here all its defects come out at once, exit 1."""
    import importlib.util

    from tests.well_loader import require_well

    require_well()
    spec = importlib.util.find_spec("the_well")  # locate without importing torch
    path = os.path.join(os.path.dirname(spec.origin), "utils", "dummy_data.py")
    mspec = importlib.util.spec_from_file_location("the_well_dummy_data", path)
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    p = str(tmp_path / "dummy.hdf5")
    mod.write_dummy_data(p)
    rep = validate([p], Options())
    errors = {(f.code, f.object) for f in rep.findings if f.severity.label == "error"}
    assert errors == {
        ("WF101", "/dimensions/time"), ("WF101", "/dimensions/x"), ("WF101", "/dimensions/y"),
        ("WF102", "/boundary_conditions/x_periodic"),
        ("WF102", "/boundary_conditions/y_periodic"),
        ("WF120", "/boundary_conditions/x_periodic/mask"),
        ("WF120", "/boundary_conditions/y_periodic/mask"),
    }
    assert rep.exit_code(Options().fail_on) == 1


def test_corrupted_bytes_give_findings_not_crashes(wf_dataset, tmp_path):
    """Random byte corruption of the metadata region: a refusal, findings or a clean
    report, never an exception or an internal-error finding."""
    import random

    src = os.path.join(wf_dataset, "data/train/synthetic_alpha_1.hdf5")
    with open(src, "rb") as fh:
        data = fh.read()
    rng = random.Random(1)
    outcomes = set()
    for i in range(16):
        b = bytearray(data)
        for _ in range(rng.choice([1, 4, 16])):
            b[rng.randrange(0, 8192)] = rng.randrange(256)
        p = tmp_path / f"c{i}.hdf5"
        p.write_bytes(bytes(b))
        rep = validate([str(p)], Options(timeout=60))
        rc = rep.exit_code(Options().fail_on)
        assert rc in (0, 1, 3)
        assert "WF000" not in {f.code for f in rep.findings}
        outcomes.add(rc)
    assert 3 in outcomes  # some corruptions are caught as unreadable


def test_raw_chunk_reads_equal_hdf5_reads(tmp_path):
    """Frames of >= 64 KiB in one-frame chunks are read raw (H5Dread_chunk); the findings
    are those of the plain H5Dread path, and the raw path is really taken."""
    from wellforge.schema.synthetic import write_file
    from wellforge.validate import stream

    p = str(tmp_path / "big.hdf5")
    write_file(p, n_traj=2, n_time=6, nx=128, ny=128)
    with h5py.File(p, "r+") as f:
        f["t1_fields/velocity"][1, 4, 7, 9, 0] = np.inf
        f["t2_fields/T"][0, 5] = f["t2_fields/T"][0, 4]
    calls = []
    real = stream._read_chunks
    stream._read_chunks = lambda *a: calls.append(1) or real(*a)
    try:
        fast = validate([p], Options(isolate=False))
    finally:
        stream._read_chunks = real
    slow = validate([p], Options(isolate=False, limits=Limits(direct_chunks=0)))
    assert calls  # the raw path ran
    key = [(f.code, f.object, f.region, f.message) for f in fast.findings]
    assert key == [(f.code, f.object, f.region, f.message) for f in slow.findings]
    assert {"WF300", "WF302"} <= {k[0] for k in key}


def test_corrupt_chunk_mid_stream_is_a_finding_with_its_region(wf_dataset):
    """A compressed chunk whose bytes are corrupt fails to decompress half-way through
    the streaming pass: WF001 names the field and the block's trajectory and time range;
    the other fields are still checked (their NaN is found). With and without the
    read-ahead thread the findings are the same."""
    p = os.path.join(wf_dataset, "data/test/synthetic_alpha_21.hdf5")
    with h5py.File(p, "r+") as f:
        d = f["t1_fields/velocity"]
        data, attrs, shape = d[()], dict(d.attrs), d.shape
        del f["t1_fields/velocity"]
        d = f["t1_fields"].create_dataset("velocity", data=data, compression="gzip",
                                          chunks=(1, 1, *shape[2:]))
        for k, v in attrs.items():
            d.attrs[k] = v
        info = d.id.get_chunk_info_by_coord((1, 2) + (0,) * (len(shape) - 2))
        f["t0_fields"][next(iter(f["t0_fields"]))][0, 1, 0, 0] = np.nan
    with open(p, "r+b") as fh:
        fh.seek(info.byte_offset + info.size // 3)
        fh.write(bytes(range(256)) * max(1, info.size // 768))
    reports = [validate([p], Options(limits=Limits(prefetch=k))) for k in (1, 0)]
    keys = [sorted((f.code, f.object, str(f.region)) for f in r.findings) for r in reports]
    assert keys[0] == keys[1]
    bad = [f for f in reports[0].findings if f.code == "WF001"]
    assert len(bad) == 1 and bad[0].object == "/t1_fields/velocity"
    t0, t1 = bad[0].region["time"]
    assert bad[0].region["trajectory"] == [1, 1] and t0 <= 2 <= t1
    assert "read failed" in bad[0].message
    assert any(f.code == "WF300" and f.object.startswith("/t0_fields/")
               for f in reports[0].findings)
    assert reports[0].exit_code(Options().fail_on) == 3


def test_read_ahead_only_when_cores_are_free(monkeypatch):
    """One read-ahead thread per file while --jobs leaves a core for it; never with
    limits.prefetch = 0."""
    from wellforge.validate import stream

    monkeypatch.setattr(stream.os, "cpu_count", lambda: 4)
    assert stream.read_ahead(Options(jobs=1)) and stream.read_ahead(Options(jobs=2))
    assert not stream.read_ahead(Options(jobs=3))
    assert not stream.read_ahead(Options(jobs=1, limits=Limits(prefetch=0)))
    monkeypatch.setattr(stream.os, "cpu_count", lambda: 1)
    assert not stream.read_ahead(Options(jobs=1))
