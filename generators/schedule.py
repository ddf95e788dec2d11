"""Scheduling a sweep: the MPI layout, the order of the runs, the disk it needs.

- :func:`ranks_per_run`: the one resolution of the layout, the same in ``plan``,
  ``generate`` and the launch scripts: ``--ranks-per-run`` > the config's ``ranks_per_run``
  > 1, with where the value came from;
- :func:`check_layout`: layouts that cannot work or would leave cores empty are refused;
- :func:`process_mesh`: the Dedalus process mesh of a run's group (1-D for 2-D grids, as
  square as the grid allows for 3-D ones: 4 ranks -> 2 × 2);
- :class:`CostModel`: the expected cost of each run (longest first), refined from the
  finished ones; also the remaining time of a sweep;
- :func:`check_free_space`: the remaining runs must fit (shards and packed files).
"""

from __future__ import annotations

import shutil

from wellforge.errors import ConfigError, DiskFull


def ranks_per_run(cli_value: int | None, config: dict) -> tuple[int, str]:
    """(ranks per run, where it came from)."""
    if cli_value is not None:
        if cli_value < 1:
            raise ConfigError(f"--ranks-per-run {cli_value}: must be >= 1")
        return int(cli_value), "--ranks-per-run"
    if config.get("ranks_per_run") is not None:
        return int(config["ranks_per_run"]), "the config's ranks_per_run"
    return 1, "default"


def check_layout(world_size: int, ranks_per_run: int, resolution: tuple[int, ...]) -> None:
    """Refuse process layouts that cannot work or leave cores empty."""
    R = ranks_per_run
    if R < 1 or world_size % R:
        raise ConfigError(f"--ranks-per-run {R} does not divide the {world_size} MPI ranks; "
                          f"use a divisor of {world_size}")
    if R > 1 and len(resolution) < 2:
        raise ConfigError(f"--ranks-per-run {R}: a 1-D system cannot be split over ranks "
                          "(Dedalus distributes at most dim - 1 axes); use --ranks-per-run 1")
    if R > 1:
        process_mesh(R, resolution)


def _factorisations(n: int, parts: int) -> list[tuple[int, ...]]:
    if parts == 1:
        return [(n,)]
    return [(d, *rest) for d in range(1, n + 1) if n % d == 0
            for rest in _factorisations(n // d, parts - 1)]


def _splits_evenly(mesh: tuple[int, ...], resolution: tuple[int, ...]) -> bool:
    """Dedalus distributes axis i over mesh[i] in coefficient space (a RealFourier axis
    holds N/2 cosine-sine pairs) and axis i + 1 over mesh[i] in grid space: every part
    must be equal, or cores sit idle."""
    return all((resolution[i] // 2) % p == 0 and resolution[i + 1] % p == 0
               for i, p in enumerate(mesh))


def process_mesh(ranks: int, resolution: tuple[int, ...]) -> tuple[int, ...] | None:
    """The process mesh of a group of ``ranks`` for a grid of ``resolution`` (None for one
    rank): ``dim - 1`` factors of ``ranks``, the most balanced one that splits the grid
    evenly (3-D, 4 ranks: (2, 2); 2 ranks: (2, 1); 2-D: (ranks,)). Refuses a grid that no
    mesh splits."""
    if ranks == 1:
        return None
    dims = len(resolution)
    # the most balanced first; among equals the larger factors first: the later axes stay
    # local in coefficient space, where the solver couples them (``solver.matrix_coupling``)
    meshes = sorted(_factorisations(ranks, dims - 1),
                    key=lambda m: (max(m), tuple(-p for p in m)))
    for mesh in meshes:
        if _splits_evenly(mesh, tuple(resolution)):
            return mesh
    names = "xyz" if dims <= 3 else [f"axis {i}" for i in range(dims)]
    need = "; ".join(f"{names[i]}/2 and {names[i + 1]} divisible by mesh factor {i + 1}"
                     for i in range(dims - 1))
    raise ConfigError(f"--ranks-per-run {ranks}: resolution {list(resolution)} does not split "
                      f"evenly over any process mesh of {ranks} ranks "
                      f"({dims - 1}-D: need {need}); cores would sit empty: choose another "
                      "--ranks-per-run or resolution")


class CostModel:
    """Expected cost of a run, longest first: grid points × simulated span, refined from
    finished runs (same parameter set: their mean wall time; otherwise the model scaled by
    the median measured/model ratio). Reads only the event logs of newly finished runs."""

    def __init__(self, plan, work):
        self.plan, self.work = plan, work
        self.measured: dict[str, float] = {}
        self.by_id = {r.run_id: r for r in plan.runs}

    def refresh(self, done: set[str] | None = None) -> None:
        done = self.work.done_ids() if done is None else done
        for rid in done:
            if rid in self.measured or rid not in self.by_id:
                continue
            walls = [e["wall_s"] for e in self.work.read_events(rid)
                     if e.get("event") == "finish" and "wall_s" in e]
            if walls:
                self.measured[rid] = float(walls[-1])

    @property
    def calibrated(self) -> bool:
        """Whether estimates are in seconds (some run has finished)."""
        return bool(self.measured)

    def estimate(self, run) -> float:
        same = [w for rid, w in self.measured.items()
                if self.by_id[rid].file_key == run.file_key]
        if same:
            return sum(same) / len(same)
        if self.measured:
            ratios = sorted(w / self.by_id[rid].cost for rid, w in self.measured.items())
            return run.cost * ratios[len(ratios) // 2]
        return run.cost

    def order(self, runs: list) -> list:
        self.refresh()
        return sorted(runs, key=lambda r: (-self.estimate(r), r.index))

    def remaining_s(self, runs: list, groups: int) -> float | None:
        """Wall seconds left for ``runs`` on ``groups`` groups (None until calibrated):
        the longest-first queue keeps every group busy, so the total over the groups,
        but never less than the longest single run."""
        if not self.calibrated or not runs:
            return None if runs else 0.0
        est = [self.estimate(r) for r in runs]
        return max(sum(est) / max(groups, 1), max(est))


def check_free_space(plan, work, mine: list) -> None:
    """Refuse to start when the remaining runs cannot fit: each needs its shard and then
    its share of the packed files (2 × its data, until ``wellforge clean``)."""
    from .planning import disk_bytes

    todo = sum(1 for r in mine if not work.is_done(r.run_id))
    need = 2 * disk_bytes(plan, todo)
    free = shutil.disk_usage(work.root).free
    if need > free:
        raise DiskFull(f"{work.root}: the {todo} remaining runs need about "
                       f"{need / 2**20:.1f} MiB (shards + packed files), {free / 2**20:.1f} MiB "
                       "are free: free space or choose another --out")
