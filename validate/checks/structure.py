"""L1 structure: every rule of the Well's format checker and loader contract, plus dtypes,
time and coordinate axes, boundary-condition metadata and wellforge's additions.

Attribute rules come from ``wellforge.schema.spec`` (one source of truth); every check
reports all it finds (never stops at the first problem) and tolerates whatever else is
broken: a check whose inputs are missing stays silent, the check for the missing
input reports it.
"""

from __future__ import annotations

import numpy as np
from wellforge.schema import spec
from wellforge.schema.grids import EPS32

from ..attrs import (
    MISSING,
    Unreadable,
    as_bool,
    as_bool_list,
    as_int,
    as_str,
    as_str_list,
    flags,
    not_utf8,
    read_attr,
)
from ..findings import Issue, Severity, region, sanitize
from ..registry import check
from ..robust import median

_KIND_CHECK = {
    "str": lambda v: as_str(v) is not None,
    "units": lambda v: as_str(v) is not None,
    "int": lambda v: as_int(v) is not None,
    "bool": lambda v: as_bool(v) is not None,
    "str_list": lambda v: as_str_list(v) is not None,
    "bool_list": lambda v: as_bool_list(v) is not None,
}
_KIND_TEXT = {"str": "a string", "units": "a string", "int": "an integer", "bool": "a bool",
              "str_list": "a list of strings", "bool_list": "a list of bools"}


def _describe(v) -> str:
    if not_utf8(v):
        return f"bytes that are not UTF-8 text ({sanitize(repr(v), 80)})"
    if isinstance(v, np.ndarray):
        return f"array {v.dtype} shape {v.shape}"
    return f"{type(v).__name__} {v!r}"[:120]


def objects_for(ctx, rule: spec.ObjectRule) -> list[tuple[str, object]]:
    """The objects of a file that an ``ObjectRule`` of the spec applies to."""
    lay = ctx.layout
    paths: list[str] = []
    if rule is spec.ROOT:
        paths = ["/"]
    elif rule is spec.DIMENSIONS:
        paths = ["/dimensions"]
    elif rule is spec.TIME:
        paths = ["/dimensions/time"]
    elif rule is spec.COORDINATE:
        paths = [f"/dimensions/{d}" for d in lay.spatial_dims or []]
    elif rule is spec.FIELD_GROUP:
        paths = [f"/{g}" for g in (*spec.FIELD_GROUPS.values(), "scalars")]
    elif rule is spec.FIELD:
        paths = [f.path for f in lay.fields]
    elif rule is spec.SCALAR:
        paths = [f"/scalars/{n}" for n in lay.scalars]
    elif rule is spec.BOUNDARY:
        paths = [f"/boundary_conditions/{n}" for n in ctx.inventory.children(
            "/boundary_conditions")] if ctx.kind("boundary_conditions") == "group" else []
    elif rule is spec.PROVENANCE:
        paths = [f"/{spec.PROVENANCE_GROUP}"]
    want = "dataset" if rule in (spec.TIME, spec.COORDINATE, spec.FIELD, spec.SCALAR) \
        else "group"
    return [(p, ctx.get(p)) for p in paths if ctx.kind(p) == want]


def _attr_problems(ctx, wellforge: bool):
    """(path, Attr, value) for every required attribute that is missing or mistyped."""
    for rule in spec.RULES:
        if rule is spec.PROVENANCE:
            continue
        for path, obj in objects_for(ctx, rule):
            for a in rule.attrs:
                if a.wellforge != wellforge:
                    continue
                v = read_attr(obj, a.name)
                if v is MISSING or isinstance(v, Unreadable) or not _KIND_CHECK[a.kind](v):
                    yield path, a, v


@check("WF100", level=1, severity="error",
       fix="create the group (it may be empty, with @field_names = [])")
def required_groups(ctx):
    """A required group is missing: dimensions, scalars, boundary_conditions,
    t0_fields, t1_fields, t2_fields.

    The Well's loader indexes every one of them, even when empty.
    """
    for g in spec.REQUIRED_GROUPS:
        k = ctx.kind(g)
        if k != "group":
            yield Issue(f"/{g}", f"required group /{g} is " + ("missing" if k is None
                                                                else f"a {k}, not a group"),
                        expected="group", observed=k or "missing")


