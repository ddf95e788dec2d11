"""Pack one-trajectory shards into the Well's per-parameter files and splits.

Shards of the same parameter set and split become one file
``<name>/data/<split>/<file_key>.hdf5`` whose trajectories are in run-index order. Data
are streamed frame by frame; the provenance keeps one entry per trajectory (run id,
seed, IC, wall and core seconds).

Packing is a pure function of the finished runs: the file names come from the plan (one
canonical parameter order, the card's), a packed file whose recorded run ids match is
kept, anything else is rewritten atomically (``.partial``, then a rename over the old
file), and data files of an older pack that no longer belong are removed. Concurrent
packs of one dataset (the last task of a job array and a pack job, say) take turns under
a lock, so they cannot interleave.
"""

from __future__ import annotations

import glob
import logging
import os

import h5py
import numpy as np
from wellforge.schema.reader import attr_list, attr_str, bc_values, read_info, read_provenance
from wellforge.schema.writer import WellWriter

from wellforge.errors import ConfigError, SchemaError

logger = logging.getLogger("wellforge.pack")
PER_TRAJECTORY = ("run_ids", "seeds", "ic", "wall_s", "core_s", "solver_reused", "build_s",
                  "stationary",
                  "stationary_time", "replaced", "flow_state", "flow_diagnostics")


def packed_run_ids(path: str) -> list[str] | None:
    try:
        with h5py.File(path, "r") as f:
            return list(read_provenance(f).get("run_ids", []))
    except (OSError, KeyError):
        return None


def combine_dt_stats(stats: list[dict]) -> dict:
    """The step statistics of a file from those of its trajectories: extremes, the
    step-weighted mean, and the sums of steps and factorisations (a trajectory that
    reused its cell's solver counts only the factorisations it added)."""
    steps = sum(int(s["steps"]) for s in stats)
    lo, hi = min(s["min"] for s in stats), max(s["max"] for s in stats)
    mean = sum(s["mean"] * s["steps"] for s in stats) / max(steps, 1)
    out = {"min": lo, "max": hi, "mean": min(max(mean, lo), hi), "steps": steps}
    for k in ("factorisations", "factorisations_reused"):
        if all(k in s for s in stats):
            out[k] = sum(int(s[k]) for s in stats)
    return out


def file_time(infos) -> np.ndarray:
    """The packed file's ``dimensions/time``: the shards' common times (T,), or, where
    trajectories start at different times, one row per trajectory (n_traj, T)."""
    times = [np.asarray(i.time, dtype=np.float64).ravel() for i in infos]
    if all(t.shape == times[0].shape and np.array_equal(t, times[0]) for t in times):
        return times[0]
    if len({t.size for t in times}) > 1:
        raise SchemaError("pack: the runs of one file store different numbers of frames "
                          f"({sorted({t.size for t in times})}); give them one n_frames")
    return np.stack(times)


