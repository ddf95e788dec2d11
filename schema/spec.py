"""The Well's HDF5 layout as data: one source of truth for writer, reader and validator.

Every rule here comes from the Well's loader (``the_well/data/datasets.py``), its format
checker (``scripts/check_thewell_formatting.py``) and its released files; where those
disagree with ``docs/data_format.md`` the files and tools win (see ``QUIRKS``).
wellforge additions (``@units``, ``@wellforge_schema``, ``/provenance``) are ignored by
the Well's loader and checker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = "1.1"
#: versions the reader and validator know: 1.1 keeps /provenance to attributes, BC values
#: in @wellforge_values and the system card in @wellforge_card (the Well's tools refuse
#: datasets they do not know); 1.0 had provenance arrays and BC 'values' as datasets
KNOWN_SCHEMA_VERSIONS = ("1.0", "1.1")

#: Boundary-condition codes as the Well's loader maps them (``BoundaryCondition`` enum).
BC_CODES: dict[str, int] = {"WALL": 0, "OPEN": 1, "PERIODIC": 2}
BC_TYPES = tuple(BC_CODES)
#: Second part of a BC group name, ``<dim>_<type>[_<variant>]``; variants seen in released files.
BC_VARIANTS = {"WALL": ("dirichlet", "noslip", "neumann"), "OPEN": ("neumann",), "PERIODIC": ()}

GRID_TYPES = ("cartesian", "equiangular", "spherical")
#: Group holding the fields of each tensor order.
FIELD_GROUPS: dict[int, str] = {0: "t0_fields", 1: "t1_fields", 2: "t2_fields"}
#: Groups every Well file has (the loader indexes all of them).
REQUIRED_GROUPS = ("dimensions", "scalars", "boundary_conditions", *FIELD_GROUPS.values())
PROVENANCE_GROUP = "provenance"
#: a dataset directory: <name>/data/<split>/*.hdf5|*.h5, stats.yaml, <name>.yaml
SPLITS = ("train", "valid", "test")
DATA_SUFFIXES = (".hdf5", ".h5")
STATS_FILE = "stats.yaml"
#: JSON attribute of a boundary-condition group: {field or component: [low, high]}
BC_VALUES_ATTR = "wellforge_values"
DIMENSION_NAMES = ("x", "y", "z", "theta", "phi", "log_r")  # names miniwell accepts


@dataclass(frozen=True)
class Attr:
    """One required HDF5 attribute."""

    name: str
    kind: str  # "str" | "int" | "bool" | "str_list" | "bool_list" | "units"
    doc: str
    wellforge: bool = False  # a wellforge addition (not required on plain Well files)


@dataclass(frozen=True)
class ObjectRule:
    """Attributes required on one kind of HDF5 object."""

    kind: str
    where: str
    attrs: tuple[Attr, ...]
    doc: str = ""
    extra: tuple[str, ...] = field(default_factory=tuple)  # further rules, for people


_VARYING = (
    Attr("sample_varying", "bool", "True if the first axis indexes trajectories"),
    Attr("time_varying", "bool", "True if the (next) axis indexes stored time steps"),
)
_UNITS = Attr("units", "units", "pint-parsable unit string; '1' when dimensionless", wellforge=True)

ROOT = ObjectRule(
    "root",
    "/",
    (
        Attr("dataset_name", "str", "dataset name; identical in every file of a dataset"),
        Attr("n_spatial_dims", "int", "number of spatial dimensions"),
        Attr("n_trajectories", "int", "length of the leading axis of sample-varying arrays"),
        Attr("grid_type", "str", f"one of {', '.join(GRID_TYPES)}"),
        Attr("simulation_parameters", "str_list", "names of parameters; each is also a root "
             "attribute and a dataset in /scalars"),
        Attr("wellforge_schema", "str", "wellforge schema version", wellforge=True),
    ),
    extra=("each name in @simulation_parameters is also a root attribute holding its value",),
)
DIMENSIONS = ObjectRule(
    "dimensions", "/dimensions",
    (Attr("spatial_dims", "str_list", "axis names in storage order; defines the tensor "
          "component suffixes (velocity_x, ...)"),),
)
TIME = ObjectRule(
    "time", "/dimensions/time", (*_VARYING, _UNITS),
    extra=("float32, shape (T,) with time_varying=True and sample_varying=False, or (n_traj, T) "
           "with both True",
           "strictly increasing and uniform (the loader assumes a constant step)"),
)
COORDINATE = ObjectRule(
    "coordinate", "/dimensions/<dim>", (*_VARYING, _UNITS),
    extra=("float32, shape (N,), finite, strictly monotonic",
           "periodic axes exclude the duplicate endpoint: x_i = x0 + L i / N"),
)
FIELD_GROUP = ObjectRule(
    "field_group", "/t{0,1,2}_fields and /scalars",
    (Attr("field_names", "str_list", "names of the datasets in the group, in channel order"),),
)
FIELD = ObjectRule(
    "field", "/t<order>_fields/<name>",
    (Attr("dim_varying", "bool_list", "one flag per spatial dim"), *_VARYING, _UNITS),
    extra=("float32, shape [n_traj if sample_varying] + [T if time_varying] + "
           "[N_d for d where dim_varying] + [D] * order",
           "t2 fields are stored (..., D, D), not D^2"),
)
SCALAR = ObjectRule(
    "scalar", "/scalars/<name>", (*_VARYING, _UNITS),
    extra=("shape () when constant (not (1,)), else [n_traj][, T]",),
)
BOUNDARY = ObjectRule(
    "boundary_condition", "/boundary_conditions/<dim>_<type>[_<variant>]",
    (
        Attr("bc_type", "str", "WALL, OPEN or PERIODIC (upper case)"),
        Attr("associated_dims", "str_list", "the spatial dims the condition applies on"),
        Attr("associated_fields", "str_list", "fields it constrains (may be empty)"),
        *_VARYING,
    ),
    extra=("dataset 'mask': bool, shape = sizes of associated dims, True at both ends of "
           "the axis (an empty periodic mask is read as OPEN by the Well's loader)",
           f"optional attribute '{BC_VALUES_ATTR}' (wf): JSON mapping of field or component "
           "name to its prescribed [low, high] values (no 'values' dataset: the Well's "
           "create_mini_well refuses datasets it does not know; older wellforge files with "
           "a 'values' dataset are still read)"),
)
PROVENANCE = ObjectRule(
    "provenance", "/provenance",
    (
        Attr("wellforge_version", "str", "wellforge version that wrote the file", wellforge=True),
        Attr("created", "str", "UTC time the file was finished", wellforge=True),
    ),
    doc="wellforge addition: code and solver versions, resolved config, seeds per "
        "trajectory, timestepper, resolution simulated vs stored, MPI layout, dt statistics, "
        "wall and core seconds, host.",
)

RULES: tuple[ObjectRule, ...] = (ROOT, DIMENSIONS, TIME, COORDINATE, FIELD_GROUP, FIELD, SCALAR,
                                 BOUNDARY, PROVENANCE)

QUIRKS = (
    "dimensions/time needs @time_varying=True (the checker builds its expected shape from it; "
    "docs/data_format.md omits it)",
    "constant scalars have shape (), not (1,) as the docs suggest",
    "t2 fields are stored (..., D, D); the docs write D^2",
    "BC groups are named <dim>_<type>[_<variant>] (x_periodic, y_wall_dirichlet, theta_open)",
    "the Well's released shear_flow names its Reynolds number 'Rayleigh'",
    "<name>.yaml counts (n_files, n_trajectories_per_file) describe the valid split only",
)


def bc_group_name(dim: str, bc_type: str, variant: str | None = None) -> str:
    """Group name for a boundary condition, as in released files (``y_wall_dirichlet``)."""
    bc_type = bc_type.upper()
    if bc_type not in BC_CODES:
        raise ValueError(f"bc_type {bc_type!r} is not one of {', '.join(BC_TYPES)}")
    return "_".join([dim, bc_type.lower(), *([variant] if variant else [])])


def expected_shape(
    *,
    n_traj: int,
    n_time: int,
    dim_sizes: tuple[int, ...] | list[int],
    sample_varying: bool,
    time_varying: bool,
    dim_varying: tuple[bool, ...] | list[bool] | None = None,
    order: int = 0,
) -> tuple[int, ...]:
    """Shape rule of the Well's format checker for fields and scalars.

    ``[n_traj if sample_varying] + [T if time_varying] + [N_d where dim_varying] + [D]*order``
    """
    n_dims = len(dim_sizes)
    if dim_varying is None:
        dim_varying = [False] * n_dims
    shape: list[int] = []
    if sample_varying:
        shape.append(n_traj)
    if time_varying:
        shape.append(n_time)
    shape += [n for n, v in zip(dim_sizes, dim_varying) if v]
    shape += [n_dims] * order
    return tuple(shape)


def component_names(name: str, order: int, spatial_dims: list[str] | tuple[str, ...]) -> list[str]:
    """Channel names the Well's loader gives a tensor field (``velocity_x``, ``C_xy``)."""
    if order == 0:
        return [name]
    if order == 1:
        return [f"{name}_{d}" for d in spatial_dims]
    return [f"{name}_{a}{b}" for a in spatial_dims for b in spatial_dims]


