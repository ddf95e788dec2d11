"""Assert every rule of the spec (schema/spec.py) on a file: shared by the tests."""

import h5py
import numpy as np

from wellforge.schema import spec
from wellforge.schema.reader import attr_list, attr_str
from wellforge.schema.units import parse

KIND_CHECK = {
    "str": lambda v: isinstance(v, (str, bytes)),
    "int": lambda v: isinstance(v, (int, np.integer)),
    "bool": lambda v: isinstance(v, (bool, np.bool_)),
    "str_list": lambda v: isinstance(v, np.ndarray) and all(isinstance(x, (str, bytes)) for x in v),
    "bool_list": lambda v: isinstance(v, np.ndarray) and v.dtype == bool,
    "units": lambda v: isinstance(v, (str, bytes)) and parse(attr_str(v)) is not None,
}


def assert_attrs(obj, rule: spec.ObjectRule):
    for a in rule.attrs:
        assert a.name in obj.attrs, f"{obj.name}: missing @{a.name}"
        v = obj.attrs[a.name]
        assert KIND_CHECK[a.kind](v), f"{obj.name}@{a.name}: {v!r} is not {a.kind}"


def assert_spec_rules(path: str) -> None:
    """Assert every rule of schema/spec.py on one file."""
    if True:
        with h5py.File(path, "r") as f:
            assert_attrs(f, spec.ROOT)
            for g in spec.REQUIRED_GROUPS:
                assert g in f, g
            for p in attr_list(f.attrs["simulation_parameters"]):
                assert p in f.attrs and p in f["scalars"]
                assert f["scalars"][p].shape == ()  # constant scalars: shape ()
                assert np.isclose(float(f["scalars"][p][()]), float(f.attrs[p]), rtol=1e-6)
            n_traj = int(f.attrs["n_trajectories"])
            dims = f["dimensions"]
            assert_attrs(dims, spec.DIMENSIONS)
            names = attr_list(dims.attrs["spatial_dims"])
            assert len(names) == int(f.attrs["n_spatial_dims"])
            t = dims["time"]
            assert_attrs(t, spec.TIME)
            assert bool(t.attrs["time_varying"]) is True and t.dtype == np.float32
            assert np.all(np.diff(t[()]) > 0)
            sizes = []
            for d in names:
                c = dims[d]
                assert_attrs(c, spec.COORDINATE)
                assert c.ndim == 1 and c.dtype == np.float32 and np.all(np.isfinite(c[()]))
                sizes.append(c.shape[0])
            n_time = t.shape[-1]
            for order, gname in spec.FIELD_GROUPS.items():
                g = f[gname]
                assert_attrs(g, spec.FIELD_GROUP)
                fnames = attr_list(g.attrs["field_names"])
                assert sorted(fnames) == sorted(g.keys())
                for n in fnames:
                    d = g[n]
                    assert_attrs(d, spec.FIELD)
                    assert d.dtype == np.float32
                    want = spec.expected_shape(
                        n_traj=n_traj, n_time=n_time, dim_sizes=sizes,
                        sample_varying=bool(d.attrs["sample_varying"]),
                        time_varying=bool(d.attrs["time_varying"]),
                        dim_varying=list(d.attrs["dim_varying"]), order=order)
                    assert d.shape == want, (n, d.shape, want)
            for n in attr_list(f["t2_fields"].attrs["field_names"]):
                assert f["t2_fields"][n].shape[-2:] == (len(names),) * 2  # (..., D, D)
            sc = f["scalars"]
            assert_attrs(sc, spec.FIELD_GROUP)
            for n in attr_list(sc.attrs["field_names"]):
                d = sc[n]
                assert_attrs(d, spec.SCALAR)
                assert d.shape == spec.expected_shape(
                    n_traj=n_traj, n_time=n_time, dim_sizes=(),
                    sample_varying=bool(d.attrs["sample_varying"]),
                    time_varying=bool(d.attrs["time_varying"]))
            for name, g in f["boundary_conditions"].items():
                assert_attrs(g, spec.BOUNDARY)
                dims_ = attr_list(g.attrs["associated_dims"])
                assert all(d in names for d in dims_)
                bc = attr_str(g.attrs["bc_type"])
                assert bc in spec.BC_TYPES and name.startswith(f"{dims_[0]}_{bc.lower()}")
                m = g["mask"][()]
                assert m.dtype == bool and m.shape == (sizes[names.index(dims_[0])],)
                assert m[0] and m[-1] and not m[1:-1].any()
            assert attr_str(f.attrs["wellforge_schema"]) == spec.SCHEMA_VERSION
            assert_attrs(f["provenance"], spec.PROVENANCE)
