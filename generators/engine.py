"""Import Dedalus the way every wellforge run needs it.

- Dedalus logs to stdout by default; wellforge keeps stdout for reports (``--json``), so
  its handler is moved to stderr.
- Dedalus's INFO lines (matrix building, solver set-up: most of a small run's output)
  follow wellforge's level: shown with ``-v`` only, warnings always.
- FFTW plans chosen by measurement differ from run to run and change the rounding;
  estimated plans make a rerun (a resumed sweep) reproduce the data bit for bit.
"""

from __future__ import annotations

import logging
import sys

INSTALL_HINT = ("pip install 'wellforge[generate]' (it builds against MPI and FFTW: on Debian "
                "apt-get install libopenmpi-dev libfftw3-mpi-dev first; scripts/install.sh "
                "does it all)")


def require_solvers(command: str) -> None:
    """One line (ConfigError) when Dedalus or mpi4py is missing: the light install
    (``pip install wellforge``) validates and inspects files but does not generate."""
    import importlib.util

    from wellforge.errors import ConfigError

    def absent(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is None
        except (ImportError, ValueError):  # e.g. sys.modules[name] = None
            return True

    missing = [m for m in ("mpi4py", "dedalus") if absent(m)]
    if missing:
        raise ConfigError(f"'{command}' needs {' and '.join(missing)}, which this installation "
                          f"lacks: {INSTALL_HINT}")


def dedalus():
    """Return ``dedalus.public`` configured for wellforge."""
    require_solvers("generate")
    import dedalus.public as d3
    from dedalus.tools.config import config

    config["transforms-fftw"]["PLANNING_RIGOR"] = "estimate"
    config["parallelism-fftw"]["PLANNING_RIGOR"] = "estimate"
    level = (logging.INFO if logging.getLogger("wellforge").isEnabledFor(logging.DEBUG)
             else logging.WARNING)
    for h in logging.getLogger().handlers:
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
            if getattr(h, "stream", None) is sys.stdout:
                h.setStream(sys.stderr)
            h.setLevel(level)
    return d3