def render_markdown() -> str:
    """The format reference for people, rendered from the rules above."""
    lines = [
        "# The Well HDF5 layout (wellforge schema " + SCHEMA_VERSION + ")",
        "",
        "Generated from `schema/spec.py` by `wellforge schema`; do not edit by hand.",
        "Attributes marked (wf) are wellforge additions, ignored by the Well's loader; they are "
        "required on files that declare `@wellforge_schema`.",
        "",
        "Groups every file has: " + ", ".join(f"`/{g}`" for g in REQUIRED_GROUPS)
        + f"; wellforge files also have `/{PROVENANCE_GROUP}`.",
        "",
    ]
    for rule in RULES:
        lines += [f"## `{rule.where}` ({rule.kind})", ""]
        if rule.doc:
            lines += [rule.doc, ""]
        lines += ["| attribute | type | meaning |", "|---|---|---|"]
        for a in rule.attrs:
            lines.append(f"| `@{a.name}`{' (wf)' if a.wellforge else ''} | {a.kind} | {a.doc} |")
        lines.append("")
        for e in rule.extra:
            lines.append(f"- {e}")
        if rule.extra:
            lines.append("")
    lines += ["## Boundary-condition codes (loader)", ""]
    lines += [f"- `{k}` = {v}" for k, v in BC_CODES.items()]
    lines += ["", "## Quirks of the Well that this schema follows", ""]
    lines += [f"- {q}" for q in QUIRKS]
    return "\n".join(lines) + "\n"