@check("WF101", level=1, severity="error",
       fix="add the attribute (see 'wellforge schema' for its meaning)")
def required_attributes(ctx):
    """A required attribute of the Well layout is missing.

    Root: dataset_name, n_spatial_dims, n_trajectories, grid_type, simulation_parameters.
    dimensions: spatial_dims; time and coordinates: sample_varying, time_varying;
    field groups: field_names; fields: dim_varying, sample_varying, time_varying;
    scalars: sample_varying, time_varying; boundary conditions: bc_type,
    associated_dims, associated_fields, sample_varying, time_varying.
    """
    for path, a, v in _attr_problems(ctx, wellforge=False):
        if v is MISSING:
            yield Issue(path, f"@{a.name} is missing ({a.doc})", expected=_KIND_TEXT[a.kind],
                        observed="missing")


@check("WF102", level=1, severity="error",
       fix="rewrite the attribute with the right type (h5py: obj.attrs[name] = value)")
def attribute_types(ctx):
    """A required attribute has the wrong type.

    Strings must be variable-length str (not bytes), integers must be integers (not
    floats), flags numpy/Python bools, lists 1-D arrays or lists (a single string where
    a list is expected is the bug of the Well's own dummy fixture).
    """
    for path, a, v in _attr_problems(ctx, wellforge=False):
        if v is not MISSING:
            obs = v.error if isinstance(v, Unreadable) else _describe(v)
            yield Issue(path, f"@{a.name} should be {_KIND_TEXT[a.kind]}, found {obs}",
                        expected=_KIND_TEXT[a.kind], observed=obs)


@check("WF103", level=1, severity="error",
       fix="set @n_spatial_dims = len(dimensions@spatial_dims)")
def spatial_dims_count(ctx):
    """@n_spatial_dims is not positive or disagrees with ``dimensions@spatial_dims``."""
    lay = ctx.layout
    if lay.n_spatial_dims is not None and lay.n_spatial_dims <= 0:
        yield Issue("/", "@n_spatial_dims must be > 0", expected="> 0",
                    observed=lay.n_spatial_dims)
    if lay.n_spatial_dims is not None and lay.spatial_dims is not None \
            and len(lay.spatial_dims) != lay.n_spatial_dims:
        yield Issue("/dimensions", "len(@spatial_dims) != @n_spatial_dims",
                    expected=lay.n_spatial_dims, observed=len(lay.spatial_dims))


@check("WF104", level=1, severity="error",
       fix="for each simulation parameter write a root attribute and a constant "
           "/scalars dataset of the same name")
def simulation_parameters(ctx):
    """A name in @simulation_parameters is not both a root attribute and a /scalars
    dataset (as the Well's checker requires)."""
    root = ctx.get("/")
    names = as_str_list(read_attr(root, "simulation_parameters"))
    for name in names or []:
        v = read_attr(root, name)
        if v is MISSING:
            yield Issue("/", f"simulation parameter {name!r} has no root attribute",
                        expected=f"@{name}", observed="missing")
        elif not_utf8(v) or isinstance(v, (np.void, Unreadable)):
            yield Issue("/", f"simulation parameter @{name} holds {_describe(v)}, not a "
                        "value: the parameter is unreadable", expected="a number",
                        observed=_describe(v))
        if ctx.kind(f"scalars/{name}") != "dataset":
            yield Issue(f"/scalars/{name}", f"simulation parameter {name!r} has no "
                        "/scalars dataset", expected="dataset", observed="missing")


def _groups_with_names(ctx):
    for gname in (*spec.FIELD_GROUPS.values(), "scalars"):
        if ctx.kind(gname) != "group":
            continue
        names = as_str_list(read_attr(ctx.get(gname), "field_names"))
        if names is not None:
            yield gname, names


@check("WF105", level=1, severity="error",
       fix="write the dataset or remove its name from @field_names")
def listed_datasets_exist(ctx):
    """@field_names lists a dataset that does not exist in its group."""
    for gname, names in _groups_with_names(ctx):
        for n in names:
            if ctx.kind(f"{gname}/{n}") != "dataset":
                yield Issue(f"/{gname}/{n}", f"/{gname}@field_names lists {n!r}, which is "
                            "not a dataset in the group", expected="dataset",
                            observed=ctx.kind(f"{gname}/{n}") or "missing")


