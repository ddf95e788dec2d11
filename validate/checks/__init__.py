"""The validator's rules, one module per level or concern; importing this package
registers every one of them (``@check`` and ``@reducer`` run at import).

==============  =====  ===================================================================
module          level  what it checks
==============  =====  ===================================================================
``safety``      L0     what the safe open found: links and storage outside the file,
                       filters, shape bombs, structural limits (refusals, exit 3)
``structure``   L1     the Well's layout: groups, attributes, shapes, dtypes, time and
                       coordinate axes, boundary-condition metadata, wellforge's additions
``units``       L2     ``@units``: parse, match the card, fit together, agree across files
``cards``       L2     the file against its system card: fields, parameters, axes,
                       boundary conditions, grids
``sanity``      L3     non-finite, constant, repeated and outlier frames; outlier
                       trajectories (the ``frames`` reducer)
``boundaries``  L4     periodic seams and duplicated endpoints, wall values (the ``seam``
                       and ``walls`` reducers)
``invariants``  L4     conserved and zero means, divergence, tensor symmetry and
                       definiteness, ranges, energy (the ``integrals``, ``divergence``,
                       ``tensor`` and ``range`` reducers)
``dataset``     L5     the files of a dataset together, stats.yaml, <name>.yaml (the
                       ``traj_hash`` and ``moments`` reducers)
==============  =====  ===================================================================

A check module imports only downward (the floor: findings, context, attributes, robust
statistics, unit algebra, quadrature, cards, the physics plan; the machinery: registry,
stream), never another check module: a helper two of them need lives in the floor. A
rule's reducer and its check function stand in the same module. A new module is added to
the import below (``tests/test_validate_mutations.py`` then wants a fault that fires
each of its rules).
"""

from __future__ import annotations

from ..registry import REGISTRY, Rule
from . import (  # noqa: F401 - imported to register their checks and reducers
    boundaries,
    cards,
    dataset,
    invariants,
    safety,
    sanity,
    structure,
    units,
)


def load_all() -> dict[str, Rule]:
    """Every registered rule (this package's modules registered theirs when imported)."""
    return REGISTRY
