"""Mutation harness: from a clean synthetic wf_dataset, each test injects exactly one fault
and asserts that the rule for it fires (and the exit code); the clean dataset gives no
finding at all.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from wellforge.schema import spec
from wellforge.schema.synthetic import write_file
from wellforge.validate.checks import load_all
from wellforge.validate.context import Options
from wellforge.validate.runner import validate

TRAIN = "data/train/synthetic_alpha_1.hdf5"
TRAIN2 = "data/train/synthetic_alpha_2.hdf5"
VALID = "data/valid/synthetic_alpha_11.hdf5"


def run(paths, **kw):
    rep = validate([str(p) for p in paths], Options(**kw))
    return rep, rep.exit_code(Options(**kw).fail_on)


def edit(root, rel=TRAIN):
    return h5py.File(os.path.join(root, rel), "r+")


def replace(f, path, data, **create):
    """Rewrite an HDF5 dataset with new data (keeping its attributes)."""
    attrs = dict(f[path].attrs)
    del f[path]
    d = f.create_dataset(path, data=data, **create)
    d.attrs.update(attrs)


# -- the clean fixture ------------------------------------------------------------------

def test_clean_dataset_has_no_findings(wf_dataset):
    rep, rc = run([wf_dataset])
    assert [(f.code, f.file, f.message) for f in rep.findings] == []
    assert rc == 0 and rep.files == 6


def test_plain_well_file_gets_only_infos_for_wellforge_extras(wf_dataset):
    """A file without wellforge's additions (like the Well's own files): infos only."""
    path = os.path.join(wf_dataset, TRAIN)
    with h5py.File(path, "r+") as f:
        del f.attrs["wellforge_schema"]
        del f["provenance"]
        f.visititems(lambda n, o: o.attrs.__delitem__("units") if "units" in o.attrs else None)
    rep, rc = run([path])
    assert {f.code for f in rep.findings} == {"WF130", "WF131"}
    assert all(f.severity.label == "info" for f in rep.findings)
    assert rc == 0


# -- one fault per rule -----------------------------------------------------------------

MUTATIONS = []


def mutation(code, exit_code=1, name=None):
    def deco(fn):
        MUTATIONS.append(pytest.param(fn, code, exit_code,
                                      id=f"{code}-{name or fn.__name__}"))
        return fn
    return deco


def _attr_targets():
    """(object path in the fixture, Attr) for every required attribute of the spec."""
    where = {spec.ROOT: "/", spec.DIMENSIONS: "/dimensions", spec.TIME: "/dimensions/time",
             spec.COORDINATE: "/dimensions/x", spec.FIELD_GROUP: "/t0_fields",
             spec.FIELD: "/t1_fields/velocity", spec.SCALAR: "/scalars/alpha",
             spec.BOUNDARY: "/boundary_conditions/x_periodic"}
    for rule, path in where.items():
        for a in rule.attrs:
            if not a.wellforge:
                yield path, a


WRONG = {"str": 5, "int": 2.5, "bool": "yes", "str_list": "x", "bool_list": np.array([1, 1]),
         "units": 3}


@pytest.mark.parametrize("path,attr", list(_attr_targets()),
                         ids=lambda v: v if isinstance(v, str) else v.name)
def test_missing_required_attribute(wf_dataset, path, attr):
    with edit(wf_dataset) as f:
        del f[path].attrs[attr.name]
    rep, rc = run([os.path.join(wf_dataset, TRAIN)], level=1)
    hits = [x for x in rep.findings if x.code == "WF101" and x.object == path]
    assert hits and attr.name in hits[0].message
    assert rc == 1


@pytest.mark.parametrize("path,attr", list(_attr_targets()),
                         ids=lambda v: v if isinstance(v, str) else v.name)
def test_mistyped_required_attribute(wf_dataset, path, attr):
    with edit(wf_dataset) as f:
        f[path].attrs[attr.name] = WRONG[attr.kind]
    rep, rc = run([os.path.join(wf_dataset, TRAIN)], level=1)
    hits = [x for x in rep.findings if x.code == "WF102" and x.object == path]
    assert hits and attr.name in hits[0].message
    assert rc == 1


@mutation("WF100")
def missing_group(root):
    with edit(root) as f:
        del f["t2_fields"]
    return os.path.join(root, TRAIN)


@mutation("WF103")
def spatial_dims_count(root):
    with edit(root) as f:
        f.attrs["n_spatial_dims"] = np.int64(3)
    return os.path.join(root, TRAIN)


@mutation("WF104")
def parameter_without_scalar(root):
    with edit(root) as f:
        f.attrs["simulation_parameters"] = ["alpha", "beta"]
        f.attrs["beta"] = 2.0
    return os.path.join(root, TRAIN)


@mutation("WF105")
def listed_field_missing(root):
    with edit(root) as f:
        f["t0_fields"].attrs["field_names"] = ["c", "pressure"]
    return os.path.join(root, TRAIN)


@mutation("WF106", exit_code=0)
def unlisted_field(root):
    with edit(root) as f:
        f["t0_fields"].copy("c", "c_copy")
    return os.path.join(root, TRAIN)


@mutation("WF107")
def coordinate_missing(root):
    with edit(root) as f:
        del f["dimensions/y"]
    return os.path.join(root, TRAIN)


@mutation("WF108", name="scalar-shape")
def scalar_shape(root):
    with edit(root) as f:
        replace(f, "scalars/alpha", np.array([1.0], np.float32))
    return os.path.join(root, TRAIN)


@mutation("WF108", name="coordinate-length")
def coordinate_length(root):
    with edit(root) as f:
        replace(f, "dimensions/x", np.linspace(0, 2, 17, dtype=np.float32))
    return os.path.join(root, TRAIN)


@mutation("WF108", name="time-not-time-varying")
def time_flag(root):
    with edit(root) as f:
        f["dimensions/time"].attrs["time_varying"] = False
    return os.path.join(root, TRAIN)


@mutation("WF109")
def n_trajectories_mismatch(root):
    with edit(root) as f:
        f.attrs["n_trajectories"] = np.int64(3)
    return os.path.join(root, TRAIN)


@mutation("WF110")  # the checker then also expects the axis gone (WF108)
def dim_varying_false(root):
    with edit(root) as f:
        f["t0_fields/c"].attrs["dim_varying"] = np.array([True, False])
    return os.path.join(root, TRAIN)


@mutation("WF111")
def float64_field(root):
    with edit(root) as f:
        replace(f, "t0_fields/c", f["t0_fields/c"][()].astype(np.float64))
    return os.path.join(root, TRAIN)


@mutation("WF112")
def time_backwards(root):
    with edit(root) as f:
        t = f["dimensions/time"][()]
        t[3] = t[1]
        f["dimensions/time"][...] = t
    return os.path.join(root, TRAIN)


@mutation("WF113")
def time_non_uniform(root):
    with edit(root) as f:
        t = f["dimensions/time"][()]
        t[3] += 0.1
        f["dimensions/time"][...] = t
    return os.path.join(root, TRAIN)


@mutation("WF114")
def coordinates_not_monotonic(root):
    with edit(root) as f:
        x = f["dimensions/x"][()]
        x[5] = x[2]
        f["dimensions/x"][...] = x
    return os.path.join(root, TRAIN)


@mutation("WF116")
def unknown_bc_type(root):
    with edit(root) as f:
        f["boundary_conditions/x_periodic"].attrs["bc_type"] = "SLIPPERY"
    return os.path.join(root, TRAIN)


@mutation("WF117", exit_code=0)
def lower_case_bc_type(root):
    with edit(root) as f:
        f["boundary_conditions/x_periodic"].attrs["bc_type"] = "periodic"
    return os.path.join(root, TRAIN)


@mutation("WF118")
def bc_unknown_dim(root):
    with edit(root) as f:
        f["boundary_conditions/x_periodic"].attrs["associated_dims"] = ["q"]
    return os.path.join(root, TRAIN)


@mutation("WF119")
def bc_mask_missing(root):
    with edit(root) as f:
        del f["boundary_conditions/x_periodic/mask"]
    return os.path.join(root, TRAIN)


@mutation("WF120")
def empty_periodic_mask(root):
    with edit(root) as f:
        f["boundary_conditions/x_periodic/mask"][...] = False
    return os.path.join(root, TRAIN)


@mutation("WF121", exit_code=0)
def bc_group_name(root):
    with edit(root) as f:
        f.move("boundary_conditions/x_periodic", "boundary_conditions/first")
    return os.path.join(root, TRAIN)


@mutation("WF122", exit_code=0)
def bc_multi_dim(root):
    with edit(root) as f:
        del f["boundary_conditions/x_periodic"]
        del f["boundary_conditions/y_wall_noslip"]
        g = f.create_group("boundary_conditions/xy_periodic")
        g.attrs.update(bc_type="PERIODIC", associated_dims=["x", "y"], associated_fields=[],
                       sample_varying=False, time_varying=False)
        m = np.zeros((16, 8), bool)
        m[[0, -1], :] = True
        m[:, [0, -1]] = True
        g["mask"] = m
    return os.path.join(root, TRAIN)


@mutation("WF123", exit_code=0)
def bc_axis_uncovered(root):
    with edit(root) as f:
        del f["boundary_conditions/y_wall_noslip"]
    return os.path.join(root, TRAIN)


@mutation("WF124", exit_code=0)
def unknown_grid_type(root):
    with edit(root) as f:
        f.attrs["grid_type"] = "hexagonal"
    return os.path.join(root, TRAIN)


@mutation("WF130")
def units_missing_on_wellforge_file(root):
    with edit(root) as f:
        del f["t1_fields/velocity"].attrs["units"]
    return os.path.join(root, TRAIN)


@mutation("WF131")
def provenance_missing_on_wellforge_file(root):
    with edit(root) as f:
        del f["provenance"]
    return os.path.join(root, TRAIN)


# L0 -------------------------------------------------------------------------------------

@mutation("WF001", exit_code=3, name="truncated")
def truncated(root):
    p = os.path.join(root, TRAIN)
    with open(p, "r+b") as fh:
        fh.truncate(os.path.getsize(p) // 2)
    return p


@mutation("WF001", exit_code=3, name="not-hdf5")
def not_hdf5(root):
    p = os.path.join(root, TRAIN)
    with open(p, "wb") as fh:
        fh.write(b"this is not an HDF5 file\n" * 100)
    return p


@mutation("WF001", exit_code=3, name="fifo")
def fifo(root):
    p = os.path.join(root, "data", "train", "pipe.hdf5")
    os.mkfifo(p)  # opening it would block forever: refused without opening
    return p


@mutation("WF002", exit_code=3, name="external-link")
def external_link(root):
    with edit(root) as f:
        f["t0_fields/leak"] = h5py.ExternalLink("/etc/passwd", "/x")
    return os.path.join(root, TRAIN)


@mutation("WF002", exit_code=3, name="dangling-soft-link")
def dangling_soft_link(root):
    with edit(root) as f:
        f["t0_fields/ghost"] = h5py.SoftLink("/nowhere/at/all")
    return os.path.join(root, TRAIN)


@mutation("WF003", exit_code=3)
def external_storage(root):
    outside = os.path.join(os.path.dirname(root), "raw.bin")
    np.zeros(64, np.float32).tofile(outside)
    with edit(root) as f:
        f.create_dataset("scalars/raw", shape=(64,), dtype=np.float32,
                         external=[(outside, 0, 256)])
    return os.path.join(root, TRAIN)


@mutation("WF004", exit_code=3)
def virtual_dataset_outside(root):
    outside = os.path.join(os.path.dirname(root), "outside.h5")
    with h5py.File(outside, "w") as g:
        g["x"] = np.arange(16, dtype=np.float32)
    layout = h5py.VirtualLayout(shape=(16,), dtype=np.float32)
    layout[:] = h5py.VirtualSource(outside, "x", shape=(16,))
    with edit(root) as f:
        f.create_virtual_dataset("scalars/virtual", layout)
    return os.path.join(root, TRAIN)


@mutation("WF005", exit_code=3)
def filter_not_allowed(root):
    with edit(root) as f:
        f.create_dataset("scalars/scaled", data=np.arange(100, dtype=np.float32),
                         scaleoffset=2)
    return os.path.join(root, TRAIN)


@mutation("WF006", exit_code=3)
def shape_bomb(root):
    with edit(root) as f:
        f.create_dataset("t0_fields/bomb", shape=(10**7, 10**7, 10**7), dtype=np.float32,
                         chunks=(1, 1, 1024))
    return os.path.join(root, TRAIN)


@mutation("WF007", exit_code=3, name="too-deep")
def too_deep(root):
    with edit(root) as f:
        f.create_group("/".join(["deep"] * 40))
    return os.path.join(root, TRAIN)


@mutation("WF007", exit_code=3, name="huge-attribute")
def huge_attribute(root):
    p = os.path.join(root, "data", "train", "bigattr.hdf5")
    with h5py.File(p, "w", libver="latest") as f:  # dense attribute storage
        f.attrs.create("big", np.zeros(300_000, np.float64))  # 2.4 MB > 1 MiB limit
    return p


@mutation("WF008", exit_code=0)
def soft_link(root):
    with edit(root) as f:
        f["t0_fields/alias"] = h5py.SoftLink("/t0_fields/c")
    return os.path.join(root, TRAIN)


@mutation("WF009", exit_code=0)
def unallocated_dataset(root):
    with edit(root) as f:
        f.create_dataset("scalars/empty", shape=(1000,), dtype=np.float32, chunks=(100,))
    return os.path.join(root, TRAIN)


@mutation("WF010", exit_code=0, name="bytes-after-end-of-file")
def bytes_after_end(root):
    with open(os.path.join(root, TRAIN), "ab") as fh:
        fh.write(b"\0" * 4096)
    return os.path.join(root, TRAIN)


# L3 -------------------------------------------------------------------------------------

@mutation("WF300", name="nan-frame")
def nan_frame(root):
    with edit(root) as f:
        f["t0_fields/c"][1, 2] = np.nan
    return os.path.join(root, TRAIN)


@mutation("WF300", name="inf-value")
def inf_value(root):
    with edit(root) as f:
        f["t1_fields/velocity"][0, 3, 4, 5, 1] = np.inf
    return os.path.join(root, TRAIN)


@mutation("WF301", exit_code=0)
def constant_frame(root):
    with edit(root) as f:
        f["t0_fields/c"][0, 3] = 0.7
    return os.path.join(root, TRAIN)


@mutation("WF302", exit_code=0)
def repeated_frame(root):
    with edit(root) as f:
        f["t2_fields/T"][1, 4] = f["t2_fields/T"][1, 3]
    return os.path.join(root, TRAIN)


@mutation("WF303", exit_code=0)
def outlier_frame(root):
    p = os.path.join(root, "data", "train", "long.hdf5")
    write_file(p, n_traj=1, n_time=40)
    with h5py.File(p, "r+") as f:
        f["t0_fields/c"][0, 20] += 3.0
    return p


@mutation("WF304", exit_code=0)
def trajectory_scaled_1000(root):
    p = os.path.join(root, "data", "train", "many.hdf5")
    write_file(p, n_traj=12, n_time=4)
    with h5py.File(p, "r+") as f:
        f["t1_fields/velocity"][5] = f["t1_fields/velocity"][5] * 1000
    return p


# L5 -------------------------------------------------------------------------------------

@mutation("WF500")
def dataset_name_differs(root):
    with edit(root, VALID) as f:
        f.attrs["dataset_name"] = "other"
    return root


@mutation("WF501")
def resolution_differs(root):
    p = os.path.join(root, VALID)
    os.remove(p)
    write_file(p, nx=32, param=11.0)
    return root


@mutation("WF502")
def fields_differ(root):
    with edit(root, VALID) as f:
        f["t0_fields"].copy("c", "c2")
        f["t0_fields"].attrs["field_names"] = ["c", "c2"]
    return root


@mutation("WF503", exit_code=0)
def split_missing(root):
    shutil.rmtree(os.path.join(root, "data", "test"))
    return root


@mutation("WF504", exit_code=0)
def directory_misnamed(root):
    new = os.path.join(os.path.dirname(root), "renamed")
    os.rename(root, new)
    return new


@mutation("WF510")
def split_overlap(root):
    shutil.copy(os.path.join(root, TRAIN), os.path.join(root, "data", "valid", "leak.hdf5"))
    return root


@mutation("WF511", exit_code=1)
def duplicate_in_split(root):
    shutil.copy(os.path.join(root, TRAIN), os.path.join(root, "data", "train", "copy.hdf5"))
    return root


@mutation("WF520")
def wrong_stats_yaml(root):
    p = os.path.join(root, "stats.yaml")
    stats = yaml.safe_load(Path(p).read_text())
    stats["std"]["c"] = 123.0
    Path(p).write_text(yaml.safe_dump(stats))
    return root


@mutation("WF530")
def wrong_metadata_yaml(root):
    p = os.path.join(root, "synthetic.yaml")
    meta = yaml.safe_load(Path(p).read_text())
    meta["spatial_resolution"] = [64, 64]
    Path(p).write_text(yaml.safe_dump(meta, sort_keys=False))
    return root


@mutation("WF531")
def metadata_counts_wrong(root):
    p = os.path.join(root, "synthetic.yaml")
    meta = yaml.safe_load(Path(p).read_text())
    meta["n_trajectories_per_file"] = [2, 5]
    Path(p).write_text(yaml.safe_dump(meta, sort_keys=False))
    return root


@mutation("WF540", exit_code=0)
def dataset_trajectory_scaled_1000(root):
    """One parameter set in every split (the Well's layout), one trajectory scaled: WF540
    compares trajectories of the same parameters."""
    for s in ("train", "valid", "test"):
        for name in os.listdir(os.path.join(root, "data", s)):
            with edit(root, f"data/{s}/{name}") as f:
                f["scalars/alpha"][()] = 1.0
    with edit(root, "data/test/synthetic_alpha_22.hdf5") as f:  # not train: stats stay right
        f["t0_fields/c"][1] = f["t0_fields/c"][1] * 1000
    return root


GOLDEN = Path(__file__).parent / "golden" / "mutations"


def _rounded(v):
    """Floats to 5 significant digits (the last bits may differ between BLAS builds)."""
    if isinstance(v, float):
        return float(f"{v:.5g}")
    if isinstance(v, list):
        return [_rounded(x) for x in v]
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    return v


def recorded(findings, root) -> list[dict]:
    """Findings as plain data, the dataset's location replaced by '<root>' (its parent
    folder, where some faults put files outside the dataset, by '<tmp>')."""
    import json

    out = []
    for f in findings:
        d = {k: v for k, v in f.to_dict().items() if k not in ("fingerprint", "fix")}
        d["file"] = os.path.relpath(d["file"], root) if os.path.isabs(d["file"]) else d["file"]
        text = json.dumps(d, default=str).replace(str(root), "<root>")
        text = re.sub(r"in a file of \d+ bytes", "in a file of N bytes", text)  # HDF5 version
        out.append(_rounded(json.loads(text.replace(os.path.dirname(str(root)), "<tmp>"))))
    return out


def check_golden(name: str, findings, root) -> None:
    """Every finding equals the reviewed record tests/golden/mutations/<name>.json:
    the findings are the validator's output, so their wording and numbers are behaviour.
    WELLFORGE_UPDATE_GOLDEN=1 writes the records: review the diff."""
    import json

    got = recorded(findings, root)
    path = GOLDEN / f"{name}.json"
    if os.environ.get("WELLFORGE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert path.exists(), f"no record {path.name}: rerun with WELLFORGE_UPDATE_GOLDEN=1, review"
    assert got == json.loads(path.read_text())


@pytest.mark.parametrize("mutate,code,exit_code", MUTATIONS)
def test_mutation_fires_its_rule(wf_dataset, mutate, code, exit_code, request):
    """Each fault fires its rule, and every finding (severity, object, region, message,
    expected and observed values) equals its reviewed record (``check_golden``)."""
    target = mutate(wf_dataset)
    rep, rc = run([target])
    fired = {f.code for f in rep.findings}
    assert code in fired, f"{code} did not fire; got {sorted(fired)}"
    assert rc == exit_code, [(f.code, f.message) for f in rep.findings]
    check_golden(request.node.callspec.id, rep.findings, wf_dataset)


def test_every_rule_has_a_mutation():
    """The harness covers every registered rule (WF000 is covered in the CLI tests, the
    L2 units/card and L4 physics rules in test_validate_physics.py)."""
    from tests.test_validate_physics import MUTATED_CODES

    covered = {p.values[1] for p in MUTATIONS} | {"WF101", "WF102", "WF000"} | MUTATED_CODES
    assert set(load_all()) - covered == set()


# -- what the findings say --------------------------------------------------------------

def test_nan_finding_names_trajectory_and_time(wf_dataset):
    nan_frame(wf_dataset)
    rep, _ = run([os.path.join(wf_dataset, TRAIN)])
    (f,) = [x for x in rep.findings if x.code == "WF300"]
    assert f.object == "/t0_fields/c"
    assert f.region == {"trajectory": [1, 1], "time": [2, 2]}
    assert f.observed == {"nan": 128, "inf": 0}


def test_refused_file_is_not_read_further(wf_dataset):
    """A shape bomb stops validation at L0: no structure or data finding follows."""
    shape_bomb(wf_dataset)
    rep, rc = run([os.path.join(wf_dataset, TRAIN)])
    assert rc == 3
    assert "WF006" in {f.code for f in rep.findings}
    assert all(f.code.startswith("WF0") for f in rep.findings)


def test_outlier_trajectory_is_the_scaled_one(wf_dataset):
    p = trajectory_scaled_1000(wf_dataset)
    rep, _ = run([p])
    hits = [f for f in rep.findings if f.code == "WF304"]
    assert hits and all(f.region == {"trajectory": [5, 5]} for f in hits)


def test_repeated_frame_found_in_slabs_and_without_raw_chunks(wf_dataset):
    """Frames larger than the block budget are read in slabs; the normal H5Dread path
    (no raw chunk reads) and a single thread (no read-ahead) give the same findings."""
    from wellforge.validate.context import Limits

    repeated_frame(wf_dataset)
    nan_frame(wf_dataset)
    p = os.path.join(wf_dataset, TRAIN)
    base, _ = run([p])
    for lim in (Limits(block_bytes=256), Limits(direct_chunks=0), Limits(prefetch=0)):
        rep, _ = run([p], limits=lim)
        assert [(f.code, f.object, f.region) for f in rep.findings] == \
            [(f.code, f.object, f.region) for f in base.findings]
    assert {"WF300", "WF302"} <= {f.code for f in base.findings}
