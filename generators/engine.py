"""Import Dedalus the way every wellforge run needs it.

- Dedalus logs to stdout by default; wellforge keeps stdout for reports (``--json``), so
  its handler is moved to stderr.
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
    for h in logging.getLogger().handlers:
        if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is sys.stdout:
            h.setStream(sys.stderr)
    return d3