@check("WF106", level=1, severity="warning",
       fix="add the name to @field_names, or remove the dataset")
def unlisted_datasets(ctx):
    """A dataset in a field or scalar group is not listed in @field_names.

    The Well's loader only reads the listed names, so this data is silently ignored.
    """
    for gname, names in _groups_with_names(ctx):
        for child in ctx.inventory.children(f"/{gname}"):
            if child not in names and ctx.kind(f"{gname}/{child}") == "dataset":
                yield Issue(f"/{gname}/{child}", f"dataset {child!r} is not in "
                            f"/{gname}@field_names: the loader ignores it", observed=names)


@check("WF107", level=1, severity="error",
       fix="write the coordinate array (float32, one value per grid point)")
def dimension_datasets(ctx):
    """``dimensions/time`` or the coordinate dataset of a spatial dim is missing."""
    if ctx.kind("dimensions") != "group":
        return
    if ctx.kind("dimensions/time") != "dataset":
        yield Issue("/dimensions/time", "dimensions/time is missing", expected="dataset",
                    observed="missing")
    for d in ctx.layout.spatial_dims or []:
        if ctx.kind(f"dimensions/{d}") != "dataset":
            yield Issue(f"/dimensions/{d}", f"spatial dim {d!r} has no coordinate dataset",
                        expected="dataset", observed="missing")


def _n_traj_for(ctx, shape, sample_varying) -> int | None:
    """n_traj to build expected shapes with: the leading axis when sample-varying (a
    mismatch with @n_trajectories is WF109's, not WF108's)."""
    n = ctx.layout.n_traj
    if sample_varying and shape:
        return int(shape[0])
    return n


def _shape_problems(ctx):
    """(path, expected, observed, why) for fields, scalars, time, coordinates, masks."""
    lay = ctx.layout
    dims = lay.spatial_dims
    if dims is None:
        return
    if any(d not in lay.dim_sizes for d in dims):
        sizes = None
    else:
        sizes = tuple(lay.dim_sizes[d] for d in dims)
    T = lay.n_time
    t = ctx.get("dimensions/time") if ctx.kind("dimensions/time") == "dataset" else None
    if t is not None:
        sv, tv = flags(t)
        if sv is not None and tv is not None:
            want = spec.expected_shape(n_traj=_n_traj_for(ctx, t.shape, sv), n_time=T,
                                       dim_sizes=(), sample_varying=sv, time_varying=tv)
            if tuple(t.shape) != want:
                why = " (time needs @time_varying=True)" if not tv else ""
                yield "/dimensions/time", want, tuple(t.shape), why
    for d in dims:
        c = ctx.get(f"dimensions/{d}") if ctx.kind(f"dimensions/{d}") == "dataset" else None
        if c is None:
            continue
        sv, tv = flags(c)
        if sv is None or tv is None or T is None or not c.shape:
            continue
        want = spec.expected_shape(n_traj=_n_traj_for(ctx, c.shape, sv), n_time=T,
                                   dim_sizes=(), sample_varying=sv, time_varying=tv)
        if tuple(c.shape[:-1]) != want:
            yield f"/dimensions/{d}", want + (c.shape[-1],), tuple(c.shape), \
                " (a plain coordinate array is 1-D with both flags False)"
    if sizes is None or T is None:
        return
    for f in lay.fields:
        if f.sample_varying is None or f.time_varying is None:
            continue
        dv = f.dim_varying if f.dim_varying is not None and len(f.dim_varying) == len(dims) \
            else [True] * len(dims)
        want = spec.expected_shape(n_traj=_n_traj_for(ctx, f.shape, f.sample_varying),
                                   n_time=T, dim_sizes=sizes, sample_varying=f.sample_varying,
                                   time_varying=f.time_varying, dim_varying=dv, order=f.order)
        if f.shape != want:
            yield f.path, want, f.shape, ""
    for name, (sv, tv) in lay.scalars.items():
        if sv is None or tv is None:
            continue
        d = ctx.get(f"scalars/{name}")
        want = spec.expected_shape(n_traj=_n_traj_for(ctx, d.shape, sv), n_time=T,
                                   dim_sizes=(), sample_varying=sv, time_varying=tv)
        if tuple(d.shape) != want:
            yield f"/scalars/{name}", want, tuple(d.shape), \
                " (a constant scalar has shape (), not (1,))" if want == () else ""
    for bc in ctx.bc_groups:
        if bc["mask"] is None or bc["dims"] is None or any(d not in dims for d in bc["dims"]):
            continue
        sv, tv = bc["flags"]
        lead = spec.expected_shape(n_traj=_n_traj_for(ctx, bc["mask"].shape, bool(sv)),
                                   n_time=T, dim_sizes=(), sample_varying=bool(sv),
                                   time_varying=bool(tv))
        want = lead + tuple(lay.dim_sizes[d] for d in dims if d in bc["dims"])
        if tuple(bc["mask"].shape) != want:
            yield bc["path"] + "/mask", want, tuple(bc["mask"].shape), ""


