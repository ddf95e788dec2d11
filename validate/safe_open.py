"""The safe open: look at a file before trusting it, with no HDF5 call on what is not
HDF5 and no link followed out of the file.

Order: the path must be a regular file with an HDF5 signature (``preflight``, no HDF5
call before that); it is opened read-only without file locking (``open_file``); then
``walk`` visits every link one component at a time **without following** soft or
external links, records every dataset's storage facts (layout, filters, external
storage, virtual sources, declared vs stored bytes) and every attribute's declared size,
and stops at the configured limits. The runner does this for every file; the L0 checks
(``checks/safety.py``) judge the ``Inventory`` it returns; the streaming pass reports a
failed read with ``first_line``.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass, field

import h5py

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


def trailing_bytes(path: str) -> int | None:
    """Bytes stored after the end of the HDF5 file that the superblock declares (its
    end-of-file address), or None when the superblock cannot tell.

    Superblock versions 0/1: the end-of-file address follows the base and free-space
    addresses (after 24 bytes, 28 for version 1); versions 2/3: the base and extension
    addresses (after 12 bytes). The library writes it as the absolute end (a user block
    included); read relative to the base address too, whichever fits the file."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            for off in [0] + [512 << k for k in range(24) if (512 << k) < size]:
                fh.seek(off)
                head = fh.read(64)
                if head[:8] != HDF5_SIGNATURE or len(head) < 16:
                    continue
                v = head[8]
                if v in (0, 1):
                    so, pos = head[13], 24 + (4 if v == 1 else 0)
                    base_at, eoa_at = pos, pos + 2 * head[13]
                elif v in (2, 3):
                    so = head[9]
                    base_at, eoa_at = 12, 12 + 2 * so
                else:
                    return None
                if so not in (2, 4, 8) or len(head) < eoa_at + so:
                    return None
                base = int.from_bytes(head[base_at:base_at + so], "little")
                eoa = int.from_bytes(head[eoa_at:eoa_at + so], "little")
                ends = [e for e in (eoa, base + eoa) if e <= size]
                return size - max(ends) if ends else None
    except OSError:
        return None
    return None


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


def walk(f: h5py.File, limits, file_size: int | None = None) -> Inventory:
    """Visit every link without following soft or external ones (``file_size``: that of
    a file opened from a file object, ``validate.remote``)."""
    inv = Inventory(file_size=os.path.getsize(f.filename) if file_size is None else file_size)
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
