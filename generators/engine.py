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


def dedalus():
    """Return ``dedalus.public`` configured for wellforge."""
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