@check("WF108", level=1, severity="error",
       fix="store the array with the shape its flags imply: [n_traj if sample_varying] + "
           "[T if time_varying] + [N_d where dim_varying] + [D]*order")
def shapes(ctx):
    """A field, scalar, time, coordinate or mask array does not have the shape that its
    flags and the file's dimensions imply (the Well's checker rule).

    Fields: ``[n_traj if sample_varying] + [T if time_varying] + [N_d for d where
    dim_varying] + [D] * order`` (t2 fields are ``(..., D, D)``). Scalars: the same
    without space (``()`` when constant). Time: ``(T,)`` with time_varying=True or
    ``(n_traj, T)``. Masks: the sizes of their associated dims.
    """
    for path, want, obs, why in _shape_problems(ctx):
        yield Issue(path, f"shape {obs}, expected {want}{why}", expected=list(want),
                    observed=list(obs))


@check("WF109", level=1, severity="error",
       fix="set @n_trajectories to the number of trajectories stored (the leading axis)")
def n_trajectories(ctx):
    """@n_trajectories is not positive or does not match the leading axis of a
    sample-varying array.

    The loader indexes samples with it; a mismatch makes it read past the data or skip
    trajectories (the_well#80).
    """
    lay = ctx.layout
    n = lay.n_traj
    if n is None:
        return
    if n < 1:
        yield Issue("/", "@n_trajectories must be >= 1", expected=">= 1", observed=n)
        return
    arrays = [(f.path, f.shape, f.sample_varying) for f in lay.fields]
    arrays += [(f"/scalars/{k}", ctx.get(f"scalars/{k}").shape, sv)
               for k, (sv, _) in lay.scalars.items()]
    t = ctx.get("dimensions/time") if ctx.kind("dimensions/time") == "dataset" else None
    if t is not None:
        arrays.append(("/dimensions/time", t.shape, flags(t)[0]))
    for path, shape, sv in arrays:
        if sv and shape and int(shape[0]) != n:
            yield Issue(path, f"leading axis has {shape[0]} trajectories, "
                        f"@n_trajectories = {n}", expected=n, observed=int(shape[0]))


@check("WF110", level=1, severity="warning",
       also=[("error", "when @dim_varying has another length than n_spatial_dims")],
       fix="store every spatial axis (dim_varying all True)")
def dim_varying(ctx):
    """A field has @dim_varying entries that are False or a length other than
    n_spatial_dims.

    The Well's checker expects such axes to be absent while the loader's ``torch.tile``
    needs them kept with size 1: the two disagree, so avoid it.
    """
    n = len(ctx.layout.spatial_dims or [])
    for f in ctx.layout.fields:
        if f.dim_varying is None:
            continue
        if ctx.layout.spatial_dims is not None and len(f.dim_varying) != n:
            yield Issue(f.path, f"@dim_varying has {len(f.dim_varying)} entries, "
                        f"n_spatial_dims is {n}", expected=n, observed=len(f.dim_varying),
                        severity=Severity.ERROR)
        elif not all(f.dim_varying):
            yield Issue(f.path, "@dim_varying has False entries (read inconsistently by "
                        "the Well's loader and checker)", observed=f.dim_varying)


