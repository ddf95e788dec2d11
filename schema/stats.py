"""``stats.yaml`` exactly as the Well's ``scripts/compute_statistics.py`` computes it.

Per train file and field: count, mean and population variance over every axis except
the trailing tensor axes, and the same for the deltas between consecutive stored frames
of a trajectory. Files are pooled as a count-weighted mixture:
``mean = sum w_i mu_i``, ``E[x^2] = sum w_i (sigma_i^2 + mu_i^2)``,
``std = sqrt(E[x^2] - mean^2)``, ``rms = sqrt(E[x^2])``.
Within a file the moments are accumulated block by block (Chan's parallel update), so
memory stays bounded and the per-file values equal the Well's whole-array ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np

from .reader import iter_blocks, read_info

STAT_KEYS = ("mean", "std", "rms", "mean_delta", "std_delta", "rms_delta")


@dataclass
class Moments:
    """Running count, mean and sum of squared deviations, per tensor component."""

    count: int = 0
    mean: np.ndarray | float = 0.0
    m2: np.ndarray | float = 0.0

    def add(self, block: np.ndarray, order: int) -> None:
        comps = block.shape[block.ndim - order:] if order else ()
        x = np.asarray(block, dtype=np.float64).reshape((-1, *comps))
        if x.shape[0]:
            mu = x.mean(axis=0)
            self.merge(x.shape[0], mu, ((x - mu) ** 2).sum(axis=0))

    def merge(self, n: int, mu, m2) -> None:
        """Merge the moments (count, mean, sum of squared deviations) of another part."""
        if n == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.m2 = n, mu, m2
            return
        tot = self.count + n
        d = mu - self.mean
        self.mean = self.mean + d * (n / tot)
        self.m2 = self.m2 + m2 + d**2 * (self.count * n / tot)
        self.count = tot

    @property
    def var(self):
        return self.m2 / self.count


def file_moments(path: str) -> dict[str, tuple[Moments, Moments | None]]:
    """Moments of every field of one file: (values, deltas or None if not time-varying)."""
    info = read_info(path)
    out: dict[str, tuple[Moments, Moments | None]] = {}
    with h5py.File(path, "r") as f:
        for fi in info.fields:
            vals = Moments()
            deltas = Moments() if fi.time_varying else None
            prev_traj, prev_last = object(), None
            for traj, _, block in iter_blocks(f[fi.path], fi):
                vals.add(block, fi.order)
                if deltas is None:
                    continue
                if traj == prev_traj and prev_last is not None:
                    block_d = np.concatenate([prev_last[None], block])
                else:
                    block_d = block
                if block_d.shape[0] > 1:
                    deltas.add(np.diff(block_d.astype(np.float64), axis=0), fi.order)
                prev_traj, prev_last = traj, block[-1]
            out[fi.name] = (vals, deltas)
    return out


def pool(parts: list[Moments]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    total = sum(p.count for p in parts)
    mean = sum(p.count / total * np.asarray(p.mean) for p in parts)
    ex2 = sum(p.count / total * (np.asarray(p.var) + np.asarray(p.mean) ** 2) for p in parts)
    return mean, np.sqrt(np.maximum(ex2 - mean**2, 0.0)), np.sqrt(ex2)


def compute_stats(train_files: list[str]) -> dict[str, dict[str, object]]:
    """The ``stats.yaml`` content for a list of train files."""
    per_file = [file_moments(p) for p in sorted(train_files)]
    if not per_file:
        raise ValueError("no train files to compute statistics from")
    stats: dict[str, dict[str, object]] = {k: {} for k in STAT_KEYS}
    for name in per_file[0]:
        mean, std, rms = pool([m[name][0] for m in per_file])
        stats["mean"][name], stats["std"][name], stats["rms"][name] = mean, std, rms
        if per_file[0][name][1] is not None:
            mean, std, rms = pool([m[name][1] for m in per_file])
            stats["mean_delta"][name] = mean
            stats["std_delta"][name] = std
            stats["rms_delta"][name] = rms
    return {k: {n: np.asarray(v).tolist() for n, v in d.items()} for k, d in stats.items()}


def dump_stats(stats: dict) -> str:
    """YAML text in the released format: sorted keys, floats as ``%.4E``."""
    import yaml  # here, not at import: the validator reads this module for every file

    class StatsDumper(yaml.SafeDumper):
        pass

    StatsDumper.add_representer(
        float, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", "%.4E" % v))
    return yaml.dump(stats, Dumper=StatsDumper, sort_keys=True, default_flow_style=False)
