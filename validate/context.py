"""What checks see: the options of a run, one file (``FileContext``) or one dataset
(``DatasetContext``), and a tolerant reading of a file's layout (``Layout``).

Objects are only reached through :meth:`FileContext.get`, which returns objects that the
safe-open walk (L0) found behind hard links (or soft links that resolve to them), so no
check can follow a link out of the file. Small arrays (coordinates, time, scalars, masks)
are read with :meth:`FileContext.read_small`, which refuses to allocate more than the
configured limit, whatever the file declares.

What several checks derive from a file is computed once, on first use, as a cached
property of its context: ``layout``, ``bc_groups`` (the boundary-condition groups, read
tolerantly), ``card_lookup``/``card`` (its system card, ``validate.cards``), ``physics``
(the physics plan, ``validate.physics``) and ``times`` (the time axis, for messages).
No other module hangs its own cache on a context.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from wellforge.schema import spec

from .attrs import (
    MISSING,
    Unreadable,
    as_bool_list,
    as_int,
    as_str,
    as_str_list,
    flags,
    read_attr,
    text,
)
from .findings import Severity
from .robust import MAX_LISTED as MAX_LISTED_RUNS


@dataclass
class Limits:
    max_objects: int = 100_000
    max_depth: int = 32
    max_attr_bytes: int = 1 << 20
    max_attrs_per_object: int = 4096
    #: a dataset is a shape bomb when its declared bytes exceed both of these
    bomb_min_bytes: int = 1 << 30
    bomb_ratio: float = 1000.0  # x the file's size on disk
    small_read_bytes: int = 64 << 20  # coordinates, time, scalars, masks
    block_bytes: int = 16 << 20  # one read of the streaming pass
    chunk_cache_bytes: int = 16 << 20
    #: read uncompressed one-frame chunks raw (H5Dread_chunk); 0 = always H5Dread
    direct_chunks: int = 1
    #: read the next block in a second thread while the reducers work (0 = one thread;
    #: also one thread when --jobs x 2 exceeds the cores)
    prefetch: int = 1
    #: derivative-based L4 checks (divergence) on every k-th frame after the first
    #: (1 = every frame; spectral derivatives cost several FFTs per frame)
    derivative_stride: int = 1
    #: address space a worker process may add while it validates a file (RLIMIT_AS);
    #: a file that needs more is refused. 0 = half the physical memory split among the
    #: --jobs workers (at least 1 GiB)
    memory_bytes: int = 0
    #: threads of the spectral L4 checks (a block's frames split between them; the FFTs,
    #: products and reductions run without the GIL); 0 = as many as the cores allow with
    #: --jobs (2 on a 2-core machine with -j 1), 1 = one thread
    physics_threads: int = 0


#: HDF5 filter ids allowed by default: deflate, shuffle, fletcher32, szip, lzf, and the
#: common hdf5plugin compressors (blosc, lz4, bitshuffle, zstd, blosc2). Not allowed:
#: n-bit (5) and scale-offset (6), which are lossy and have a history of parser bugs.
DEFAULT_FILTERS = (1, 2, 3, 4, 32000, 32001, 32004, 32008, 32015, 32026)


@dataclass
class Options:
    level: int = 5
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.ERROR
    jobs: int = 1
    timeout: float = 0.0  # seconds per file; 0 = none
    allowed_filters: tuple[int, ...] = DEFAULT_FILTERS
    limits: Limits = field(default_factory=Limits)
    #: per-path ignores: (glob, codes, reason)
    per_path_ignores: list[tuple[str, list[str], str]] = field(default_factory=list)
    baseline: set[str] = field(default_factory=set)
    isolate: bool = True  # validate each file in a child process
    #: a system card for every file of the run (a YAML path or a ``cards.Card``);
    #: None: each file's own (``validate.cards``)
    card: Any = None
    #: the result cache's directory (``validate.cache``); None: no cache
    cache: str | None = None


@dataclass
class FieldDesc:
    """A field dataset as found (flags may be None when missing or mistyped)."""

    name: str
    order: int
    path: str
    shape: tuple[int, ...]
    dtype: np.dtype
    sample_varying: bool | None
    time_varying: bool | None
    dim_varying: list[bool] | None

    @property
    def lead(self) -> int:
        return int(bool(self.sample_varying)) + int(bool(self.time_varying))

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self.shape[self.lead:]

    @property
    def ncomp(self) -> int:
        if not self.order or len(self.frame_shape) < self.order:
            return 1
        return int(math.prod(self.frame_shape[-self.order:]))

    @property
    def streamable(self) -> bool:
        return (self.sample_varying is not None and self.time_varying is not None
                and len(self.shape) >= self.lead and self.dtype.kind in "fiu"
                and all(n > 0 for n in self.shape))


@dataclass
class Layout:
    wellforge: bool
    dataset_name: str | None
    n_spatial_dims: int | None
    n_traj: int | None
    grid_type: str | None
    spatial_dims: list[str] | None
    dim_sizes: dict[str, int]
    n_time: int | None
    fields: list[FieldDesc]
    scalars: dict[str, tuple[bool | None, bool | None]]
    bc_types: dict[str, str]
    #: object path -> @units string, for time, coordinates, fields and scalars that have one
    units: dict[str, str] = field(default_factory=dict)
    #: wellforge's run id of each trajectory (its provenance), None when not recorded
    run_ids: list[str] | None = None
    #: values of the constant (shape ()) numeric scalars: the simulation parameters
    constants: dict[str, float] = field(default_factory=dict)

    def facts(self) -> dict:
        """What the dataset checks compare across files (small, picklable)."""
        return {
            "dataset_name": self.dataset_name,
            "n_spatial_dims": self.n_spatial_dims,
            "n_trajectories": self.n_traj,
            "grid_type": self.grid_type,
            "spatial_dims": self.spatial_dims,
            "resolution": [self.dim_sizes.get(d) for d in (self.spatial_dims or [])],
            "n_steps": self.n_time,
            "fields": [(f.order, f.name, bool(f.time_varying)) for f in self.fields],
            "scalars": {k: [v[0], v[1]] for k, v in self.scalars.items()},
            "bc_types": sorted({t.upper() for t in self.bc_types.values()}),
            "units": dict(self.units),
            "run_ids": self.run_ids,
            "constants": dict(self.constants),
        }


class FileContext:
    """One file under validation."""

    def __init__(self, path: str, *, display: str, logical: str, root: str,
                 split: str | None, options: Options):
        self.path = path
        self.display = display
        self.logical = logical
        self.root = root
        self.split = split
        self.options = options
        self.h5 = None
        self.inventory = None
        self.open_error: str | None = None
        self._objects: dict = {}  # path -> h5py object (or None), see get()
        self.results: dict[str, dict] = {}  # reducer name -> field path -> result
        self.stream_errors: list = []  # (object, region, message) of failed reads
        #: what the run could not do or assumed (no card, checks skipped): the report's notes
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- safe access ------------------------------------------------------------------
    def get(self, path: str):
        """The object at ``path`` if the safe walk found it, else None."""
        if self.h5 is None or self.inventory is None:
            return None
        path = "/" + path.strip("/")
        if path == "/":
            return self.h5
        if path in self._objects:
            return self._objects[path]
        target = self.inventory.resolve(path)
        obj = None
        if target is not None:
            try:
                obj = self.h5[target]
            except Exception:  # noqa: BLE001
                obj = None
        self._objects[path] = obj  # h5py takes ~0.1 ms to make an object: once a path
        return obj

    def kind(self, path: str) -> str | None:
        if self.inventory is None:
            return None
        target = self.inventory.resolve("/" + path.strip("/"))
        return self.inventory.objects.get(target) if target else None

    def read_small(self, dset) -> np.ndarray | None:
        """Read a small dataset whole, or None if it declares more than the limit."""
        try:
            n = int(math.prod(dset.shape or ())) * dset.dtype.itemsize
        except Exception:  # noqa: BLE001
            return None
        if n > self.options.limits.small_read_bytes:
            return None
        return dset[()]

    # -- what several checks derive from the file, computed once --------------------------
    @cached_property
    def layout(self) -> Layout:
        return read_layout(self)

    @cached_property
    def bc_groups(self) -> list[dict]:
        """Each boundary-condition group, tolerantly read: name, path, bc_type (None when
        missing or not a string), dims (associated_dims), flags (sample_varying,
        time_varying) and mask (the dataset, or None)."""
        return read_bc_groups(self)

    @cached_property
    def card_lookup(self):
        """The file's system card and how it was found (``cards.Lookup``)."""
        from .cards import find_card

        return find_card(self)

    @property
    def card(self):
        """The file's system card (``cards.Card``), or None."""
        return self.card_lookup.card

    @cached_property
    def physics(self):
        """What the L4 checks compute and against what (``physics.PhysicsPlan``)."""
        from .physics import plan_physics

        return plan_physics(self)

    @cached_property
    def times(self) -> np.ndarray:
        """``dimensions/time`` as float64 (empty when missing or too large to read)."""
        d = self.get("dimensions/time") if self.kind("dimensions/time") == "dataset" else None
        t = self.read_small(d) if d is not None else None
        return np.array([]) if t is None else np.asarray(t, dtype=np.float64)

    def time_of(self, traj, k) -> float | None:
        """The time frame ``k`` of trajectory ``traj`` stores, or None."""
        t = self.times
        try:
            v = float(t[traj if traj is not None else 0, k] if t.ndim == 2 else t[k])
        except (IndexError, TypeError, ValueError):
            return None
        return v if math.isfinite(v) else None

    def time_at(self, traj, k) -> str:
        """Frame ``k`` of trajectory ``traj``, labelled with both its index and the time
        it stores (``frame 5, t = 1.25``); ``frame 5`` when the time axis cannot tell."""
        v = self.time_of(traj, k)
        return f"frame {k}" if v is None else f"frame {k}, t = {v:.6g}"

    def frames_at(self, traj, fs) -> str:
        """A ``robust.FrameSet`` labelled with indices and times: ``frame 2 (t = 1)``,
        ``frames 2-4, 7 (t = 1-2, 3.5)``."""
        idx = fs.text()
        word = "frame" if fs.count == 1 else "frames"
        times = []
        for a, b in fs.runs[:MAX_LISTED_RUNS]:
            ta, tb = self.time_of(traj, a), self.time_of(traj, b)
            if ta is None or tb is None:
                return f"{word} {idx}"
            times.append(f"{ta:.6g}" if a == b else f"{ta:.6g}-{tb:.6g}")
        more = ", …" if len(fs.runs) > MAX_LISTED_RUNS else ""
        return f"{word} {idx} (t = {', '.join(times)}{more})"

    def component_labels(self, field) -> list[str]:
        """A name per tensor component of ``field`` (``velocity_x``; ``name[i]`` when the
        components do not match the spatial dims)."""
        dims = self.layout.spatial_dims or []
        if field.order and len(dims) ** field.order == field.ncomp:
            return spec.component_names(field.name, field.order, dims)
        return [field.name] if field.ncomp == 1 else [f"{field.name}[{i}]"
                                                     for i in range(field.ncomp)]


