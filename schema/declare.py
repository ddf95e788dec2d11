"""Declare a Well file from a system card: what the generator and ``convert`` write alike.

The card says everything a file declares before its first frame: the stored axes (names,
units), the simulation parameters (units), the fields (tensor order, units), a boundary
condition per axis (type, variant, fields, prescribed wall values) and, as root
attributes, the system's name and the card itself (``@wellforge_card``: a dataset checked
where its system is not installed still has its card).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from .card import SystemCard
from .cardfile import card_json
from .writer import WellWriter


def declare_from_card(writer: WellWriter, card: SystemCard, coords: Iterable[np.ndarray],
                      params: Mapping[str, float], fields: Iterable[str], *,
                      system: str | None = None,
                      param_names: Mapping[str, str] | None = None,
                      diagnostics: Iterable[str] = ()) -> WellWriter:
    """Declare ``writer``'s axes (``coords`` in the card's axis order), parameters
    (card name -> value; stored under ``param_names`` where given, e.g. the Well's
    ``Rayleigh`` quirk), ``fields`` (card field names, in storage order), boundary
    conditions and root attributes from ``card``; ``diagnostics`` (card diagnostic names)
    are time-varying scalars, written frame by frame."""
    names = dict(param_names or {})
    for ax, c in zip(card.axes, coords):
        writer.add_dimension(ax.name, c, units=ax.units)
    for name, value in params.items():
        writer.add_parameter(names.get(name, name), value, units=card.param(name).units)
    for name in fields:
        fc = card.field(name)
        writer.add_field(name, order=fc.order, units=fc.units)
    for name in diagnostics:
        writer.add_series(name, units=card.diagnostic(name).units)
    for ax in card.axes:
        writer.add_boundary_condition(ax.name, ax.bc, variant=ax.bc_variant,
                                      fields=ax.bc_fields, values=ax.bc_values or None)
    writer.set_root_attrs(wellforge_system=system or card.name, wellforge_card=card_json(card))
    return writer
