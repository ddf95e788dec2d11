"""Generate a dataset: plan -> runs (MPI groups, dynamic queue) -> shards -> pack -> finalize.

One ``mpirun -n P`` is split into P/R groups of R ranks (``COMM_WORLD.Split``); each group
simulates one run at a time on its own Dedalus distributor. Work is handed out without a
master: group leaders claim runs, longest expected first, by creating a claim file with
``O_CREAT|O_EXCL`` (atomic on local and shared filesystems). Each run writes its own shard
(atomically, by its group leader only), so no two processes ever open one HDF5 file for
writing. State lives in the work directory ``OUT/.wellforge-<name>/``:

- ``manifest.json``: resolved config, its fingerprint and every run (id, seed, split);
- ``shards/<run_id>.hdf5``: finished runs (present = done; ``*.partial`` = interrupted);
- ``failed/<run_id>.json``: runs that failed, with the reason;
- ``events/<run_id>.jsonl``: start / finish / failure events with timing.

Rerunning the same command skips done and failed runs, redoes interrupted ones and ends
with the same dataset.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field

from wellforge.errors import ConfigError, DiskFull
from wellforge.schema.dataset import finalize
from wellforge.schema.writer import atomic_rename

from .checkpoint import Checkpoint
from .config import Plan
from .pack import pack
from .runner import RunResult, RunSpec, run_trajectory

logger = logging.getLogger("wellforge.generate")


@dataclass
class Summary:
    dataset: str
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # run id -> reason
    skipped: list[str] = field(default_factory=list)  # done before this invocation
    pending: list[str] = field(default_factory=list)  # not run yet (other --slice tasks)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def write_json_atomic(path: str, obj) -> None:
    tmp = f"{path}.{os.getpid()}.partial"  # unique: several jobs may share a work directory
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    atomic_rename(tmp, path)


class WorkDir:
    """Paths and state of a generation's work directory."""

    def __init__(self, out_dir: str, name: str):
        self.root = os.path.join(out_dir, f".wellforge-{name}")
        self.dataset = os.path.join(out_dir, name)
        self.manifest = os.path.join(self.root, "manifest.json")

    def path(self, kind: str, run_id: str, ext: str) -> str:
        return os.path.join(self.root, kind, f"{run_id}.{ext}")

    def shard(self, run_id: str) -> str:
        return self.path("shards", run_id, "hdf5")

    def failed(self, run_id: str) -> str:
        return self.path("failed", run_id, "json")

    def events(self, run_id: str) -> str:
        return self.path("events", run_id, "jsonl")

    def is_done(self, run_id: str) -> bool:
        return os.path.exists(self.shard(run_id))

    def prepare(self, plan: Plan, token: str, mine: list[RunSpec]) -> None:
        """Create or reuse the work directory (rank 0 only); ``mine``: the runs this job
        may take (all, or its ``--slice``), whose interrupted shards are discarded."""
        fp = plan.fingerprint()
        if os.path.exists(self.manifest):
            with open(self.manifest) as fh:
                old = json.load(fh)
            if old.get("fingerprint") != fp:
                raise ConfigError(
                    f"{self.root} holds the runs of a different config (fingerprint "
                    f"{old.get('fingerprint', '?')[:12]} vs {fp[:12]}); use another --out or "
                    "remove that directory")
        elif os.path.isdir(self.dataset) and os.listdir(self.dataset):
            raise ConfigError(f"{self.dataset} exists and was not made by this config; use "
                              "another --out or remove it")
        for sub in ("shards", "failed", "events", "claims"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        for r in mine:
            stale = self.shard(r.run_id) + ".partial"
            if os.path.exists(stale):
                os.remove(stale)  # an interrupted run: redone
        write_json_atomic(self.manifest, {
            "fingerprint": fp, "config": plan.config, "job": token,
            "runs": [{k: v for k, v in asdict(r).items() if k not in ("options",)}
                     for r in plan.runs]})

    def claim(self, run_id: str, token: str) -> bool:
        try:
            fd = os.open(os.path.join(self.root, "claims", f"{run_id}.{token}"),
                         os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def log_event(self, run_id: str, **event) -> None:
        event = {"time": time.time(), "run_id": run_id, **event}
        with open(self.events(run_id), "a") as fh:
            fh.write(json.dumps(event, default=str) + "\n")


class CostModel:
    """Expected cost of a run, longest first: grid points × simulated span, refined from
    finished runs (same parameter set: their mean wall time; otherwise the model scaled by
    the median measured/model ratio). Reads only the event logs of newly finished runs."""

    def __init__(self, plan: Plan, work: WorkDir):
        self.plan, self.work = plan, work
        self.measured: dict[str, float] = {}

    def refresh(self) -> None:
        for r in self.plan.runs:
            if r.run_id in self.measured or not self.work.is_done(r.run_id):
                continue
            try:
                with open(self.work.events(r.run_id)) as fh:
                    ev = [json.loads(line) for line in fh if line.strip()]
            except (OSError, ValueError):
                continue
            walls = [e["wall_s"] for e in ev if e.get("event") == "finish"]
            if walls:
                self.measured[r.run_id] = float(walls[-1])

    def estimate(self, run: RunSpec) -> float:
        by_id = {r.run_id: r for r in self.plan.runs}
        same = [w for rid, w in self.measured.items() if by_id[rid].file_key == run.file_key]
        if same:
            return sum(same) / len(same)
        if self.measured:
            ratios = sorted(w / by_id[rid].cost for rid, w in self.measured.items())
            return run.cost * ratios[len(ratios) // 2]
        return run.cost

    def order(self, runs: list[RunSpec]) -> list[RunSpec]:
        self.refresh()
        return sorted(runs, key=lambda r: (-self.estimate(r), r.index))


def check_free_space(plan: Plan, work: WorkDir, mine: list[RunSpec]) -> None:
    """Refuse to start when the remaining runs cannot fit: each needs its shard and then
    its share of the packed files (2 × its data)."""
    import shutil

    from .planning import disk_bytes

    todo = sum(1 for r in mine if not work.is_done(r.run_id))
    need = 2 * disk_bytes(plan, todo)
    free = shutil.disk_usage(work.root).free
    if need > free:
        raise DiskFull(f"{work.root}: the {todo} remaining runs need about "
                       f"{need / 2**20:.1f} MiB (shards + packed files), {free / 2**20:.1f} MiB "
                       "are free: free space or choose another --out")


def check_layout(world_size: int, ranks_per_run: int, resolution: tuple[int, ...]) -> None:
    """Refuse process layouts that cannot work or leave cores empty."""
    R = ranks_per_run
    if R < 1 or world_size % R:
        raise ConfigError(f"--ranks-per-run {R} does not divide the {world_size} MPI ranks; "
                          f"use a divisor of {world_size}")
    if R > 1 and len(resolution) < 2:
        raise ConfigError(f"--ranks-per-run {R}: a 1-D system cannot be split over ranks "
                          "(Dedalus distributes at most dim - 1 axes); use --ranks-per-run 1")
    if R > 1 and ((resolution[0] // 2) % R or resolution[-1] % R):
        raise ConfigError(f"--ranks-per-run {R}: resolution {list(resolution)} does not split "
                          f"evenly over {R} ranks (need x/2 and y divisible by {R}); cores "
                          "would sit empty")


def generate(plan: Plan, out_dir: str, *, comm=None, ranks_per_run: int = 1,
             progress: bool = True, retry_failed: bool = False, finalize_dataset: bool = True,
             slice_: tuple[int, int] = (0, 1), checkpoint_every: int = 0) -> Summary | None:
    """Run every planned trajectory that is not done, then pack and finalize (world rank 0
    returns the summary; other ranks return None).

    ``slice_ = (i, n)`` takes only runs with ``index % n == i`` (one task of a job array);
    packing then waits until every run of the plan is done (``wellforge pack``).
    ``checkpoint_every = K > 0`` checkpoints each run every K stored frames."""
    from mpi4py import MPI

    world = comm if comm is not None else MPI.COMM_WORLD
    check_layout(world.size, ranks_per_run, plan.runs[0].resolution)
    work = WorkDir(out_dir, plan.dataset_name)
    error, token = None, None
    mine = [r for r in plan.runs if r.index % slice_[1] == slice_[0]]
    if world.rank == 0:
        token = uuid.uuid4().hex[:12]
        try:
            work.prepare(plan, token, mine)
            check_free_space(plan, work, mine)
        except (ConfigError, DiskFull) as e:
            error = (type(e), str(e))
    error, token = world.bcast((error, token), root=0)
    if error:
        raise error[0](error[1])

    before = {r.run_id for r in plan.runs if work.is_done(r.run_id)}
    group_id = world.rank // ranks_per_run
    group = world.Split(color=group_id, key=world.rank)
    leader = group.rank == 0
    if not leader:
        logging.getLogger("wellforge").setLevel(logging.WARNING)
    costs = CostModel(plan, work)
    disk = None
    while True:
        nxt = -1
        if leader:
            for r in costs.order(mine):
                if work.is_done(r.run_id):
                    continue
                if os.path.exists(work.failed(r.run_id)) and not retry_failed:
                    continue
                if work.claim(r.run_id, token):
                    nxt = r.index
                    break
        nxt = group.bcast(nxt, root=0)
        if nxt < 0:
            break
        spec = plan.runs[nxt]
        if leader:
            logger.info("[group %d] run %s: %s %s", group_id, spec.run_id, spec.params, spec.ic)
            work.log_event(spec.run_id, event="start", group=group_id, ranks=group.size,
                           host=socket.gethostname(), world_rank=world.rank)
        ckpt = (Checkpoint(os.path.join(work.root, "checkpoints"), spec.run_id,
                           checkpoint_every) if checkpoint_every > 0 else None)
        try:
            result, disk = run_trajectory(
                plan.system, spec, work.shard(spec.run_id), comm=group, progress=progress,
                checkpoint=ckpt, provenance={"config": plan.config, "group": group_id}), None
        except DiskFull as e:  # raised on the leader only when the shard is closed
            result, disk = None, str(e)
        disk = next((d for d in group.allgather(disk) if d), None)
        if disk:
            break  # the shard was dropped; finished shards are untouched
        if leader:
            _record(work, spec, result, group_id)
    group.Free()
    disk = next((d for d in world.allgather(disk) if d), None)
    if disk:
        raise DiskFull(disk)
    if world.rank != 0:
        return None
    return collect(plan, work, before, finalize_dataset=finalize_dataset)


def _record(work: WorkDir, spec: RunSpec, result: RunResult, group_id: int) -> None:
    fields = {k: v for k, v in asdict(result).items() if k not in ("run_id", "path")}
    if result.status == "failed":
        write_json_atomic(work.failed(spec.run_id), {"run": asdict(spec), **fields})
        logger.warning("[group %d] run %s FAILED: %s at t = %s", group_id, spec.run_id,
                       result.reason, result.fail_time)
    elif os.path.exists(work.failed(spec.run_id)):
        os.remove(work.failed(spec.run_id))
    work.log_event(spec.run_id, event="finish" if result.status == "done" else "failed",
                   group=group_id, **fields)


def collect(plan: Plan, work: WorkDir, before: set[str], finalize_dataset: bool = True
            ) -> Summary:
    """Pack finished shards into the dataset and write its stats, metadata and card."""
    summary = Summary(dataset=work.dataset)
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for r in plan.runs:
        if work.is_done(r.run_id):
            (summary.skipped if r.run_id in before else summary.done).append(r.run_id)
            groups.setdefault((r.split, r.file_key), []).append((r.run_id, work.shard(r.run_id)))
        elif os.path.exists(work.failed(r.run_id)):
            with open(work.failed(r.run_id)) as fh:
                rec = json.load(fh)
            summary.failed[r.run_id] = f"{rec.get('reason')} at t = {rec.get('fail_time')}"
        else:
            summary.pending.append(r.run_id)
    splits = {s for s, _ in groups}
    if summary.pending or {"train", "valid", "test"} - splits:
        return summary  # nothing consistent to pack yet; the caller reports why
    summary.files = pack(groups, work.dataset)
    if finalize_dataset:
        finalize(work.dataset, plan.system.card)
    return summary
