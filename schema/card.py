"""System cards: what a dataset's physics declares, for the generator, validator and README.

A card lists the fields (tensor order, units), the parameters (units, allowed range), the
axes (grid kind, bounds), the boundary condition on each axis and the declared invariants.
Generators write from the card; the validator checks files against it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class FieldCard:
    name: str
    order: int  # 0 scalar, 1 vector, 2 tensor
    units: str
    doc: str = ""


@dataclass(frozen=True)
class ParamCard:
    name: str
    units: str
    doc: str
    low: float | None = None  # inclusive bounds of the allowed range
    high: float | None = None
    well_values: tuple[float, ...] = ()  # the values of the Well's released sweep


@dataclass(frozen=True)
class AxisCard:
    name: str
    kind: str  # "fourier" (uniform periodic) | "chebyshev" (Gauss nodes) | "uniform" | ...
    bounds: tuple[float, float]
    units: str
    bc: str  # PERIODIC | WALL | OPEN
    bc_variant: str | None = None
    bc_values: dict[str, tuple[float, float]] = field(default_factory=dict)  # field -> (low, high)
    bc_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvariantCard:
    kind: str  # "conserved_mean" | "divergence_free" | "bounded" | ...
    field: str
    tolerance: float
    doc: str = ""
    bounds: tuple[float | None, float | None] | None = None  # "bounded": (low, high)
    equals: str | None = None  # "trace": the field the trace equals (None: zero)


@dataclass(frozen=True)
class SystemCard:
    name: str
    title: str
    equations: str  # LaTeX, one equation per line
    fields: tuple[FieldCard, ...]
    parameters: tuple[ParamCard, ...]
    axes: tuple[AxisCard, ...]
    time_units: str = "1"
    grid_type: str = "cartesian"
    invariants: tuple[InvariantCard, ...] = ()
    references: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: time-varying scalars of each trajectory (order 0): volume means such as the kinetic
    #: energy, stored as ``/scalars/<name>`` of shape (n_traj, T), one value per frame
    diagnostics: tuple[FieldCard, ...] = ()

    def field(self, name: str) -> FieldCard:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def diagnostic(self, name: str) -> FieldCard:
        for f in self.diagnostics:
            if f.name == name:
                return f
        raise KeyError(name)

    def param(self, name: str) -> ParamCard:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def to_dict(self) -> dict:
        return asdict(self)