def read_layout(ctx: FileContext) -> Layout:
    """Everything the checks need to know about a file's layout, tolerating faults."""
    root = ctx.get("/")
    ra = {k: read_attr(root, k) for k in ("dataset_name", "n_spatial_dims", "n_trajectories",
                                          "grid_type", "wellforge_schema")}
    dims = ctx.get("dimensions")
    spatial = as_str_list(read_attr(dims, "spatial_dims")) if dims is not None else None
    sizes: dict[str, int] = {}
    for d in spatial or []:
        ds = ctx.get(f"dimensions/{d}")
        if ds is not None and ctx.kind(f"dimensions/{d}") == "dataset" and ds.shape:
            sizes[d] = int(ds.shape[-1])
    n_time = None
    t = ctx.get("dimensions/time")
    if t is not None and ctx.kind("dimensions/time") == "dataset" and t.shape:
        n_time = int(t.shape[-1])
    fields: list[FieldDesc] = []
    for order, gname in spec.FIELD_GROUPS.items():
        g = ctx.get(gname)
        if g is None or ctx.kind(gname) != "group":
            continue
        for name in as_str_list(read_attr(g, "field_names")) or []:
            p = f"/{gname}/{name}"
            if ctx.kind(p) != "dataset":
                continue
            d = ctx.get(p)
            fields.append(FieldDesc(
                name, order, p, tuple(int(n) for n in d.shape), d.dtype, *flags(d),
                as_bool_list(read_attr(d, "dim_varying"))))
    scalars, constants = {}, {}
    sg = ctx.get("scalars")
    if sg is not None and ctx.kind("scalars") == "group":
        for name in as_str_list(read_attr(sg, "field_names")) or []:
            if ctx.kind(f"scalars/{name}") == "dataset":
                d = ctx.get(f"scalars/{name}")
                if d.shape == () and d.dtype.kind in "fiu":
                    try:
                        v = float(d[()])
                        if math.isfinite(v):
                            constants[name] = v
                    except Exception:  # noqa: BLE001 - unreadable: no parameter value
                        pass
                scalars[name] = flags(d)
    bcs = {}
    bg = ctx.get("boundary_conditions")
    if bg is not None and ctx.kind("boundary_conditions") == "group":
        for name in ctx.inventory.children("/boundary_conditions"):
            g = ctx.get(f"boundary_conditions/{name}")
            v = read_attr(g, "bc_type") if g is not None else MISSING
            if isinstance(v, (str, bytes)):
                bcs[name] = v if isinstance(v, str) else v.decode("utf-8", "replace")
    units = {}
    for p in (["/dimensions/time"] + [f"/dimensions/{d}" for d in spatial or []]
              + [f.path for f in fields] + [f"/scalars/{n}" for n in scalars]):
        if ctx.kind(p) == "dataset":
            u = read_attr(ctx.get(p), "units")
            if text(u) is not None:  # not UTF-8: WF130 reports it (not a string)
                units[p] = text(u)
    return Layout(
        run_ids=_run_ids(ctx),
        constants=constants,
        wellforge=ra["wellforge_schema"] is not MISSING,
        dataset_name=as_str(ra["dataset_name"]),
        n_spatial_dims=as_int(ra["n_spatial_dims"]),
        n_traj=as_int(ra["n_trajectories"]),
        grid_type=as_str(ra["grid_type"]),
        spatial_dims=spatial,
        dim_sizes=sizes,
        n_time=n_time,
        fields=fields,
        scalars=scalars,
        bc_types=bcs,
        units=units,
    )


