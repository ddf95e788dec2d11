"""Read the description of a Well-layout file, and stream its frames.

Used by the dataset finalizer (stats, metadata), the tests and the validator. Reading
the description touches attributes and small coordinate arrays only; field data are
read one block of frames at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import h5py
import numpy as np

from . import spec


def attr_str(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def attr_value(v):
    """An attribute as plain Python: text decoded, JSON text (``{...}``/``[...]``, as
    wellforge stores mappings) parsed, numpy values as lists and scalars."""
    v = attr_str(v) if isinstance(v, (bytes, str)) else v
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return json.loads(v)
        except ValueError:
            return v
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def read_provenance(f: h5py.File) -> dict:
    """The ``/provenance`` group as plain data (attributes and datasets); {} if absent."""
    if spec.PROVENANCE_GROUP not in f:
        return {}
    g = f[spec.PROVENANCE_GROUP]
    out = {k: attr_value(v) for k, v in g.attrs.items()}
    out.update({k: d[()].tolist() for k, d in g.items() if isinstance(d, h5py.Dataset)})
    return out


def bc_values(g: h5py.Group) -> dict[str, list[float]] | None:
    """Prescribed values of a boundary-condition group, {field or component: [low, high]}:
    ``@wellforge_values``, or an older file's ``values`` dataset when it holds one pair
    for every associated field; None when the group prescribes none (or in a form that
    needs the file's fields to read: see the validator's WF210)."""
    if spec.BC_VALUES_ATTR in g.attrs:
        try:
            data = json.loads(attr_str(g.attrs[spec.BC_VALUES_ATTR]))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    if "values" in g and isinstance(g["values"], h5py.Dataset) and g["values"].size == 2:
        lo, hi = (float(x) for x in g["values"][()].ravel())
        return {n: [lo, hi] for n in attr_list(g.attrs.get("associated_fields"))} or None
    return None


def attr_list(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, (str, bytes)):
        return [attr_str(v)]
    return [attr_str(x) for x in np.asarray(v).tolist()]


@dataclass
class FieldInfo:
    name: str
    order: int
    path: str
    shape: tuple[int, ...]
    sample_varying: bool
    time_varying: bool
    units: str | None

    @property
    def tensor_shape(self) -> tuple[int, ...]:
        return self.shape[len(self.shape) - self.order:] if self.order else ()


@dataclass
class WellFileInfo:
    path: str
    dataset_name: str
    n_spatial_dims: int
    n_trajectories: int
    grid_type: str
    spatial_dims: list[str]
    dim_sizes: tuple[int, ...]
    time: np.ndarray
    coords: dict[str, np.ndarray]
    fields: list[FieldInfo]
    scalars: dict[str, np.ndarray]
    scalar_flags: dict[str, tuple[bool, bool]]  # name -> (sample_varying, time_varying)
    bc_types: dict[str, str]  # group name -> bc_type
    attrs: dict = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return int(self.time.shape[-1])

    def field(self, name: str) -> FieldInfo:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def read_info(path: str) -> WellFileInfo:
    """Describe a Well file (attributes, coordinates, field shapes; no field data)."""
    with h5py.File(path, "r") as f:
        dims = f["dimensions"]
        spatial = attr_list(dims.attrs.get("spatial_dims"))
        coords = {d: dims[d][()] for d in spatial}
        fields = []
        for order, gname in spec.FIELD_GROUPS.items():
            g = f[gname]
            for name in attr_list(g.attrs.get("field_names")):
                d = g[name]
                fields.append(FieldInfo(
                    name, order, f"{gname}/{name}", tuple(d.shape),
                    bool(d.attrs.get("sample_varying", False)),
                    bool(d.attrs.get("time_varying", False)),
                    attr_str(d.attrs["units"]) if "units" in d.attrs else None))
        scalars, flags = {}, {}
        for name in attr_list(f["scalars"].attrs.get("field_names")):
            d = f["scalars"][name]
            scalars[name] = d[()]
            flags[name] = (bool(d.attrs.get("sample_varying", False)),
                           bool(d.attrs.get("time_varying", False)))
        bcs = {k: attr_str(g.attrs.get("bc_type", "")) for k, g in f["boundary_conditions"].items()}
        return WellFileInfo(
            path=path,
            dataset_name=attr_str(f.attrs["dataset_name"]),
            n_spatial_dims=int(f.attrs["n_spatial_dims"]),
            n_trajectories=int(f.attrs["n_trajectories"]),
            grid_type=attr_str(f.attrs.get("grid_type", "")),
            spatial_dims=spatial,
            dim_sizes=tuple(int(c.shape[-1]) for c in coords.values()),
            time=dims["time"][()],
            coords=coords,
            fields=fields,
            scalars=scalars,
            scalar_flags=flags,
            bc_types=bcs,
            attrs={k: f.attrs[k] for k in f.attrs},
        )


def iter_blocks(dset: h5py.Dataset, info: FieldInfo, max_elements: int = 1 << 24
                ) -> Iterator[tuple[int | None, slice | None, np.ndarray]]:
    """Yield ``(traj, time_slice, block)`` covering a field, each block a run of whole
    frames of one trajectory with at most ``max_elements`` values (bounded memory)."""
    lead = int(info.sample_varying) + int(info.time_varying)
    frame = int(np.prod(info.shape[lead:], dtype=np.int64)) or 1
    if not info.time_varying:
        if info.sample_varying:
            for i in range(info.shape[0]):
                yield i, None, dset[i]
        else:
            yield None, None, dset[()]
        return
    n_time = info.shape[1] if info.sample_varying else info.shape[0]
    step = max(1, max_elements // frame)
    for i in range(info.shape[0]) if info.sample_varying else [None]:
        for t0 in range(0, n_time, step):
            sl = slice(t0, min(n_time, t0 + step))
            yield i, sl, dset[(i, sl) if info.sample_varying else (sl,)]
