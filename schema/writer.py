"""Streaming, atomic writer for one Well-layout HDF5 file.

Declare the axes, scalars, fields and boundary conditions, then append frames as the
solver produces them. Data go to ``<path>.partial``; ``close()`` checks that every
declared frame was written, flushes, fsyncs and renames. A crash or kill leaves only the
``.partial`` file; an exception inside the ``with`` block removes it.

>>> with WellWriter("f.hdf5", "shear_flow", n_trajectories=1, time=t) as w:
...     w.add_dimension("x", x, units="1"); w.add_dimension("y", y, units="1")
...     w.add_parameter("Reynolds", 1e4)
...     w.add_field("tracer", order=0)
...     w.add_boundary_condition("x", "PERIODIC"); w.add_boundary_condition("y", "PERIODIC")
...     w.write_frame(0, 0, {"tracer": s0})
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

import h5py
import numpy as np

from wellforge import __version__
from wellforge.errors import DiskFull, SchemaError

from . import spec
from .units import check_units


def _json_default(v):
    """numpy values in provenance as plain JSON numbers and lists."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


@dataclass
class _Field:
    name: str
    order: int
    units: str
    sample_varying: bool
    time_varying: bool
    written: np.ndarray  # bool per (traj, time) cell actually written


#: free space kept on the output filesystem for HDF5 metadata and flushes
DISK_RESERVE = 1 << 20


@contextlib.contextmanager
def _io_errors(path: str):
    """Turn HDF5's report of a full filesystem into ``DiskFull``."""
    try:
        yield
    except (OSError, RuntimeError) as e:
        if getattr(e, "errno", None) == errno.ENOSPC or "No space left" in str(e):
            raise DiskFull(f"no space left on the device writing {path}: free space and "
                           "rerun the same command (finished files are kept)") from None
        raise