@check("WF111", level=1, severity="error",
       fix="store fields, time and coordinates as float32 (arr.astype(np.float32))")
def float32(ctx):
    """A field, the time array or a coordinate array is not float32.

    Every released Well file is float32; the loader keeps the stored dtype, so a
    float64 field doubles memory and changes the model's input dtype.
    """
    paths = [f.path for f in ctx.layout.fields]
    paths += ["/dimensions/time"] + [f"/dimensions/{d}" for d in ctx.layout.spatial_dims or []]
    for p in paths:
        if ctx.kind(p) != "dataset":
            continue
        dt = ctx.get(p).dtype
        if dt != np.float32:
            yield Issue(p, f"dtype {dt}, expected float32", expected="float32",
                        observed=str(dt))


def _time_rows(ctx):
    """(row index or None, float64 times) for each trajectory's time axis."""
    if ctx.kind("dimensions/time") != "dataset":
        return
    d = ctx.get("dimensions/time")
    if d.dtype.kind not in "fiu" or not d.shape:
        return
    t = ctx.read_small(d)
    if t is None:
        return
    t = np.asarray(t, dtype=np.float64)
    if t.ndim == 1:
        yield None, t
    elif t.ndim == 2:
        yield from enumerate(t)


@check("WF112", level=1, severity="error",
       fix="store the output times in increasing order (one per stored frame)")
def time_increasing(ctx):
    """``dimensions/time`` is not finite and strictly increasing."""
    for i, t in _time_rows(ctx):
        reg_t = None if i is None else i
        bad = np.flatnonzero(~np.isfinite(t))
        if bad.size:
            yield Issue("/dimensions/time", f"time is not finite at index {int(bad[0])}",
                        region=region(trajectory=reg_t, time=int(bad[0])),
                        observed=float(t[bad[0]]))
            continue
        back = np.flatnonzero(np.diff(t) <= 0)
        if back.size:
            k = int(back[0]) + 1
            yield Issue("/dimensions/time", f"time does not increase at index {k}: "
                        f"t[{k - 1}] = {t[k - 1]:g}, t[{k}] = {t[k]:g}"
                        + (f" ({back.size} places)" if back.size > 1 else ""),
                        region=region(trajectory=reg_t, time=(k - 1, k)),
                        expected=f"> {t[k - 1]:g}", observed=float(t[k]))


@check("WF113", level=1, severity="error",
       fix="write frames at exact, evenly spaced output times")
def time_uniform(ctx):
    """``dimensions/time`` is not uniformly spaced.

    The loader builds training windows by index (``t0 : t0 + n*dt : dt``), so uneven
    steps give samples with different physical time steps. Tolerance: 1e-3 of the step,
    or the float32 rounding of the times, whichever is larger.
    """
    for i, t in _time_rows(ctx):
        if t.size < 3 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            continue
        d = np.diff(t)
        dt = median(d)
        tol = max(1e-3 * abs(dt), 8 * EPS32 * float(np.max(np.abs(t))))
        dev = np.abs(d - dt)
        k = int(np.argmax(dev))
        if dev[k] > tol:
            yield Issue("/dimensions/time", f"time step varies: step {k} is {d[k]:g}, "
                        f"median step {dt:g}", expected=dt, observed=float(d[k]),
                        region=region(trajectory=i, time=(k, k + 1)))


@check("WF114", level=1, severity="error",
       fix="write finite, strictly monotonic coordinates (one per grid point)")
def coordinates(ctx):
    """A coordinate array is not finite or not strictly monotonic."""
    for dname in ctx.layout.spatial_dims or []:
        p = f"dimensions/{dname}"
        if ctx.kind(p) != "dataset" or ctx.get(p).dtype.kind not in "fiu":
            continue
        c = ctx.read_small(ctx.get(p))
        if c is None or np.ndim(c) == 0:
            continue
        c = np.asarray(c, dtype=np.float64).reshape(-1, np.shape(c)[-1])
        for row in c:
            bad = np.flatnonzero(~np.isfinite(row))
            if bad.size:
                yield Issue("/" + p, f"coordinate is not finite at index {int(bad[0])}",
                            region=region(index=int(bad[0])), observed=float(row[bad[0]]))
                break
            d = np.diff(row)
            if row.size > 1 and not (np.all(d > 0) or np.all(d < 0)):
                k = int(np.flatnonzero(d <= 0)[0] if np.sum(d > 0) >= np.sum(d < 0)
                        else np.flatnonzero(d >= 0)[0])
                yield Issue("/" + p, f"coordinates not strictly monotonic at index {k + 1}",
                            region=region(index=(k, k + 1)),
                            observed=[float(row[k]), float(row[k + 1])])
                break


