"""Generate a dataset: plan -> runs (MPI groups, dynamic queue) -> shards -> pack -> finalize.

One ``mpirun -n P`` is split into P/R groups of R ranks (``COMM_WORLD.Split``); each group
simulates one run at a time on its own Dedalus distributor. Work is handed out without a
master: group leaders take runs, longest expected first (``schedule.CostModel``), by
claiming a lease (``leases``), which also keeps separate invocations on one output (job
array tasks, a duplicated job, a requeue) from running a run twice. Each run writes its own
shard (atomically, by its group leader only), so no two processes ever open one HDF5 file
for writing. The state of every run lives in the work directory (``workdir``).

Rerunning the same command skips done and failed runs, redoes interrupted ones (after
their owner is gone) and ends with the same dataset.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field

from wellforge.schema.dataset import finalize
from wellforge.schema.spec import SPLITS

from wellforge.errors import ConfigError, DiskFull

from .checkpoint import Checkpoint
from .config import SweepPlan
from .identity import code_identity
from .leases import Leases, file_lock
from .pack import pack, pack_one
from .planning import disk_bytes
from .run import RunResult, RunSpec
from .runner import run_trajectory
from .schedule import CostModel, check_free_space, check_layout, process_mesh
from .solver import SolverCache
from .workdir import WorkDir, write_json_atomic

logger = logging.getLogger("wellforge.generate")


@dataclass
class Summary:
    dataset: str
    done: list[str] = field(default_factory=list)  # done since this invocation began
    ran: list[str] = field(default_factory=list)  # of those, the runs this invocation made
    failed: dict[str, str] = field(default_factory=dict)  # run id -> reason
    skipped: list[str] = field(default_factory=list)  # done before this invocation
    pending: list[str] = field(default_factory=list)  # not done (other tasks, or running)
    running: list[str] = field(default_factory=list)  # of pending: live claims elsewhere
    files: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)  # splits the plan gives trajectories
    empty: list[str] = field(default_factory=list)  # of those, splits no finished run fills

    @property
    def ok(self) -> bool:
        return not self.failed


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    s = float(s)
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h"


class SweepProgress:
    """One line per finished run: k/N done, failures, elapsed, ETA from the cost model."""

    def __init__(self, plan: SweepPlan, work: WorkDir, costs: CostModel, groups: int,
                 mine: list[RunSpec]):
        self.plan, self.work, self.costs, self.groups = plan, work, costs, groups
        self.mine = {r.run_id for r in mine}  # this job's share (its --slice): the ETA's
        self.n = len(plan.runs)
        self.t0 = time.perf_counter()

    def counts(self) -> tuple[int, int, list[RunSpec]]:
        done = self.work.done_ids()
        left, n_done, n_failed = [], 0, 0
        for r in self.plan.runs:
            if r.run_id in done:
                n_done += 1
            elif self.work.is_failed(r.run_id):
                n_failed += 1
            else:
                left.append(r)
        return n_done, n_failed, left

    def prefix(self, width: int = 12) -> str:
        """The sweep's bar for a terminal line: ``[####........] 4/12``."""
        n_done, _, _ = self.counts()
        full = round(width * n_done / max(self.n, 1))
        return f"[{'#' * full}{'.' * (width - full)}] {n_done}/{self.n}"

    def finished(self, spec: RunSpec, result: RunResult, group_id: int) -> None:
        n_done, n_failed, left = self.counts()
        self.costs.refresh()
        eta = self.costs.remaining_s([r for r in left if r.run_id in self.mine], self.groups)
        what = "done" if result.status == "done" else f"FAILED ({result.reason})"
        case = " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in {**spec.params, **spec.ic}.items())
        logger.info("run %d/%d %s: %s (%s) in %s, group %d; %d failed; elapsed %s, ETA %s",
                    n_done, self.n, what, spec.run_id, case, _fmt_s(result.wall_s), group_id,
                    n_failed, _fmt_s(time.perf_counter() - self.t0), _fmt_s(eta))


