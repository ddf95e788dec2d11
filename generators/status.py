"""Where a sweep stands, read from its work directory alone: ``wellforge status``.

Done runs have a shard, failed ones a failure record, running ones a live lease
(``leases``); the rest are pending. Core-hours come from the runs' event logs (spent) and
the cost model (remaining). Nothing is locked or written, so any node may ask while the
sweep runs. ``clean`` removes a work directory once its dataset is packed and validates.
"""

from __future__ import annotations

import os
import shutil
import time

from wellforge.errors import ConfigError

from .leases import Leases, lease_seconds
from .pack import packed_run_ids
from .schedule import CostModel
from .workdir import WorkDir


def _ranks(work: WorkDir, run_id: str, default: int) -> int:
    starts = [e for e in work.read_events(run_id) if e.get("event") == "start"]
    return int(starts[-1].get("ranks", default)) if starts else default


def pack_state(work: WorkDir, plan, done: set[str]) -> dict:
    """Whether the dataset holds exactly the pack of the finished runs."""
    groups: dict[tuple[str, str], list[str]] = {}
    for r in plan.runs:
        if r.run_id in done:
            groups.setdefault((r.split, r.file_key), []).append(r.run_id)
    missing, stale = [], []
    for (split, key), ids in sorted(groups.items()):
        p = os.path.join(work.dataset, "data", split, f"{key}.hdf5")
        if not os.path.exists(p):
            missing.append(os.path.relpath(p, work.dataset))
        elif packed_run_ids(p) != ids:
            stale.append(os.path.relpath(p, work.dataset))
    return {"files": len(groups), "missing": missing, "stale": stale,
            "up_to_date": bool(groups) and not missing and not stale}


def sweep_status(work: WorkDir, plan) -> dict:
    done = work.done_ids()
    live = Leases(work.claims).all_live()
    rpr = int(plan.config.get("ranks_per_run") or 1)
    out = {"dataset": work.dataset, "system": plan.system.name, "runs": len(plan.runs),
           "done": 0, "running": [], "failed": [], "pending": 0}
    spent_s, left = 0.0, []
    for r in plan.runs:
        for e in work.read_events(r.run_id):
            if e.get("event") in ("finish", "failed"):
                spent_s += float(e.get("core_s") or 0.0)
        if r.run_id in done:
            out["done"] += 1
        elif work.is_failed(r.run_id):
            rec = work.failure(r.run_id)
            out["failed"].append({"run_id": r.run_id, "reason": rec.get("reason"),
                                  "time": rec.get("fail_time")})
        else:
            left.append(r)
            owner = live.get(r.run_id)
            if owner is not None:
                out["running"].append({"run_id": r.run_id, "host": owner.get("host"),
                                       "pid": owner.get("pid"), "group": owner.get("group"),
                                       "for_s": round(time.time() - owner.get("since",
                                                                              time.time()), 1)})
            else:
                out["pending"] += 1
    costs = CostModel(plan, work)
    costs.refresh(done)
    if costs.calibrated:
        remaining = sum(costs.estimate(r) * _ranks(work, r.run_id, rpr) for r in left)
        out["core_hours_remaining"] = remaining / 3600
    else:
        out["core_hours_remaining"] = None
    out["core_hours_spent"] = spent_s / 3600
    out["lease_s"] = lease_seconds()
    out["pack"] = pack_state(work, plan, done)
    return out


def render(st: dict) -> str:
    n = st["runs"]
    lines = [f"dataset: {st['dataset']} ({st['system']}, {n} runs)",
             f"done {st['done']}/{n}, running {len(st['running'])}, failed "
             f"{len(st['failed'])}, pending {st['pending']}"]
    rem = st["core_hours_remaining"]
    lines.append(f"core-hours: {st['core_hours_spent']:.3g} spent, "
                 + (f"about {rem:.3g} remaining (cost model)" if rem is not None
                    else "remaining unknown until a run finishes"))
    for r in st["running"]:
        lines.append(f"  running {r['run_id']} on {r['host']} (pid {r['pid']}, group "
                     f"{r['group']}) for {r['for_s']:.0f} s")
    for r in st["failed"]:
        lines.append(f"  FAILED {r['run_id']}: {r['reason']} at t = {r['time']}")
    pk = st["pack"]
    if pk["up_to_date"] and st["done"] == n:
        lines.append(f"packed: {pk['files']} data files, up to date")
    elif st["done"] + len(st["failed"]) == n:
        lines.append("not packed yet: run 'wellforge pack " + st["dataset"] + "'")
    return "\n".join(lines)


def _tree_bytes(root: str) -> int:
    total = 0
    for d, _, names in os.walk(root):
        for n in names:
            try:
                total += os.lstat(os.path.join(d, n)).st_size
            except OSError:
                pass
    return total


def clean(work: WorkDir, plan, validate) -> int:
    """Remove the work directory once every run is done, the dataset is their pack and
    ``validate(dataset_dir)`` returns (0, ...); otherwise refuse (ConfigError) and remove
    nothing. Returns the bytes freed."""
    st = sweep_status(work, plan)
    if st["running"]:
        raise ConfigError(f"{work.dataset}: {len(st['running'])} runs are running; clean "
                          "once the sweep has ended")
    if st["failed"]:
        raise ConfigError(f"{work.dataset}: {len(st['failed'])} runs failed; their records "
                          "are in the work directory: rerun with --retry-failed first")
    if st["done"] < st["runs"]:
        raise ConfigError(f"{work.dataset}: {st['runs'] - st['done']} of {st['runs']} runs "
                          "are not done; finish the sweep first")
    if not st["pack"]["up_to_date"]:
        raise ConfigError(f"{work.dataset}: not packed (or packed from other runs); run "
                          f"'wellforge pack {work.dataset}' first")
    code, why = validate(work.dataset)
    if code != 0:
        raise ConfigError(f"{work.dataset}: 'wellforge validate' exits {code} ({why}); the "
                          "work directory is kept: fix the dataset first")
    freed = _tree_bytes(work.root)
    shutil.rmtree(work.root)
    return freed