@check("WF116", level=1, severity="error",
       fix="set @bc_type to PERIODIC, WALL or OPEN")
def bc_type_known(ctx):
    """@bc_type is not one of PERIODIC, WALL, OPEN.

    The loader upper-cases it and looks it up in its enum: anything else raises
    ``KeyError`` at load time (the_well#17).
    """
    for bc in ctx.bc_groups:
        if bc["bc_type"] is not None and bc["bc_type"].upper() not in spec.BC_CODES:
            yield Issue(bc["path"], f"@bc_type {bc['bc_type']!r} is not one of "
                        f"{', '.join(spec.BC_TYPES)}", expected=list(spec.BC_TYPES),
                        observed=bc["bc_type"])


@check("WF117", level=1, severity="warning", fix="write @bc_type in upper case")
def bc_type_case(ctx):
    """@bc_type is a known type but not upper case (every released file uses upper case;
    the Well's data checker reports it)."""
    for bc in ctx.bc_groups:
        t = bc["bc_type"]
        if t is not None and t.upper() in spec.BC_CODES and t != t.upper():
            yield Issue(bc["path"], f"@bc_type {t!r} is not upper case", expected=t.upper(),
                        observed=t)


@check("WF118", level=1, severity="error",
       fix="list the dims the condition applies on, by their names in spatial_dims")
def bc_dims(ctx):
    """@associated_dims is empty or names a dim that is not in ``spatial_dims``."""
    dims = ctx.layout.spatial_dims
    for bc in ctx.bc_groups:
        if bc["dims"] is None:
            continue
        if not bc["dims"]:
            yield Issue(bc["path"], "@associated_dims is empty", expected="at least one dim")
        for d in bc["dims"]:
            if dims is not None and d not in dims:
                yield Issue(bc["path"], f"associated dim {d!r} is not in spatial_dims",
                            expected=dims, observed=d)


@check("WF119", level=1, severity="error",
       also=[("warning", ("for a mask that is not bool but that the loader reads as the "
                          "group's type at both ends"))],
       fix="write a boolean 'mask' dataset, True on the boundary points")
def bc_mask_present(ctx):
    """A boundary-condition group has no boolean ``mask`` dataset.

    A mask of another dtype (float32, int) is read by the Well's loader through its
    truth values (``np.min``/``np.max`` of each end): harmless (a warning) when both
    ends read as the group's type; an error when a side then reads as OPEN while the
    system card declares the axis's boundary condition (WF120 names the side)."""
    sides = {(bc["path"], d): low and high for bc, d, low, high in _bc_sides(ctx)}
    for bc in ctx.bc_groups:
        if bc["mask"] is None:
            yield Issue(bc["path"] + "/mask", "boundary condition has no mask dataset",
                        expected="bool dataset", observed="missing")
        elif bc["mask"].dtype != np.bool_:
            misread = [d for d in bc["dims"] or [] if not sides.get((bc["path"], d), False)
                       and _card_bc(ctx, d) not in (None, "OPEN")]
            yield Issue(bc["path"] + "/mask", f"mask dtype is {bc['mask'].dtype}, not bool"
                        + (f": the loader reads {', '.join(map(repr, misread))} as OPEN "
                           "where the card declares "
                           + ", ".join(_card_bc(ctx, d) for d in misread) if misread else ""),
                        expected="bool", observed=str(bc["mask"].dtype),
                        severity=None if misread else Severity.WARNING)


def _card_bc(ctx, dim: str) -> str | None:
    """The boundary condition the system card declares for an axis (upper case), or
    None without a card or an axis of that name."""
    card = ctx.card_lookup.card
    ca = card.axis(dim) if card is not None else None
    bc = getattr(ca, "bc", None)
    return str(bc).upper() if bc else None


