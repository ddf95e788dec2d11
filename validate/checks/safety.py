"""L0 safe open: the checks that judge what the safe open (``validate.safe_open``) found
(always on).

A refusal (``refuses=True``) stops the validation of that file: nothing else is read,
and the run exits 3.
"""

from __future__ import annotations

import os

from ..findings import Issue
from ..registry import check
from ..safe_open import trailing_bytes


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


@check("WF010", level=0, severity="warning",
       fix="truncate the file to the end its superblock declares, or rewrite it (h5repack); "
           "find what appended the bytes (a copy that went wrong, a second writer)")
def bytes_after_end(ctx):
    """Bytes are stored after the end of the HDF5 file that its superblock declares.

    The HDF5 library ignores them (the file reads as before: a warning, not an error),
    but they are not part of the data: a copy truncated to the HDF5 end, a checksum of
    the file, or another tool reading the file sees something else, and they may hide
    data or be the tail of an interrupted second write."""
    if not os.path.isfile(ctx.path):
        return
    extra = trailing_bytes(ctx.path)
    if extra:
        yield Issue("/", f"{extra} byte(s) after the end of the HDF5 file (its superblock "
                    f"ends it at byte {os.path.getsize(ctx.path) - extra})",
                    expected="no bytes after the HDF5 end of file", observed=extra)