def fsync_path(path: str) -> None:
    """fsync a file or directory by path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_rename(partial: str, final: str) -> None:
    """Rename a finished ``.partial`` into place and make the rename durable."""
    fsync_path(partial)
    os.replace(partial, final)
    fsync_path(os.path.dirname(os.path.abspath(final)))


class WellWriter:
    """Write one file of a Well dataset (one parameter set, several trajectories).

    Parameters
    ----------
    path : final file name (``.hdf5``); data go to ``path + '.partial'`` until ``close``.
    dataset_name : the Well ``@dataset_name``.
    n_trajectories : number of trajectories (leading axis of sample-varying arrays).
    time : stored output times, shape (T,) shared by all trajectories or (n_traj, T).
    time_units : units of ``time``.
    grid_type : one of ``spec.GRID_TYPES``.
    compression : optional h5py compression filter name (off by default: the Well's
        loader reads uncompressed pages).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        dataset_name: str,
        n_trajectories: int,
        time: np.ndarray,
        *,
        time_units: str = "1",
        grid_type: str = "cartesian",
        compression: str | None = None,
    ):
        self.path = os.fspath(path)
        self.partial = self.path + ".partial"
        if grid_type not in spec.GRID_TYPES:
            raise SchemaError(f"grid_type {grid_type!r}: expected one of {spec.GRID_TYPES}")
        if int(n_trajectories) < 1:
            raise SchemaError(f"n_trajectories: expected >= 1, given {n_trajectories}")
        time = np.asarray(time, dtype=np.float64)
        if time.ndim not in (1, 2) or (time.ndim == 2 and time.shape[0] != n_trajectories):
            raise SchemaError(f"dimensions/time: expected shape (T,) or ({n_trajectories}, T), "
                              f"given {time.shape}")
        if not np.all(np.isfinite(time)) or np.any(np.diff(time, axis=-1) <= 0):
            raise SchemaError("dimensions/time: expected finite, strictly increasing values")
        self.dataset_name = dataset_name
        self.n_traj = int(n_trajectories)
        self.time = time
        self.n_time = time.shape[-1]
        self.time_units = check_units(time_units, "dimensions/time")
        self.grid_type = grid_type
        self.compression = compression
        self.dims: dict[str, tuple[np.ndarray, str]] = {}
        self.params: dict[str, float] = {}
        self.scalars: dict[str, tuple[np.ndarray, str, bool, bool]] = {}
        self.fields: dict[str, _Field] = {}
        self.series: dict[str, _Field] = {}  # time-varying scalars, written frame by frame
        self._parts: dict[tuple, int] = {}  # (field, traj, t) -> points written by write_part
        self.bcs: list[dict] = []
        self.provenance: dict = {}
        self.root_attrs: dict = {}
        self._h5: h5py.File | None = None
        self._closed = False

    # -- declarations ---------------------------------------------------------------
    def _declaring(self, what: str) -> None:
        if self._h5 is not None:
            raise SchemaError(f"{what}: declarations must come before the first frame is written")

    def add_dimension(self, name: str, coords: np.ndarray, *, units: str = "1") -> None:
        """Add a spatial axis; the order of calls is ``@spatial_dims`` order."""
        self._declaring(f"dimensions/{name}")
        coords = np.asarray(coords, dtype=np.float64)
        if name in self.dims or name == "time":
            raise SchemaError(f"dimensions/{name}: declared twice")
        if coords.ndim != 1 or coords.size < 2:
            raise SchemaError(f"dimensions/{name}: expected a 1-D array of >= 2 points, "
                              f"given shape {coords.shape}")
        if not np.all(np.isfinite(coords)):
            bad = int(np.flatnonzero(~np.isfinite(coords))[0])
            raise SchemaError(f"dimensions/{name}: coordinates must be finite, "
                              f"given {coords[bad]} at index {bad}")
        d = np.diff(coords)
        if not (np.all(d > 0) or np.all(d < 0)):
            raise SchemaError(f"dimensions/{name}: coordinates must be strictly monotonic")
        self.dims[name] = (coords, check_units(units, f"dimensions/{name}"))

    def add_parameter(self, name: str, value: float, *, units: str = "1") -> None:
        """A simulation parameter: root attribute, constant scalar and
        ``@simulation_parameters`` entry (as the Well's checker requires)."""
        self._declaring(f"scalars/{name}")
        value = float(value)
        if not np.isfinite(value):
            raise SchemaError(f"scalars/{name}: expected a finite value, given {value}")
        self.params[name] = value
        self.add_scalar(name, np.asarray(value), units=units)

    def add_scalar(self, name: str, value, *, units: str = "1", sample_varying: bool = False,
                   time_varying: bool = False) -> None:
        self._declaring(f"scalars/{name}")
        value = np.asarray(value, dtype=np.float32)
        want = spec.expected_shape(n_traj=self.n_traj, n_time=self.n_time, dim_sizes=(),
                                   sample_varying=sample_varying, time_varying=time_varying)
        if value.shape != want:
            raise SchemaError(f"scalars/{name}: expected shape {want}, given {value.shape}")
        self.scalars[name] = (value, check_units(units, f"scalars/{name}"), sample_varying,
                              time_varying)

    def add_series(self, name: str, *, units: str = "1") -> None:
        """Declare a time-varying scalar of each trajectory (a diagnostic such as the
        kinetic energy): ``/scalars/<name>`` of shape (n_traj, T), sample- and
        time-varying; its values come with ``write_frame`` (a number per frame)."""
        self._declaring(f"scalars/{name}")
        if name in self.scalars or name in self.series:
            raise SchemaError(f"scalars/{name}: declared twice")
        self.series[name] = _Field(name, 0, check_units(units, f"scalars/{name}"), True, True,
                                   np.zeros((self.n_traj, self.n_time), bool))

    def add_field(self, name: str, *, order: int = 0, units: str = "1",
                  sample_varying: bool = True, time_varying: bool = True) -> None:
        """Declare a field of tensor ``order`` (0, 1 or 2); data come with ``write_frame``."""
        self._declaring(f"t{order}_fields/{name}")
        if order not in spec.FIELD_GROUPS:
            raise SchemaError(f"{name}: tensor order must be 0, 1 or 2, given {order}")
        if name in self.fields:
            raise SchemaError(f"t{order}_fields/{name}: declared twice")
        shape = (self.n_traj if sample_varying else 1, self.n_time if time_varying else 1)
        self.fields[name] = _Field(name, order, check_units(units, f"field {name}"),
                                   sample_varying, time_varying, np.zeros(shape, bool))

    def add_boundary_condition(self, dim: str, bc_type: str, *, variant: str | None = None,
                               fields: tuple[str, ...] = (),
                               values: Mapping[str, tuple[float, float]] | None = None) -> None:
        """Boundary condition on one axis; its mask is True at both ends of the axis.

        ``values``: prescribed values at the (low, high) end by field or component name
        (``{"buoyancy": (1, 0), "velocity_x": (0, 0)}``), stored as the JSON attribute
        ``@wellforge_values`` (the Well's tools refuse a ``values`` dataset there)."""
        self._declaring(f"boundary_conditions/{dim}")
        if dim not in self.dims:
            raise SchemaError(f"boundary condition on {dim!r}: no such dimension "
                              f"(declared: {', '.join(self.dims) or 'none'})")
        try:
            name = spec.bc_group_name(dim, bc_type, variant)
        except ValueError as e:
            raise SchemaError(f"boundary_conditions/{dim}: {e}") from None
        if values is not None:
            try:
                values = {str(k): [float(v[0]), float(v[1])] for k, v in dict(values).items()}
            except (TypeError, ValueError, IndexError):
                raise SchemaError(f"boundary_conditions/{name}: values must map field or "
                                  "component names to (low, high) pairs") from None
        self.bcs.append(dict(name=name, dim=dim, bc_type=bc_type.upper(), fields=list(fields),
                             values=values or None))

    def set_provenance(self, provenance: Mapping) -> None:
        """Record provenance (``/provenance``): scalars and strings become attributes,
        mappings become JSON attributes, arrays become datasets."""
        self.provenance.update(provenance)

    def set_root_attrs(self, **attrs) -> None:
        """Extra root attributes (e.g. wellforge's ``system`` card id)."""
        self.root_attrs.update(attrs)

    # -- file creation --------------------------------------------------------------
    def _spatial_shape(self) -> tuple[int, ...]:
        return tuple(c.size for c, _ in self.dims.values())

    def _open(self) -> h5py.File:
        if self._closed:
            raise SchemaError(f"{self.path}: writer already closed")
        if self._h5 is not None:
            return self._h5
        if not self.dims:
            raise SchemaError("no dimensions declared: call add_dimension first")
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        f = h5py.File(self.partial, "w", libver=("earliest", "v110"))
        self._h5 = f
        names = list(self.dims)
        f.attrs["dataset_name"] = self.dataset_name
        f.attrs["n_spatial_dims"] = len(names)
        f.attrs["n_trajectories"] = self.n_traj
        f.attrs["grid_type"] = self.grid_type
        f.attrs["simulation_parameters"] = list(self.params)
        for k, v in self.params.items():
            f.attrs[k] = v
        f.attrs["wellforge_schema"] = spec.SCHEMA_VERSION
        for k, v in self.root_attrs.items():
            f.attrs[k] = v

        dims = f.create_group("dimensions")
        dims.attrs["spatial_dims"] = names
        t = dims.create_dataset("time", data=self.time.astype(np.float32))
        t.attrs.update(sample_varying=self.time.ndim == 2, time_varying=True,
                       units=self.time_units)
        for name, (coords, units) in self.dims.items():
            d = dims.create_dataset(name, data=coords.astype(np.float32))
            d.attrs.update(sample_varying=False, time_varying=False, units=units)

        sc = f.create_group("scalars")
        sc.attrs["field_names"] = list(self.scalars) + list(self.series)
        for name, (value, units, sv, tv) in self.scalars.items():
            d = sc.create_dataset(name, data=value)
            d.attrs.update(sample_varying=sv, time_varying=tv, units=units)
        for s in self.series.values():
            d = sc.create_dataset(s.name, data=np.full((self.n_traj, self.n_time), np.nan,
                                                       np.float32))
            d.attrs.update(sample_varying=True, time_varying=True, units=s.units)

        bcg = f.create_group("boundary_conditions")
        for bc in self.bcs:
            g = bcg.create_group(bc["name"])
            g.attrs.update(bc_type=bc["bc_type"], associated_dims=[bc["dim"]],
                           associated_fields=bc["fields"], sample_varying=False,
                           time_varying=False)
            mask = np.zeros(self.dims[bc["dim"]][0].size, dtype=bool)
            mask[[0, -1]] = True
            g.create_dataset("mask", data=mask)
            if bc["values"] is not None:
                g.attrs[spec.BC_VALUES_ATTR] = json.dumps(bc["values"], sort_keys=True)

        space = self._spatial_shape()
        D = len(space)
        for order, gname in spec.FIELD_GROUPS.items():
            g = f.create_group(gname)
            members = [fl for fl in self.fields.values() if fl.order == order]
            g.attrs["field_names"] = [fl.name for fl in members]
            for fl in members:
                shape = spec.expected_shape(
                    n_traj=self.n_traj, n_time=self.n_time, dim_sizes=space,
                    sample_varying=fl.sample_varying, time_varying=fl.time_varying,
                    dim_varying=[True] * D, order=order)
                lead = int(fl.sample_varying) + int(fl.time_varying)
                chunks = (1,) * lead + shape[lead:] if lead else None
                d = g.create_dataset(fl.name, shape=shape, dtype=np.float32, chunks=chunks,
                                     compression=self.compression)
                d.attrs.update(dim_varying=[True] * D, sample_varying=fl.sample_varying,
                               time_varying=fl.time_varying, units=fl.units)
        return f

    # -- data -----------------------------------------------------------------------
    def write_frame(self, traj: int | None, t_index: int | None, frame: Mapping[str, np.ndarray]
                    ) -> None:
        """Write one stored time step of one trajectory for the named fields.

        A frame of a tensor field has shape ``space + (D,) * order``, of a declared series
        (``add_series``) it is a number. For fields that are not sample- (time-) varying
        pass ``traj`` (``t_index``) as None.
        """
        f = self._open()
        space = self._spatial_shape()
        for name, arr in frame.items():
            if name in self.series:
                self._write_series(f, self.series[name], traj, t_index, arr)
                continue
            fl = self.fields.get(name)
            if fl is None:
                raise SchemaError(f"unknown field {name!r}: declared fields are "
                                  f"{', '.join(self.fields) or 'none'}")
            where = f"{spec.FIELD_GROUPS[fl.order]}/{name}"
            idx: list[int] = []
            for flag, val, n, label in ((fl.sample_varying, traj, self.n_traj, "trajectory"),
                                        (fl.time_varying, t_index, self.n_time, "time index")):
                if flag:
                    if val is None or not 0 <= int(val) < n:
                        raise SchemaError(f"{where}: {label} {val} out of range: the file "
                                          f"declares {n}")
                    idx.append(int(val))
                elif val is not None:
                    raise SchemaError(f"{where}: is not {label}-varying; pass None")
            want = space + (len(space),) * fl.order
            arr = np.asarray(arr)
            if arr.shape != want:
                raise SchemaError(f"{where}: frame shape expected {want}, given {arr.shape}")
            self._ensure_space(arr.size * 4)
            with _io_errors(self.partial):
                f[where][tuple(idx)] = arr.astype(np.float32, copy=False)
            fl.written[(idx[0] if fl.sample_varying else 0,
                        idx[-1] if fl.time_varying else 0)] = True

    def write_part(self, traj: int, t_index: int, name: str, region: tuple[slice, ...],
                   arr: np.ndarray) -> None:
        """Write the part ``region`` (slices of the spatial axes) of one frame of a
        sample- and time-varying field; the frame counts as written once its parts cover
        it (parts do not overlap: one per rank of a process mesh)."""
        f = self._open()
        fl = self.fields.get(name)
        if fl is None or not (fl.sample_varying and fl.time_varying):
            raise SchemaError(f"write_part: {name!r} is not a declared sample- and "
                              "time-varying field")
        space = self._spatial_shape()
        where = f"{spec.FIELD_GROUPS[fl.order]}/{name}"
        if not (0 <= int(traj) < self.n_traj and 0 <= int(t_index) < self.n_time):
            raise SchemaError(f"{where}: (trajectory, time index) ({traj}, {t_index}) out of "
                              f"range: the file declares ({self.n_traj}, {self.n_time})")
        region = tuple(region)
        want = tuple(len(range(*r.indices(n))) for r, n in zip(region, space)) + \
            (len(space),) * fl.order
        arr = np.asarray(arr)
        if len(region) != len(space) or arr.shape != want:
            raise SchemaError(f"{where}: part {region} expects shape {want}, given {arr.shape}")
        self._ensure_space(arr.size * 4)
        with _io_errors(self.partial):
            f[where][(int(traj), int(t_index)) + region] = arr.astype(np.float32, copy=False)
        key = (name, int(traj), int(t_index))
        self._parts[key] = self._parts.get(key, 0) + int(np.prod(want[:len(space)]))
        if self._parts[key] >= int(np.prod(space)):
            fl.written[int(traj), int(t_index)] = True
            del self._parts[key]

    def _write_series(self, f, s: _Field, traj, t_index, value) -> None:
        where = f"scalars/{s.name}"
        if traj is None or t_index is None or not (0 <= int(traj) < self.n_traj and
                                                   0 <= int(t_index) < self.n_time):
            raise SchemaError(f"{where}: (trajectory, time index) ({traj}, {t_index}) out of "
                              f"range: the file declares ({self.n_traj}, {self.n_time})")
        value = np.asarray(value, dtype=np.float64)
        if value.shape != ():
            raise SchemaError(f"{where}: a series takes one number per frame, given shape "
                              f"{value.shape}")
        with _io_errors(self.partial):
            f[where][int(traj), int(t_index)] = np.float32(value)
        s.written[int(traj), int(t_index)] = True

    def _ensure_space(self, nbytes: int) -> None:
        """Refuse a write that could fill the filesystem. HDF5 reports a full disk only
        from its cache, as ignored exceptions, leaving a broken file behind: checking
        first keeps every failure clean."""
        st = os.statvfs(os.path.dirname(os.path.abspath(self.partial)))
        free = st.f_bavail * st.f_frsize
        if free < 2 * nbytes + DISK_RESERVE:
            raise DiskFull(f"{os.path.dirname(os.path.abspath(self.path))}: "
                           f"{free / 2**20:.1f} MiB free, below the {DISK_RESERVE // 2**20} MiB "
                           f"reserve for writing {os.path.basename(self.path)}: free space and "
                           "rerun the same command (finished files are kept)")

    # -- checkpoints ----------------------------------------------------------------
    def snapshot(self, dest: str) -> None:
        """Copy the file as written so far to ``dest`` (atomically), for a checkpoint.

        The file is closed for the copy, so the copy is a consistent HDF5 file whatever
        happens later, then reopened for appending."""
        f = self._open()
        f.close()
        tmp = dest + ".partial"
        shutil.copyfile(self.partial, tmp)
        atomic_rename(tmp, dest)
        self._h5 = h5py.File(self.partial, "r+")

    def resume(self, snapshot: str, n_frames_done: int) -> None:
        """Continue a file from a ``snapshot``: frames ``< n_frames_done`` of every
        time-varying field count as written. Call after the declarations."""
        if self._h5 is not None:
            raise SchemaError("resume must come before the first frame is written")
        shutil.copyfile(snapshot, self.partial)
        self._h5 = h5py.File(self.partial, "r+")
        for fl in (*self.fields.values(), *self.series.values()):
            if fl.time_varying:
                fl.written[:, :n_frames_done] = True

    # -- finishing ------------------------------------------------------------------
    def _write_provenance(self, f: h5py.File) -> None:
        """``/provenance`` holds attributes only: the Well's tools copy a group's
        attributes but refuse datasets they do not know (``create_mini_well``). Mappings
        and sequences (per-trajectory seeds, wall times, ...) are JSON text."""
        g = f.require_group(spec.PROVENANCE_GROUP)
        g.attrs["wellforge_version"] = __version__
        g.attrs["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        for k, v in self.provenance.items():
            if isinstance(v, np.ndarray):
                v = v.tolist()
            if isinstance(v, (Mapping, list, tuple)):
                g.attrs[k] = json.dumps(v, sort_keys=True, default=_json_default)
            elif v is None:
                g.attrs[k] = "null"
            else:
                g.attrs[k] = v.item() if isinstance(v, np.generic) else v

    def close(self) -> str:
        """Check completeness, finish provenance and move the file into place."""
        if self._closed:
            return self.path
        f = self._open()
        missing = [(fl.name, int((~fl.written).sum()))
                   for fl in (*self.fields.values(), *self.series.values())
                   if not fl.written.all()]
        if missing:
            self.abort()
            desc = ", ".join(f"{n} ({k} frames)" for n, k in missing)
            raise SchemaError(f"{self.path}: closed before every frame was written: "
                              f"missing {desc}")
        self._write_provenance(f)
        with _io_errors(self.partial):
            f.flush()
            f.close()
        self._h5 = None
        self._closed = True
        atomic_rename(self.partial, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the unfinished file."""
        if self._h5 is not None:
            try:
                self._h5.close()
            except Exception:  # e.g. a full disk: the file is dropped anyway
                pass
            self._h5 = None
        self._closed = True
        if os.path.exists(self.partial):
            os.remove(self.partial)

    def __enter__(self) -> WellWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