def _bc_sides(ctx):
    """For each usable BC group and associated dim: (bc, dim, low_ok, high_ok), with the
    loader's rule: WALL needs the whole end slice True, other types any entry True."""
    dims = ctx.layout.spatial_dims or []
    for bc in ctx.bc_groups:
        if bc["mask"] is None or bc["dims"] is None or bc["bc_type"] is None:
            continue
        if any(d not in dims for d in bc["dims"]):
            continue
        m = ctx.read_small(bc["mask"])
        if m is None:
            continue
        m = np.asarray(m).astype(bool)
        lead = int(bool(bc["flags"][0])) + int(bool(bc["flags"][1]))
        ordered = [d for d in dims if d in bc["dims"]]
        if m.ndim != lead + len(ordered):
            continue
        op = np.all if bc["bc_type"].upper() == "WALL" else np.any
        for i, d in enumerate(ordered):
            ax = lead + i
            if m.shape[ax] == 0:
                continue
            low = bool(op(np.take(m, 0, axis=ax)))
            high = bool(op(np.take(m, -1, axis=ax)))
            yield bc, d, low, high


@check("WF120", level=1, severity="error",
       also=[("warning", "on an OPEN group (its side reads as OPEN either way)")],
       fix="set the mask True at both ends of the axis (mask[0] = mask[-1] = True)")
def bc_mask_ends(ctx):
    """A boundary-condition mask is not True at both ends of its axis.

    The loader starts every side as OPEN and switches it to the group's type only where
    the mask is True at that end (all True for WALL). An empty periodic mask (the Well's
    dummy fixture) is therefore silently read as OPEN.
    """
    for bc, d, low, high in _bc_sides(ctx):
        if low and high:
            continue
        sides = [s for s, ok in (("low", low), ("high", high)) if not ok]
        sev = Severity.WARNING if bc["bc_type"].upper() == "OPEN" else None
        yield Issue(bc["path"] + "/mask", f"{bc['bc_type']} mask on {d!r} is not True at the "
                    f"{' and '.join(sides)} end: the loader reads that side as OPEN",
                    expected="True at both ends", observed={"low": low, "high": high},
                    severity=sev)


@check("WF121", level=1, severity="warning",
       fix="name BC groups <dim>_<type>[_<variant>], e.g. x_periodic, y_wall_noslip")
def bc_group_name(ctx):
    """A boundary-condition group name contains neither its bc_type nor its dim (the
    Well's checker warns; names like ``x_periodic``, ``y_wall_dirichlet``)."""
    for bc in ctx.bc_groups:
        if bc["bc_type"] is None or bc["dims"] is None:
            continue
        name = bc["name"].lower()
        if bc["bc_type"].lower() not in name or not any(d.lower() in name for d in bc["dims"]):
            yield Issue(bc["path"], f"group name {bc['name']!r} does not contain its type and "
                        "dim", expected=f"{bc['dims'][0]}_{bc['bc_type'].lower()}"
                        if bc["dims"] else None,
                        observed=bc["name"])


@check("WF122", level=1, severity="warning",
       fix="use one boundary-condition group per axis")
def bc_multi_dim(ctx):
    """A boundary-condition group has several associated dims (the loader only supports
    axis-aligned conditions and warns; the_well#17)."""
    for bc in ctx.bc_groups:
        if bc["dims"] is not None and len(bc["dims"]) > 1:
            yield Issue(bc["path"], f"associated_dims has {len(bc['dims'])} dims",
                        observed=bc["dims"], expected="one dim")


@check("WF123", level=1, severity="warning",
       also=[("error", ("for conflicting types, or for an axis without a group whose "
                        "boundary condition the system card declares"))],
       fix="give every side of every axis exactly one boundary-condition type")
