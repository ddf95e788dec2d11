"""System registry: built-in systems plus plugins from the ``wellforge.systems`` entry
point group (a plugin package declares ``[project.entry-points."wellforge.systems"]
name = "pkg.module:SystemClass"``)."""

from __future__ import annotations

import importlib
from functools import lru_cache
from importlib.metadata import entry_points

from wellforge.errors import ConfigError

from .system import System

BUILTIN = {
    "active_matter": "wellforge.generators.systems.active_matter:ActiveMatter",
    "shear_flow": "wellforge.generators.systems.shear_flow:ShearFlow",
    "rayleigh_benard": "wellforge.generators.systems.rayleigh_benard:RayleighBenard",
    "gray_scott_reaction_diffusion":
        "wellforge.generators.systems.gray_scott_reaction_diffusion:GrayScott",
    "kolmogorov_flow": "wellforge.generators.systems.kolmogorov_flow:KolmogorovFlow",
    "kuramoto_sivashinsky":
        "wellforge.generators.systems.kuramoto_sivashinsky:KuramotoSivashinsky",
    "planetswe": "wellforge.generators.systems.planetswe:PlanetSWE",
    "viscoelastic_instability":
        "wellforge.generators.systems.viscoelastic_instability:ViscoelasticInstability",
    "rayleigh_benard_3d": "wellforge.generators.systems.rayleigh_benard_3d:RayleighBenard3D",
    "taylor_green_3d": "wellforge.generators.systems.taylor_green_3d:TaylorGreen3D",
}


def _load(target: str) -> type[System]:
    mod, _, cls = target.partition(":")
    return getattr(importlib.import_module(mod), cls)


@lru_cache(maxsize=1)
def available() -> dict[str, str]:
    """name -> 'module:Class' for every known system (plugins may not shadow built-ins)."""
    found = dict(BUILTIN)
    for ep in entry_points(group="wellforge.systems"):
        found.setdefault(ep.name, ep.value)
    return found


def get_system(name: str) -> System:
    systems = available()
    if name not in systems:
        raise ConfigError(f"unknown system {name!r}; available: {', '.join(sorted(systems))}")
    return _load(systems[name])()