def pack_file(shards: list[str], out_path: str) -> str:
    """Concatenate one-trajectory shard files (same grid, parameters, fields) into one file."""
    infos = [read_info(p) for p in shards]
    i0 = infos[0]
    with h5py.File(shards[0], "r") as f0:
        prov0 = read_provenance(f0)
        units = {d: attr_str(f0["dimensions"][d].attrs["units"]) for d in i0.spatial_dims}
        time_units = attr_str(f0["dimensions/time"].attrs["units"])
        params = attr_list(f0.attrs.get("simulation_parameters"))
        scalar_units = {n: attr_str(f0["scalars"][n].attrs["units"]) for n in params}
        series = {n: attr_str(d.attrs["units"]) for n, d in f0["scalars"].items()
                  if bool(d.attrs.get("time_varying", False))}  # diagnostics per frame
        bcs = []
        for name, g in f0["boundary_conditions"].items():
            bcs.append((attr_list(g.attrs["associated_dims"])[0], attr_str(g.attrs["bc_type"]),
                        name.split("_", 2)[2] if name.count("_") >= 2 else None,
                        tuple(attr_list(g.attrs.get("associated_fields"))), bc_values(g)))
        root_extra = {k: f0.attrs[k] for k in ("wellforge_system", "wellforge_card")
                      if k in f0.attrs}
    per_traj = {k: [] for k in PER_TRAJECTORY}
    dt_stats = []
    for p in shards:
        with h5py.File(p, "r") as f:
            pv = read_provenance(f)
            for k in PER_TRAJECTORY:
                per_traj[k] += list(pv.get(k, []))
            if "dt_stats" in pv:
                dt_stats.append(pv["dt_stats"])
    with WellWriter(out_path, i0.dataset_name, len(shards), file_time(infos),
                    time_units=time_units, grid_type=i0.grid_type) as w:
        for d in i0.spatial_dims:
            w.add_dimension(d, i0.coords[d], units=units[d])
        for n in params:
            w.add_parameter(n, float(i0.scalars[n]), units=scalar_units[n])
        for fi in i0.fields:
            w.add_field(fi.name, order=fi.order, units=fi.units or "1")
        for n, u in series.items():
            w.add_series(n, units=u)
        for dim, bc_type, variant, fields, values in bcs:
            w.add_boundary_condition(dim, bc_type, variant=variant, fields=fields, values=values)
        w.set_root_attrs(**root_extra)
        w.set_provenance({**{k: v for k, v in prov0.items() if k not in PER_TRAJECTORY},
                          **{k: v for k, v in per_traj.items() if v},
                          **({"dt_stats": combine_dt_stats(dt_stats)} if dt_stats else {}),
                          "packed_from": len(shards)})
        for i, p in enumerate(shards):
            with h5py.File(p, "r") as f:
                for k in range(i0.n_steps):
                    w.write_frame(i, k, {**{fi.name: f[fi.path][0, k] for fi in i0.fields},
                                         **{n: f["scalars"][n][0, k] for n in series}})
    return out_path


def pack(groups: dict[tuple[str, str], list[tuple[str, str]]], dataset_root: str,
         staged: str | None = None) -> list[str]:
    """Pack ``{(split, file_key): [(run_id, shard_path), ...]}`` (in trajectory order) into
    ``dataset_root/data/<split>/<file_key>.hdf5``; remove the data files there that are
    not among them. A file packed ahead of time with exactly those runs at
    ``staged/<split>/<file_key>.hdf5`` is moved in instead of packed again. Call it under
    the dataset's pack lock (``leases.file_lock``)."""
    written = []
    for (split, key), members in sorted(groups.items()):
        out = os.path.join(dataset_root, "data", split, f"{key}.hdf5")
        early = os.path.join(staged, split, f"{key}.hdf5") if staged else None
        if (early and os.path.exists(early) and not os.path.exists(out)
                and packed_run_ids(early) == [rid for rid, _ in members]):
            os.makedirs(os.path.dirname(out), exist_ok=True)
            try:
                os.replace(early, out)  # same file system: the work dir is beside the dataset
            except OSError:
                pass  # elsewhere: packed again below
        written.append(pack_one(members, out))
    keep = {os.path.abspath(p) for p in written}
    for old in sorted(glob.glob(os.path.join(dataset_root, "data", "*", "*.hdf5")) +
                      glob.glob(os.path.join(dataset_root, "data", "*", "*.h5"))):
        if os.path.abspath(old) not in keep:
            logger.info("removing %s: not part of this pack", old)
            os.remove(old)
    return written


def pack_one(members: list[tuple[str, str]], out: str) -> str:
    """Pack ``[(run_id, shard_path), ...]`` into ``out`` unless it holds exactly those runs
    already (atomic: replaces an older file). Call it under the dataset's pack lock (``leases.file_lock``)."""
    if not (os.path.exists(out) and packed_run_ids(out) == [rid for rid, _ in members]):
        _same_code([p for _, p in members], out)
        pack_file([p for _, p in members], out)
    return out


def _same_code(shards: list[str], out: str) -> None:
    """Refuse to put trajectories made by different code into one file."""
    codes = set()
    for p in shards:
        with h5py.File(p, "r") as f:
            codes.add(str(read_provenance(f).get("code")))
    if len(codes) > 1:
        raise ConfigError(f"{out}: its runs were made by different versions of the system's "
                          "code; rerun them with 'wellforge generate ... --rerun-changed'")