def bc_coverage(ctx):
    """A side of a spatial axis has no boundary condition (read as OPEN by default), or
    two groups give it different types.

    An axis without a group is an error when the system card declares its boundary
    condition (not OPEN): the Well's loader reads it as OPEN, and a model trained on it
    never sees the walls or the periodicity."""
    dims = ctx.layout.spatial_dims
    if dims is None or ctx.kind("boundary_conditions") != "group":
        return
    sides: dict[tuple[str, int], set[str]] = {}
    for bc, d, low, high in _bc_sides(ctx):
        if bc["bc_type"].upper() not in spec.BC_CODES:
            continue
        for s, ok in ((0, low), (1, high)):
            if ok:
                sides.setdefault((d, s), set()).add(bc["bc_type"].upper())
    named = {d for bc in ctx.bc_groups for d in bc["dims"] or []}
    for d in dims:
        for s in (0, 1):
            types = sides.get((d, s), set())
            if len(types) > 1:
                yield Issue("/boundary_conditions", f"the {('low', 'high')[s]} side of {d!r} "
                            f"has conflicting types {sorted(types)}", observed=sorted(types),
                            severity=Severity.ERROR)
        if d not in named:  # once per axis (it was reported once per side)
            declared = _card_bc(ctx, d)
            misread = declared not in (None, "OPEN")
            yield Issue("/boundary_conditions", f"axis {d!r} has no boundary condition "
                        "(the loader reads it as OPEN)"
                        + (f", but the system card declares {declared}" if misread else ""),
                        expected=f"a {declared} group for {d!r}" if misread
                        else "a BC group per axis",
                        severity=Severity.ERROR if misread else None)


@check("WF124", level=1, severity="warning",
       fix=f"use one of {', '.join(spec.GRID_TYPES)}")
def grid_type(ctx):
    """@grid_type is not a known grid type (cartesian, equiangular, spherical).

    The loader copies it to metadata; augmentations act only on ``cartesian`` grids.
    """
    g = ctx.layout.grid_type
    if g is not None and g not in spec.GRID_TYPES:
        yield Issue("/", f"@grid_type {g!r} is not one of {', '.join(spec.GRID_TYPES)}",
                    expected=list(spec.GRID_TYPES), observed=g)


def _extras_severity(ctx) -> Severity:
    return Severity.ERROR if ctx.layout.wellforge else Severity.INFO


@check("WF130", level=1, severity="error",
       also=[("info", "on plain Well files (without @wellforge_schema)")],
       fix="add @units (a pint-parsable string, '1' when dimensionless)")
def units_present(ctx):
    """@units is missing on a coordinate, time, field or scalar dataset.

    A wellforge addition: an info on plain Well files, an error on files that declare
    @wellforge_schema (they promise units everywhere).
    """
    sev = _extras_severity(ctx)
    for path, a, v in _attr_problems(ctx, wellforge=True):
        if a.name != "units":
            continue
        what = "missing" if v is MISSING else f"not a string ({_describe(v)})"
        yield Issue(path, f"@units is {what}", expected="a unit string",
                    observed="missing" if v is MISSING else _describe(v), severity=sev)


@check("WF131", level=1, severity="error",
       also=[("info", "on plain Well files (without @wellforge_schema)"),
             ("warning", "for a @wellforge_schema version this validator does not know")],
       fix="write the /provenance group (wellforge's writer does this)")
def provenance(ctx):
    """The /provenance group (or its @wellforge_version, @created) is missing.

    A wellforge addition: an info on plain Well files, an error on files that declare
    @wellforge_schema.
    """
    sev = _extras_severity(ctx)
    p = "/" + spec.PROVENANCE_GROUP
    if ctx.kind(p) != "group":
        yield Issue(p, "no /provenance group", expected="group", observed="missing",
                    severity=sev)
        return
    g = ctx.get(p)
    for a in spec.PROVENANCE.attrs:
        if as_str(read_attr(g, a.name)) is None:
            yield Issue(p, f"/provenance@{a.name} is missing or not a string", severity=sev)
    ver = read_attr(ctx.get("/"), "wellforge_schema")
    if ver is not MISSING and as_str(ver) not in spec.KNOWN_SCHEMA_VERSIONS:
        yield Issue("/", f"@wellforge_schema {ver!r} is not the version this validator "
                    f"knows ({spec.SCHEMA_VERSION})", expected=spec.SCHEMA_VERSION,
                    observed=str(ver), severity=Severity.WARNING)