def generate(plan: SweepPlan, out_dir: str, *, comm=None, ranks_per_run: int = 1,
             progress: bool = True, retry_failed: bool = False, finalize_dataset: bool = True,
             slice_: tuple[int, int] = (0, 1), checkpoint_every: int = 0,
             rerun_changed: bool = False) -> Summary | None:
    """Run every planned trajectory that is not done, then pack and finalize (world rank 0
    returns the summary; other ranks return None).

    ``slice_ = (i, n)`` takes only runs with ``index % n == i`` (one task of a job array);
    packing then waits until every run of the plan is done (``wellforge pack``).
    ``checkpoint_every = K > 0`` checkpoints each run every K stored frames.
    ``rerun_changed``: redo every run when the system's code changed since the finished
    runs were made (otherwise refused)."""
    from mpi4py import MPI

    world = comm if comm is not None else MPI.COMM_WORLD
    check_layout(world.size, ranks_per_run, plan.runs[0].resolution)
    work = WorkDir(out_dir, plan.dataset_name)
    identity = code_identity(plan.system)
    error, token = None, None
    mine = [r for r in plan.runs if r.index % slice_[1] == slice_[0]]
    if world.rank == 0:
        token = uuid.uuid4().hex[:12]
        try:
            work.prepare(plan, token, identity, rerun_changed=rerun_changed,
                         live_claims=lambda: Leases(work.claims).all_live())
            check_free_space(plan, work, mine)
        except (ConfigError, DiskFull) as e:
            error = (type(e), str(e))
    error, token = world.bcast((error, token), root=0)
    if error:
        raise error[0](error[1])

    before = work.done_ids()
    group_id = world.rank // ranks_per_run
    group = world.Split(color=group_id, key=world.rank)
    leader = group.rank == 0
    if not leader:
        logging.getLogger("wellforge").setLevel(logging.WARNING)
    costs = CostModel(plan, work)
    sweep = SweepProgress(plan, work, costs, world.size // ranks_per_run, mine)
    leases = Leases(work.claims, token=token, group=group_id) if leader else None
    if leases is not None:
        leases.start_heartbeat()
    disk, ran, cell = None, [], None
    solvers = SolverCache()  # the group's last solver: the next run of its cell reuses it
    try:
        while True:
            nxt = _next_run(work, costs, leases, mine, retry_failed, cell) if leader else -1
            nxt = group.bcast(nxt, root=0)
            if nxt < 0:
                break
            spec = plan.runs[nxt]
            cell = spec.file_key
            result, disk = _run_one(plan, work, spec, group, group_id, world, leader,
                                    progress, checkpoint_every, identity, sweep, solvers)
            disk = next((d for d in group.allgather(disk) if d), None)
            if disk:
                break  # the shard was dropped; finished shards are untouched
            if leader:
                ran.append(spec.run_id)
                _record(work, spec, result, group_id)
                leases.release(spec.run_id)
                sweep.finished(spec, result, group_id)
                pack_when_complete(plan, work, spec)  # overlaps the other groups' runs
    finally:
        if leases is not None:
            leases.stop()
    group.Free()
    disk = next((d for d in world.allgather(disk) if d), None)
    if disk:
        raise DiskFull(disk)
    ran = [rid for part in world.gather(ran, root=0) or [] for rid in part]
    if world.rank != 0:
        return None
    summary = collect(plan, work, before, finalize_dataset=finalize_dataset)
    summary.ran = [rid for rid in summary.done if rid in set(ran)]
    return summary


def _next_run(work: WorkDir, costs: CostModel, leases: Leases, mine: list[RunSpec],
              retry_failed: bool, cell: str | None = None) -> int:
    """Index of the next run this group takes (claimed), or -1 when none is left: a run of
    the ``cell`` (parameter set) it just ran if one is left (its solver is kept), else the
    longest expected."""
    done = work.done_ids()
    order = costs.order(mine)
    order = [r for r in order if r.file_key == cell] + [r for r in order if r.file_key != cell]
    for r in order:
        if r.run_id in done or (work.is_failed(r.run_id) and not retry_failed):
            continue
        if not leases.acquire(r.run_id):
            continue  # another group or job runs it
        # it may have finished between the listing and the claim (its owner records the
        # result before it gives the claim back): look again now that it is ours
        if work.is_done(r.run_id) or (work.is_failed(r.run_id) and not retry_failed):
            leases.release(r.run_id)
            continue
        partial = work.shard(r.run_id) + ".partial"
        if os.path.exists(partial):
            os.remove(partial)  # left by an owner that is gone: the run is redone
        return r.index
    return -1


def _run_one(plan: SweepPlan, work: WorkDir, spec: RunSpec, group, group_id: int, world,
             leader: bool, progress: bool, checkpoint_every: int, identity: dict,
             sweep: SweepProgress, solvers: SolverCache):
    if leader:
        logger.debug("[group %d] run %s: %s %s", group_id, spec.run_id, spec.params, spec.ic)
        work.log_event(spec.run_id, event="start", group=group_id, ranks=group.size,
                       host=socket.gethostname(), world_rank=world.rank, pid=os.getpid())
    ckpt = (Checkpoint(work.checkpoints, spec.run_id, checkpoint_every)
            if checkpoint_every > 0 else None)
    label = f"{sweep.prefix()} {plan.system.name} {spec.run_id}" if leader else ""
    try:
        result = run_trajectory(
            plan.system, spec, work.shard(spec.run_id), comm=group,
            mesh=process_mesh(group.size, spec.resolution), progress=progress,
            checkpoint=ckpt, label=label, solvers=solvers,
            provenance={"config": plan.config, "group": group_id, "code": identity})
        return result, None
    except DiskFull as e:  # raised on the leader only when the shard is closed
        return None, str(e)


def _record(work: WorkDir, spec: RunSpec, result: RunResult, group_id: int) -> None:
    fields = {k: v for k, v in asdict(result).items() if k not in ("run_id", "path")}
    if result.status == "failed":
        write_json_atomic(work.failed(spec.run_id), {"run": asdict(spec), **fields})
        logger.warning("[group %d] run %s FAILED: %s at t = %s", group_id, spec.run_id,
                       result.reason, result.fail_time)
    elif work.is_failed(spec.run_id):
        os.remove(work.failed(spec.run_id))
    work.log_event(spec.run_id, event="finish" if result.status == "done" else "failed",
                   group=group_id, **fields)


def plan_splits(plan: SweepPlan) -> list[str]:
    """The splits the plan gives trajectories, in the Well's order."""
    used = {r.split for r in plan.runs}
    return [s for s in SPLITS if s in used]


def pack_when_complete(plan: SweepPlan, work: WorkDir, spec: RunSpec) -> str | None:
    """Pack ``spec``'s data file into the work directory (``work.staged``) as soon as every
    run of it is done, while other groups still run; :func:`collect` moves it into the
    dataset instead of packing it then (a pack is a pure function of the finished runs, so
    packing early changes nothing but when, and the dataset directory still changes only
    once the whole plan is done). Returns the staged path, or None when a run of the file
    is not done yet (or failed, or made by other code: ``collect`` reports it)."""
    members = [r for r in plan.runs if (r.split, r.file_key) == (spec.split, spec.file_key)]
    done = work.done_ids()
    if any(r.run_id not in done for r in members):
        return None
    out = os.path.join(work.staged, spec.split, f"{spec.file_key}.hdf5")
    shards = [(r.run_id, work.shard(r.run_id)) for r in members]
    # never take the room the runs still to come need (their shards, then their packs)
    todo = sum(1 for r in plan.runs if r.run_id not in done)
    need = sum(os.path.getsize(p) for _, p in shards) + 2 * disk_bytes(plan, todo)
    if shutil.disk_usage(work.root).free < need + (64 << 20):
        return None  # packed at the end instead, when the runs' room is free again
    with file_lock(os.path.join(work.root, "pack.lock")):
        try:
            return pack_one(shards, out)
        except (ConfigError, DiskFull):
            return None  # collect packs it, or says why it cannot


def collect(plan: SweepPlan, work: WorkDir, before: set[str], finalize_dataset: bool = True
            ) -> Summary:
    """Pack finished shards into the dataset and write its stats, metadata and card.

    Nothing is packed while a run of the plan is neither done nor failed (other tasks of a
    job array, or runs still going), or while a split the plan fills would be empty.
    Files packed ahead (:func:`pack_when_complete`) are moved in. Packs take turns under
    a lock; each is a pure function of the finished runs."""
    summary = Summary(dataset=work.dataset, splits=plan_splits(plan))
    with file_lock(os.path.join(work.root, "pack.lock")):
        done = work.done_ids()
        groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for r in plan.runs:
            if r.run_id in done:
                (summary.skipped if r.run_id in before else summary.done).append(r.run_id)
                groups.setdefault((r.split, r.file_key), []).append(
                    (r.run_id, work.shard(r.run_id)))
            elif work.is_failed(r.run_id):
                rec = work.failure(r.run_id)
                summary.failed[r.run_id] = f"{rec.get('reason')} at t = {rec.get('fail_time')}"
            else:
                summary.pending.append(r.run_id)
        if summary.pending:
            live = Leases(work.claims).all_live()
            summary.running = [rid for rid in summary.pending if rid in live]
        summary.empty = [s for s in summary.splits if s not in {k for k, _ in groups}]
        if summary.pending or summary.empty:
            return summary  # nothing consistent to pack yet; the caller reports why
        summary.files = pack(groups, work.dataset, staged=work.staged)
        if finalize_dataset:
            finalize(work.dataset, plan.system.card)
    return summary
