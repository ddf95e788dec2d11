"""L0 safe open: look at a file before trusting it (always on).

Order: the path must be a regular file with an HDF5 signature (no HDF5 call before
that); it is opened read-only without file locking; then a walk visits every link one
component at a time **without following** soft or external links, records every
dataset's storage facts (layout, filters, external storage, virtual sources, declared
vs stored bytes) and every attribute's declared size, and stops at the configured
limits. The L0 checks below judge that inventory. A refusal (``refuses=True``) stops
the validation of that file: nothing else is read, and the run exits 3.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass, field

import h5py

from .findings import Issue
from .registry import check

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@dataclass
class DatasetFacts:
    path: str
    shape: tuple[int, ...]
    dtype: str
    declared_bytes: int
    stored_bytes: int
    layout: str
    chunks: tuple[int, ...] | None
    filters: list[tuple[int, str]]
    external: list[str]
    vds_sources: list[tuple[str, str]]


@dataclass
class Inventory:
    file_size: int
    objects: dict[str, str] = field(default_factory=dict)  # path -> group|dataset|datatype
    datasets: dict[str, DatasetFacts] = field(default_factory=dict)
    soft_links: dict[str, str] = field(default_factory=dict)
    external_links: dict[str, tuple[str, str]] = field(default_factory=dict)
    other_links: dict[str, str] = field(default_factory=dict)
    big_attrs: list[tuple[str, str, int]] = field(default_factory=list)
    many_attrs: list[tuple[str, int]] = field(default_factory=list)
    cycles: list[str] = field(default_factory=list)
    too_deep: list[str] = field(default_factory=list)
    truncated_walk: bool = False  # stopped at max_objects

    def resolve(self, path: str) -> str | None:
        """The hard-linked path behind ``path`` (following in-file soft links only)."""
        for _ in range(8):
            if path in self.objects:
                return path
            # a soft link anywhere along the path
            parts = path.strip("/").split("/")
            for i in range(len(parts), 0, -1):
                head = "/" + "/".join(parts[:i])
                if head in self.soft_links:
                    target = self.soft_links[head]
                    if not target.startswith("/"):
                        parent = head.rsplit("/", 1)[0] or "/"
                        target = parent.rstrip("/") + "/" + target
                    path = "/" + "/".join([target.strip("/"), *parts[i:]]).strip("/")
                    break
            else:
                return None
        return None

    def children(self, group: str) -> list[str]:
        group = self.resolve(group) or group
        pre = group.rstrip("/") + "/"
        names = set()
        for p in list(self.objects) + list(self.soft_links):
            if p.startswith(pre) and "/" not in p[len(pre):]:
                names.add(p[len(pre):])
        return sorted(names)


def preflight(path: str) -> str | None:
    """Why a path cannot be an HDF5 file, without any HDF5 call (None if it may be)."""
    try:
        st = os.stat(path)
    except OSError as e:
        return f"cannot stat: {e.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (device, FIFO or socket): refused without opening"
    if st.st_size == 0:
        return "empty file (0 bytes)"
    try:
        with open(path, "rb") as fh:
            offsets = [0] + [512 << k for k in range(24) if (512 << k) < st.st_size]
            for off in offsets:
                fh.seek(off)
                if fh.read(8) == HDF5_SIGNATURE:
                    return None
    except OSError as e:
        return f"cannot read: {e.strerror}"
    return "not an HDF5 file (no HDF5 signature)"


def first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".strip()


def open_file(path: str, limits) -> h5py.File:
    return h5py.File(path, "r", locking=False, rdcc_nbytes=limits.chunk_cache_bytes)


_LAYOUTS = {h5py.h5d.COMPACT: "compact", h5py.h5d.CONTIGUOUS: "contiguous",
            h5py.h5d.CHUNKED: "chunked", h5py.h5d.VIRTUAL: "virtual"}


def _dataset_facts(path: str, d: h5py.Dataset) -> DatasetFacts:
    shape = tuple(int(n) for n in (d.shape or ()))
    itemsize = d.dtype.itemsize
    dcpl = d.id.get_create_plist()
    layout = _LAYOUTS.get(dcpl.get_layout(), "other")
    filters = []
    for i in range(dcpl.get_nfilters()):
        code, _flags, _vals, name = dcpl.get_filter(i)
        filters.append((int(code), name.decode("utf-8", "replace")
                        if isinstance(name, bytes) else str(name)))
    external = []
    for i in range(dcpl.get_external_count()):
        name = dcpl.get_external(i)[0]
        external.append(name.decode("utf-8", "replace") if isinstance(name, bytes) else name)
    vds = []
    if layout == "virtual":
        for m in d.virtual_sources():
            vds.append((m.file_name, m.dset_name))
    return DatasetFacts(
        path=path, shape=shape, dtype=str(d.dtype), declared_bytes=math.prod(shape) * itemsize,
        stored_bytes=int(d.id.get_storage_size()), layout=layout,
        chunks=tuple(d.chunks) if d.chunks else None, filters=filters, external=external,
        vds_sources=vds)


def walk(f: h5py.File, limits) -> Inventory:
    """Visit every link without following soft or external ones."""
    inv = Inventory(file_size=os.path.getsize(f.filename))
    seen = set()
    stack = [(f, "/", 0)]
    count = 0

    def note_attrs(obj, path):
        for n, aname in enumerate(obj.attrs, start=1):
            if n > limits.max_attrs_per_object:
                inv.many_attrs.append((path, n))
                return
            aid = obj.attrs.get_id(aname)
            try:
                size = int(aid.get_storage_size())
            except Exception:  # noqa: BLE001 - HDF5 cannot tell for some (empty) attributes
                size = 0
            try:
                declared = math.prod(aid.shape or ()) * aid.dtype.itemsize
            except Exception:  # noqa: BLE001
                declared = size
            if max(size, declared) > limits.max_attr_bytes:
                inv.big_attrs.append((path, aname, max(size, declared)))

    inv.objects["/"] = "group"
    seen.add(hash(f.id))
    note_attrs(f, "/")
    while stack:
        g, gpath, depth = stack.pop()
        for name in g:
            path = gpath.rstrip("/") + "/" + name
            count += 1
            if count > limits.max_objects:
                inv.truncated_walk = True
                return inv
            try:
                link = g.get(name, getlink=True)
            except Exception as e:  # noqa: BLE001 - user-defined or broken link
                inv.other_links[path] = first_line(e)
                continue
            if isinstance(link, h5py.ExternalLink):
                inv.external_links[path] = (link.filename, link.path)
                continue
            if isinstance(link, h5py.SoftLink):
                inv.soft_links[path] = link.path
                continue
            if not isinstance(link, h5py.HardLink):
                inv.other_links[path] = type(link).__name__
                continue
            obj = g[name]
            key = hash(obj.id)
            if key in seen:
                # a second hard link to an object already visited: an alias (not walked again)
                if isinstance(obj, h5py.Group):
                    inv.cycles.append(path)
                inv.objects[path] = ("group" if isinstance(obj, h5py.Group) else
                                     "dataset" if isinstance(obj, h5py.Dataset) else "datatype")
                continue
            seen.add(key)
            note_attrs(obj, path)
            if isinstance(obj, h5py.Group):
                inv.objects[path] = "group"
                if depth + 1 >= limits.max_depth:
                    inv.too_deep.append(path)
                else:
                    stack.append((obj, path, depth + 1))
            elif isinstance(obj, h5py.Dataset):
                inv.objects[path] = "dataset"
                inv.datasets[path] = _dataset_facts(path, obj)
            else:
                inv.objects[path] = "datatype"
    return inv


def _inside(path: str, root: str) -> bool:
    root = os.path.realpath(root)
    path = os.path.realpath(path)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# -- L0 checks --------------------------------------------------------------------------

@check("WF001", level=0, severity="error", refuses=True,
       fix="re-copy or regenerate the file; check it is a complete HDF5 file")
def unreadable(ctx):
    """The file cannot be opened or read as HDF5 (not HDF5, truncated, corrupt, crashed).

    Also reported when a read fails half-way through the data (a truncated or corrupt
    chunk), with the object and region where it failed, and when validating the file
    crashed or timed out in its isolated worker process. The file is refused: exit 3.
    """
    if ctx.open_error:
        yield Issue("/", ctx.open_error)
    for obj, reg, msg in ctx.stream_errors:
        yield Issue(obj, msg, region=reg)


@check("WF002", level=0, severity="error", refuses=True,
       fix="copy the linked data into this file (h5py: f[name] = other[name][()])")
def links_leaving_file(ctx):
    """An external link, a user-defined link, or a soft link that does not resolve
    inside the file.

    HDF5 follows such links transparently, so reading through them reads another file
    (possibly any file on the machine). The validator never follows them and refuses
    the file; a Well dataset must be self-contained.
    """
    inv = ctx.inventory
    for path, (fname, obj) in inv.external_links.items():
        yield Issue(path, f"external link to {fname}:{obj}", expected="no external links",
                    observed=f"{fname}:{obj}")
    for path, why in inv.other_links.items():
        yield Issue(path, f"unsupported link type ({why})", expected="hard links only")
    for path, target in inv.soft_links.items():
        if inv.resolve(path) is None:
            yield Issue(path, f"soft link to {target!r}, which is not an object of this file "
                        "(dangling, or through another link)", observed=target)


@check("WF003", level=0, severity="error", refuses=True,
       fix="rewrite the dataset with its data stored inside the file")
def external_storage(ctx):
    """A dataset keeps its raw data in external files (``H5Pset_external``).

    External raw storage can point at any file on the machine, HDF5 or not; reading it
    would read that file. Refused.
    """
    for d in ctx.inventory.datasets.values():
        if d.external:
            yield Issue(d.path, f"raw data stored in external file(s): {', '.join(d.external)}",
                        expected="data stored in the file", observed=d.external)


@check("WF004", level=0, severity="error", refuses=True,
       fix="materialise the virtual dataset (copy its data) or keep its sources inside "
           "the dataset directory")
def virtual_sources(ctx):
    """A virtual dataset (VDS) has source files outside the dataset directory, or missing.

    A VDS reads its data from other files; missing sources are silently read as the
    fill value. Sources must be this file or files inside the dataset directory that
    exist.
    """
    here = os.path.dirname(os.path.abspath(ctx.path))
    for d in ctx.inventory.datasets.values():
        for fname, dname in d.vds_sources:
            if fname == ".":
                continue
            src = fname if os.path.isabs(fname) else os.path.join(here, fname)
            if not _inside(src, ctx.root):
                yield Issue(d.path, f"virtual dataset reads {fname}:{dname}, outside "
                            f"the dataset directory", observed=fname,
                            expected=f"sources inside {ctx.root}")
            elif not os.path.isfile(src):
                yield Issue(d.path, f"virtual dataset source {fname} does not exist "
                            "(would read as fill values)", observed=fname)


@check("WF005", level=0, severity="error", refuses=True,
       fix="recompress with gzip (deflate) or lzf, or allow the filter in the config "
           "(allowed_filters)")
def filters_allowed(ctx):
    """A dataset uses an HDF5 filter that is not on the allow-list.

    Filters run native code (plugins are shared libraries loaded at read time), and
    some (n-bit, scale-offset) are lossy and have had memory-safety bugs. Allowed by
    default: deflate, shuffle, fletcher32, szip, lzf, blosc, lz4, bitshuffle, zstd.
    """
    allowed = set(ctx.options.allowed_filters)
    for d in ctx.inventory.datasets.values():
        bad = [f"{name or 'unknown'} (id {code})" for code, name in d.filters
               if code not in allowed]
        if bad:
            yield Issue(d.path, f"filter not allowed: {', '.join(bad)}",
                        expected=sorted(allowed), observed=[c for c, _ in d.filters])


@check("WF006", level=0, severity="error", refuses=True,
       fix="the dataset declares far more data than the file can hold: regenerate it")
def shape_bomb(ctx):
    """A dataset declares a size that is absurd for the file (a shape bomb).

    Refused before any read when the declared bytes exceed both ``bomb_min_bytes``
    (1 GiB) and ``bomb_ratio`` (1000) times the file's size on disk: reading it would
    mean decompressing or iterating over data that is not there.
    """
    lim = ctx.options.limits
    cap = max(lim.bomb_min_bytes, lim.bomb_ratio * max(ctx.inventory.file_size, 1))
    for d in ctx.inventory.datasets.values():
        if d.declared_bytes > cap:
            yield Issue(d.path, f"declares {d.declared_bytes:.3e} bytes (shape {d.shape}) in "
                        f"a file of {ctx.inventory.file_size} bytes",
                        expected=f"<= {cap:.3e} bytes", observed=d.declared_bytes)


@check("WF007", level=0, severity="error", refuses=True,
       fix="simplify the file: the Well layout needs a few dozen objects and small "
           "attributes")
def structure_limits(ctx):
    """The file exceeds a structural limit: too many objects, too deep, a hard-link
    cycle, too many or too large attributes.

    Limits (configurable): 100000 objects, depth 32, attributes of at most 1 MiB and
    4096 per object. Files built to exhaust a validator's time or memory are refused.
    """
    inv, lim = ctx.inventory, ctx.options.limits
    if inv.truncated_walk:
        yield Issue("/", f"more than {lim.max_objects} objects", expected=lim.max_objects)
    for p in inv.too_deep:
        yield Issue(p, f"group nesting deeper than {lim.max_depth}", expected=lim.max_depth)
    for p in inv.cycles:
        yield Issue(p, "hard link to a group already visited (a cycle or alias)")
    for p, n in inv.many_attrs:
        yield Issue(p, f"more than {lim.max_attrs_per_object} attributes", observed=n)
    for p, name, n in inv.big_attrs:
        yield Issue(p, f"attribute @{name} declares {n} bytes", observed=n,
                    expected=f"<= {lim.max_attr_bytes}")


@check("WF008", level=0, severity="warning",
       fix="replace the soft link by the object itself")
def soft_links(ctx):
    """A soft link that resolves inside the file.

    The Well's loader (and h5py) follow it, so the file works, but the layout expects
    plain objects; tools that copy files object by object may lose the link.
    """
    for path, target in ctx.inventory.soft_links.items():
        if ctx.inventory.resolve(path) is not None:
            yield Issue(path, f"soft link to {target}", observed=target)


@check("WF009", level=0, severity="warning",
       fix="write the data (the writer may have stopped early)")
def unallocated(ctx):
    """A dataset declares data but none is stored: every read returns the fill value.

    Typical of a writer that created the dataset and crashed before writing frames.
    """
    for d in ctx.inventory.datasets.values():
        if d.declared_bytes > 0 and d.stored_bytes == 0 and d.layout in ("chunked",
                                                                          "contiguous"):
            yield Issue(d.path, "no data stored: reads return the fill value",
                        observed={"declared_bytes": d.declared_bytes, "stored_bytes": 0})
