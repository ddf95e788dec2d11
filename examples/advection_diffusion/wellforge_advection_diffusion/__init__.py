"""2-D advection-diffusion of a passive scalar (exact solution): a wellforge system plugin (entry point group ``wellforge.systems``)."""

from .system import AdvectionDiffusion

__all__ = ["AdvectionDiffusion"]