def _run_ids(ctx: FileContext) -> list[str] | None:
    """The run id of each trajectory, from wellforge's provenance (None if absent)."""
    from wellforge.schema.reader import attr_value

    g = ctx.get(spec.PROVENANCE_GROUP)
    if g is None or ctx.kind(spec.PROVENANCE_GROUP) != "group":
        return None
    try:
        v = read_attr(g, "run_ids")
        ids = attr_value(v) if v is not MISSING and not isinstance(v, Unreadable) else None
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            return None
        return ids
    except Exception:  # noqa: BLE001 - a damaged provenance is no reason to stop
        return None


def read_bc_groups(ctx: FileContext) -> list[dict]:
    """Each boundary-condition group of the file, tolerantly read (``FileContext.bc_groups``)."""
    out = []
    if ctx.kind("boundary_conditions") == "group":
        for name in ctx.inventory.children("/boundary_conditions"):
            path = f"/boundary_conditions/{name}"
            if ctx.kind(path) != "group":
                continue
            g = ctx.get(path)
            bt = read_attr(g, "bc_type")
            mask = ctx.get(path + "/mask") if ctx.kind(path + "/mask") == "dataset" else None
            dims = read_attr(g, "associated_dims")
            # a single string (the Well's dummy fixture) is a WF102 error, but read it as
            # the one dim it names so that the mask is still checked
            dims = [text(dims)] if isinstance(dims, (str, bytes)) else as_str_list(dims)
            dims = None if dims is None or None in dims else dims
            out.append({"name": name, "path": path,
                        "bc_type": text(bt),
                        "dims": dims,
                        "flags": flags(g), "mask": mask})
    return out


class DatasetContext:
    """A dataset directory (or a group of loose files) after its files were checked."""

    def __init__(self, root: str, display: str, options: Options, files: list[dict],
                 is_dataset_dir: bool):
        self.root = root
        self.display = display
        self.options = options
        #: one dict per file: path, display, logical, split, facts, summary (reducer
        #: results the dataset checks asked for), refused
        self.files = files
        self.is_dataset_dir = is_dataset_dir
        #: what the dataset checks could not check (reported with the run's notes)
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def usable(self) -> list[dict]:
        return [f for f in self.files if not f["refused"] and f.get("facts")]

    def split(self, name: str) -> list[dict]:
        return [f for f in self.usable() if f["split"] == name]
