"""System cards for checking: which card describes a file, and how its names map to the
file's objects.

A card (``wellforge.schema.card.SystemCard``) declares the fields with tensor order and
units, the parameters, the axes (grid kind, bounds, boundary condition and wall values)
and the invariants (conserved, bounded, divergence-free, symmetric, ...). The validator
picks one per file, first match wins:

1. ``--card CARD.yaml`` (``Options.card``): the card a contributor gives for the run;
2. root ``@wellforge_system`` (wellforge's own files) naming a registered system (built-in
   or plugin): that system's card;
3. root ``@wellforge_card``: the card embedded in the file (YAML or JSON text; wellforge
   writes the card of the system that made the data), so a dataset checked where its
   plugin is not installed still gets its card's checks (the note says so);
4. ``@wellforge_system`` naming a card shipped with the validator;
5. root ``@dataset_name``: a card shipped with the validator (``validate/cards/*.yaml``:
   the Well's datasets, including those wellforge does not generate), else a registered
   system of that name.

Without a card the validator runs the generic checks only (units, periodic seams and
walls from the file's boundary-condition metadata, the t2 ``@symmetric`` flags) and says
so in the report's notes.

Cards shipped here may carry a validator-only ``validation:`` mapping, removed before
the card is built: ``unknown_bounds: [axis, ...]`` marks axes whose domain the dataset's
documentation does not state (their coordinates are then checked for the grid kind only).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

from wellforge.schema.card import SystemCard
from wellforge.schema.grids import CARD_KINDS
from wellforge.schema.spec import component_names

from wellforge.errors import ConfigError

from . import attrs, safe_yaml
from .attrs import MISSING, read_attr
from .unit_algebra import (
    KINEMATIC,
    dimension,
    dimension_text,
    dmul,
    dpow,
    is_angle,
    is_group,
)

CARDS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cards")
VALIDATION_KEYS = ("unknown_bounds",)
#: kinds of invariants the L4 checks evaluate (others in a card are reported as notes)
CHECKED_KINDS = ("conserved_mean", "zero_mean", "divergence_free", "symmetric",
                 "antisymmetric", "positive_definite", "non_negative", "bounded",
                 "energy_non_increasing", "trace", "traceless")


@dataclass
class Card:
    """A card and what the validator needs around it."""

    card: SystemCard
    source: str  # where it came from, for messages
    #: card parameter name -> name in the file (the Well's shear_flow calls Re 'Rayleigh')
    aliases: dict[str, str] = field(default_factory=dict)
    unknown_bounds: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.card.name

    def field(self, name: str):
        for f in self.card.fields:
            if f.name == name:
                return f
        return None

    def axis(self, name: str):
        for a in self.card.axes:
            if a.name == name:
                return a
        return None

    def param_names(self, name: str) -> tuple[str, ...]:
        """Names a card parameter may have in a file: its own, and its alias (the
        Well's shear_flow stores Re as 'Rayleigh', ``--well-compat``)."""
        alias = self.aliases.get(name)
        return (name, alias) if alias and alias != name else (name,)

    def invariants(self, field_name: str) -> list:
        return [v for v in self.card.invariants if v.field == field_name]


def card_from_text(text: str, where: str) -> Card:
    """A card from YAML (or JSON) text; ``ConfigError`` naming ``where`` if invalid."""
    try:
        data = safe_yaml.load(text)
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from None
    return card_from_data(data, where)


def card_from_data(data, where: str) -> Card:
    from wellforge.schema.cardfile import card_from_mapping

    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping (a system card)")
    data = dict(data)
    extra = data.pop("validation", None) or {}
    if not isinstance(extra, dict):
        raise ConfigError(f"{where}.validation: expected a mapping")
    unknown = [k for k in extra if k not in VALIDATION_KEYS]
    if unknown:
        raise ConfigError(
            f"{where}.validation.{unknown[0]}: unknown key; allowed: {', '.join(VALIDATION_KEYS)}"
        )
    ub = extra.get("unknown_bounds") or []
    if not isinstance(ub, list) or not all(isinstance(x, str) for x in ub):
        raise ConfigError(f"{where}.validation.unknown_bounds: expected a list of axis names")
    card = card_from_mapping(data, where=where)
    names = {a.name for a in card.axes}
    bad = [x for x in ub if x not in names]
    if bad:
        raise ConfigError(
            f"{where}.validation.unknown_bounds: {bad[0]!r} is not an axis of the card"
        )
    return Card(card, where, unknown_bounds=frozenset(ub))


def load_card_file(path: str) -> Card:
    """A YAML card file (``wellforge check-card``, ``validate --card``)."""
    try:
        with open(path) as fh:
            text = fh.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such card file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    return card_from_text(text, path)


@lru_cache(maxsize=1)
def builtin_cards() -> dict[str, str]:
    """Name -> path of the cards shipped with the validator."""
    out = {}
    if os.path.isdir(CARDS_DIR):
        for fn in sorted(os.listdir(CARDS_DIR)):
            if fn.endswith(".yaml"):
                out[fn[:-5]] = os.path.join(CARDS_DIR, fn)
    return out


@lru_cache(maxsize=64)
def builtin_card(name: str) -> Card | None:
    path = builtin_cards().get(name)
    if path is None:
        return None
    c = load_card_file(path)
    c.source = f"wellforge's card for the Well dataset {name!r} ({os.path.basename(path)})"
    return c


@lru_cache(maxsize=64)
def system_card(name: str, plugins: bool = True) -> Card | None:
    """The card of a registered system (built-in, or a plugin when ``plugins``), or None.
    Looking at plugins scans the installed packages' entry points (~0.1 s)."""
    from wellforge.generators.registry import BUILTIN, available, get_system

    if name not in BUILTIN and (not plugins or name not in available()):
        return None
    try:
        system = get_system(name)
    except Exception:  # noqa: BLE001 - a broken plugin is a missing card, not a crash
        return None
    aliases = dict(getattr(system, "well_compat_names", {}) or {})
    return Card(system.card, f"the card of the registered system {name!r}", aliases=aliases)


def preload() -> None:
    """Load the shipped cards and the registered systems' cards (before forking workers,
    so that each file's process inherits them)."""
    from wellforge.generators.registry import available

    for name in builtin_cards():
        try:
            builtin_card(name)
        except ConfigError:
            pass
    for name in available():
        system_card(name)


@dataclass
class Lookup:
    card: Card | None
    how: str  # how it was found, or why there is none
    problem: str | None = None  # a card was named but cannot be used (WF209)


def find_card(ctx) -> Lookup:
    """The card for the file of ``ctx``, first match wins (the order above); read once
    per file, as ``FileContext.card_lookup``."""
    given = getattr(ctx.options, "card", None)
    if given is not None:
        if isinstance(given, Card):
            return Lookup(given, f"given with --card ({given.source})")
        try:
            return Lookup(load_card_file(str(given)), f"given with --card ({given})")
        except ConfigError as e:
            return Lookup(None, "the card given with --card is invalid", str(e))
    root = ctx.get("/")
    sysname = read_attr(root, "wellforge_system") if root is not None else MISSING
    name = attrs.text(sysname)
    if name is not None:
        c = system_card(name)
        if c is not None:
            return Lookup(c, f"@wellforge_system = {name!r}: {c.source}")
    emb = read_attr(root, "wellforge_card") if root is not None else MISSING
    text = attrs.text(emb)
    if text is not None:
        absent = (f"; the system {name!r} is not installed here" if name is not None
                  else "")
        try:
            data = json.loads(text) if text.lstrip().startswith("{") else None
            card = (
                card_from_data(data, "@wellforge_card")
                if data is not None
                else card_from_text(text, "@wellforge_card")
            )
            return Lookup(card, f"embedded in the file (@wellforge_card){absent}")
        except (ConfigError, ValueError) as e:
            problem = f"the embedded @wellforge_card is not a valid card: {e}"
            return Lookup(None, problem, problem)
    if name is not None:
        c = _builtin(name)
        if c is not None:
            return Lookup(c, f"@wellforge_system = {name!r}: {c.source}")
        problem = (
            f"@wellforge_system names {name!r}, which is neither a registered system "
            "(wellforge systems) nor a card shipped with the validator"
        )
        return Lookup(None, problem, problem)
    ds = ctx.layout.dataset_name
    if ds:
        c = _builtin(ds) or system_card(ds, plugins=False)  # plugins' files name their system
        if c is not None:
            return Lookup(c, f"@dataset_name = {ds!r}: {c.source}")
        return Lookup(None, f"no system card for @dataset_name {ds!r}")
    return Lookup(None, "the file names no dataset (no @dataset_name)")


def _builtin(name: str) -> Card | None:
    try:
        return builtin_card(name)
    except ConfigError:
        return None


def component_index(card: Card, key: str, spatial_dims) -> tuple[str, int | None] | None:
    """(field name, component index or None for all) for a ``bc_values`` key: a field
    name (``buoyancy``) or a component name (``velocity_x``)."""
    if card.field(key) is not None:
        return key, None
    for f in card.card.fields:
        if f.order and key.startswith(f.name + "_"):
            names = component_names(f.name, f.order, list(spatial_dims))
            if key in names:
                return f.name, names.index(key)
    return None


# -- linting a card (``wellforge check-card``) -----------------------------------------------

def lint(card: Card) -> list[tuple[str, str]]:
    """(level, message) pairs about a valid card: 'warning' for what will make the
    validator report the card's own data wrongly or check less than the card says,
    'info' for what the validator does not check."""
    c = card.card
    out: list[tuple[str, str]] = []

    def warn(msg: str) -> None:
        out.append(("warning", msg))

    def info(msg: str) -> None:
        out.append(("info", msg))

    fields = {f.name: f for f in c.fields}
    dims = [a.name for a in c.axes]
    lengths = [a for a in c.axes if not is_angle(a.units)]
    frame = [a.units for a in lengths] + [c.time_units]
    dimless = [not dimension(u) for u in frame]
    if any(dimless) and not all(dimless):
        warn(
            "mixed units: "
            + ", ".join(f"{a.name} in {a.units!r}" for a in lengths)
            + f", time in {c.time_units!r}: use all dimensionless or all "
            "dimensional"
        )
    elif all(dimless):
        for f in c.fields:
            if dimension(f.units):
                warn(f"field {f.name!r} in {f.units!r} while the axes and time are dimensionless")
    else:
        Ld = dimension(lengths[0].units) if lengths else (("length", 1),)
        Td = dimension(c.time_units)
        for f in c.fields:
            kin = next(((pw, what) for rx, pw, what in KINEMATIC if rx.search(f.name)), None)
            if kin is None:
                continue
            (pl, pt), what = kin
            want = dmul(dpow(Ld, pl), dpow(Td, pt))
            if dimension(f.units) != want:
                warn(
                    f"field {f.name!r} is {what} but its units {f.units!r} are not "
                    f"{dimension_text(want)}"
                )
    for p in c.parameters:
        if is_group(p.name) and dimension(p.units):
            warn(f"parameter {p.name!r} names a dimensionless group but has units {p.units!r}")
    for a in c.axes:
        if a.bc.upper() == "PERIODIC" and a.kind not in ("fourier", "uniform"):
            warn(
                f"axis {a.name!r}: PERIODIC on a {a.kind} grid "
                "(periodic axes are uniform, without the endpoint)"
            )
        if a.bc.upper() == "WALL" and a.kind == "fourier":
            warn(f"axis {a.name!r}: WALL on a fourier (periodic) grid")
        if a.bc_values and a.bc.upper() != "WALL":
            warn(
                f"axis {a.name!r}: bc_values on a {a.bc} axis are not "
                "checked (only WALL values are)"
            )
        for key in a.bc_values:
            if component_index(card, key, dims) is None:
                warn(
                    f"axis {a.name!r}: bc_values key {key!r} is neither a "
                    "field nor a component name (velocity_x, ...) of the card"
                )
        if a.kind not in CARD_KINDS:  # whose coordinates WF207 checks
            info(
                f"axis {a.name!r}: kind {a.kind!r} is not one the validator "
                "checks coordinates against; the grid is detected from them"
            )
    for v in c.invariants:
        f = fields[v.field]
        if v.kind not in CHECKED_KINDS:
            info(f"invariant {v.kind!r} of {v.field!r} is not checked by the validator")
            continue
        if v.kind == "divergence_free" and f.order != 1:
            warn(
                f"divergence_free on {v.field!r}, a t{f.order} field "
                "(only vector fields are checked)"
            )
        if v.kind in ("symmetric", "antisymmetric", "positive_definite", "trace",
                      "traceless") and f.order != 2:
            warn(f"{v.kind} on {v.field!r}, a t{f.order} field (only t2 fields are checked)")
        target = getattr(v, "equals", None)
        if v.kind == "trace" and target is not None and fields[target].order != 0:
            warn(f"trace of {v.field!r} equals {target!r}, a t{fields[target].order} field "
                 "(a trace is a scalar: give a t0 field)")
        if v.kind != "trace" and target is not None:
            warn(f"{v.kind} of {v.field!r}: 'equals' is only read by 'trace' invariants")
        if (
            v.kind == "bounded"
            and v.bounds is None
            and not any(v.field in a.bc_values for a in c.axes)
        ):
            warn(f"bounded {v.field!r} without bounds (give bounds: [low, high]): not checked")
        if v.tolerance < 0:
            warn(f"invariant {v.kind!r} of {v.field!r}: negative tolerance")
    return out
