"""Random designs of a parameter (or initial-condition) sweep: ``{sample: {...}}``.

::

    parameters:
      sample:
        method: sobol          # uniform | sobol | latin_hypercube
        n: 16                  # how many points (sobol: a power of 2 keeps its balance)
        seed: 3                # the design's own seed (not the runs' root seed)
        ranges:
          Rayleigh: {low: 1.0e+5, high: 1.0e+7, scale: log}   # log-uniform
          Prandtl: {low: 0.5, high: 2.0}                      # uniform (scale: linear)

The points are a pure function of (method, n, seed, ranges): every rank of every job
computes the same design, and a rerun plans the same runs. Scrambled Sobol' and Latin
hypercube designs come from ``scipy.stats.qmc``; ``uniform`` draws i.i.d. points with
NumPy's generator. Each point's coordinates map from [0, 1) to the parameter's range,
linearly or in log10 (``scale: log``, for positive ranges).
"""

from __future__ import annotations

import math

import numpy as np

from wellforge.errors import ConfigError

METHODS = ("uniform", "sobol", "latin_hypercube")
SCALES = ("linear", "log")


def _number(where: str, v) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number, given {v!r}") from None
    if not math.isfinite(x):
        raise ConfigError(f"{where}: expected a finite number, given {v!r}")
    return x


def unit_points(method: str, n: int, d: int, seed: int) -> np.ndarray:
    """``n`` points of ``method`` in [0, 1)^d."""
    if method == "uniform":
        return np.random.default_rng(seed).random((n, d))
    from scipy.stats import qmc

    engine = (qmc.Sobol(d, scramble=True, seed=seed) if method == "sobol"
              else qmc.LatinHypercube(d, seed=seed))
    return engine.random(n)


def sample(key: str, body) -> list[dict]:
    """The points of a ``sample`` design, as {name: value} mappings (in design order)."""
    where = f"{key}.sample"
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: expected a mapping with method, n, seed and ranges")
    bad = [k for k in body if k not in ("method", "n", "seed", "ranges")]
    if bad:
        raise ConfigError(f"{where}.{bad[0]}: unknown key; allowed: method, n, seed, ranges")
    method = body.get("method", "sobol")
    if method not in METHODS:
        raise ConfigError(f"{where}.method: {method!r} is not one of {', '.join(METHODS)}")
    n, seed = body.get("n"), body.get("seed", 0)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"{where}.n: expected a number of points >= 1, given {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{where}.seed: expected an integer >= 0, given {seed!r}")
    ranges = body.get("ranges")
    if not isinstance(ranges, dict) or not ranges:
        raise ConfigError(f"{where}.ranges: expected name: {{low, high[, scale]}} for each "
                          "sampled name")
    names, lows, highs, logs = [], [], [], []
    for name, r in ranges.items():
        w = f"{where}.ranges.{name}"
        if not isinstance(r, dict) or set(r) - {"low", "high", "scale"} or \
                not {"low", "high"} <= set(r):
            raise ConfigError(f"{w}: expected {{low: L, high: H[, scale: linear|log]}}")
        lo, hi = _number(f"{w}.low", r["low"]), _number(f"{w}.high", r["high"])
        scale = r.get("scale", "linear")
        if scale not in SCALES:
            raise ConfigError(f"{w}.scale: {scale!r} is not one of {', '.join(SCALES)}")
        if not lo < hi:
            raise ConfigError(f"{w}: expected low < high, given [{lo:g}, {hi:g}]")
        if scale == "log" and lo <= 0:
            raise ConfigError(f"{w}: a log scale needs low > 0, given {lo:g}")
        names.append(str(name))
        lows.append(math.log10(lo) if scale == "log" else lo)
        highs.append(math.log10(hi) if scale == "log" else hi)
        logs.append(scale == "log")
    u = unit_points(method, n, len(names), seed)
    x = np.asarray(lows) + u * (np.asarray(highs) - np.asarray(lows))
    for j, log in enumerate(logs):
        if log:
            x[:, j] = 10.0 ** x[:, j]
    # 10 significant digits: exact in a JSON manifest and in the plan of another rank
    return [{nm: float(f"{v:.10g}") for nm, v in zip(names, row)} for row in x]
