"""L5 dataset: the files of a dataset directory together, and its YAML files.

``<name>/data/{train,valid,test}/*.hdf5``, ``stats.yaml`` and ``<name>.yaml``. Per-file
facts come from the file pass (layout facts, and two reducers that subscribe to the same
streaming pass: a content hash per trajectory, and the Well's statistics moments for
train files), so the data are read once for all levels.
"""

from __future__ import annotations

import hashlib
import math
import os
import zlib
from collections import Counter

import numpy as np
from wellforge.schema.spec import SPLITS
from wellforge.schema.stats import STAT_KEYS, Moments, pool

from .. import safe_yaml
from ..findings import Issue, region
from ..lanes import lane_sum, lane_sumsq
from ..registry import check
from ..robust import Z_THRESHOLD, median, robust_outliers
from ..stream import Reducer, reducer

#: moments from uncentred sums when mean² <= this x mean square (else centred first)
WELL_CONDITIONED = 0.01
STATS_RTOL = 1e-3  # stats.yaml stores 5 significant digits
STATS_ATOL = 1e-3  # ... and near-zero means are compared against the field's RMS


@reducer("traj_hash")
class TrajHash(Reducer):
    """A content hash per trajectory: CRC32 of every frame's bytes, chained with SHA-1."""

    @staticmethod
    def wants(ctx, field):
        return bool(field.sample_varying)

    def __init__(self, ctx, field, dset):
        super().__init__(ctx, field, dset)
        self.digests: list[str] = []
        self.h = hashlib.sha1()

    def block(self, blk):
        crcs = np.array([zlib.crc32(memoryview(np.ascontiguousarray(blk.data[k])).cast("B"))
                         for k in range(blk.nf)], dtype=np.uint32)
        self.h.update(crcs.tobytes())

    def end_trajectory(self, traj):
        self.digests.append(self.h.hexdigest())
        self.h = hashlib.sha1()

    def result(self):
        return self.digests


@reducer("moments")
class WellMoments(Reducer):
    """The Well's statistics moments of a train file (count, mean and sum of squared
    deviations per component, of the values and of the deltas between consecutive
    frames), pooled across files with ``schema.stats`` exactly as ``compute_stats`` does.

    Per block the moments come from float32 lane sums folded in float64 (the values'
    from the pass's per-frame sums), on centred values unless the mean is small next to
    the spread, then merged with Chan's update: within ~1e-6 of ``compute_stats`` and
    ~20x faster than converting every block to float64. Only gathered when the dataset
    has a stats.yaml to compare with.
    """

    @staticmethod
    def wants(ctx, field):
        return ctx.split == "train" and os.path.isfile(os.path.join(ctx.root, "stats.yaml"))

    def __init__(self, ctx, field, dset):
        super().__init__(ctx, field, dset)
        self.vals = Moments()
        self.deltas = Moments() if field.time_varying else None
        self.prev: dict[int, np.ndarray] = {}  # last frame (per slab) of this trajectory
        self.bufs: list[np.ndarray | None] = [None, None]  # deltas, centred values

    def _scratch(self, i: int, shape) -> np.ndarray:
        """Reused float32 buffer ``i`` viewed as ``shape`` (fresh 16 MiB arrays cost
        page faults on every block)."""
        size = math.prod(shape)
        if self.bufs[i] is None or self.bufs[i].size < size:
            self.bufs[i] = np.empty(size, dtype=np.float32)
        return self.bufs[i][:size].reshape(shape)

    def _add(self, m: Moments, x: np.ndarray, nc: int, sums=None) -> None:
        """Merge the moments of frames ``x`` (k, *frame) float32 into ``m``; ``sums``:
        their per-frame sums and sums of squares (k, nc) when already known."""
        k = x.shape[0]
        if k == 0:
            return
        x = x.reshape(k, -1, nc)
        n = x.shape[0] * x.shape[1]
        s1, s2 = sums if sums is not None else (lane_sum(x), lane_sumsq(x))
        with np.errstate(all="ignore"):
            mu = s1.sum(axis=0) / n
            ms = s2.sum(axis=0) / n
            if np.all(mu * mu <= WELL_CONDITIONED * ms):
                # mean small next to the spread: Σx² − nμ² loses at most a factor
                # 1/(1 − 0.01) of the sums' float32 rounding
                m.merge(n, mu, n * (ms - mu * mu))
                return
            lanes = math.gcd(n, 1024)  # subtract along contiguous rows (fast broadcasting)
            rows = x.reshape(-1, lanes * nc)
            xc = np.subtract(rows, np.tile(mu.astype(np.float32), lanes),
                             out=self._scratch(1, rows.shape))
            m2 = lane_sumsq(xc.reshape(x.shape)).sum(axis=0)
        # the centring used float32 mu; correct the sum of squares to the exact mean
        shift = mu - mu.astype(np.float32)
        m.merge(n, mu, m2 - n * shift**2)

    def block(self, blk):
        self._add(self.vals, blk.data, blk.nc, (blk.stats.sum, blk.stats.sumsq))
        if self.deltas is None:
            return
        prev = self.prev.get(blk.slab)
        if prev is not None:
            self._add(self.deltas, (blk.data[:1] - prev[None]), blk.nc)
        if blk.nf > 1:
            d = np.subtract(blk.data[1:], blk.data[:-1], out=self._scratch(0, blk.data[1:].shape))
            self._add(self.deltas, d, blk.nc)
        self.prev[blk.slab] = blk.data[-1].copy()

    def end_trajectory(self, traj):
        self.prev = {}

    def result(self):
        shape = self.field.frame_shape[len(self.field.frame_shape) - self.field.order:] \
            if self.field.order else ()
        for m in (self.vals, self.deltas):
            if m is not None and m.count:
                m.mean = np.asarray(m.mean).reshape(shape)
                m.m2 = np.asarray(m.m2).reshape(shape)
        return {"name": self.field.name, "vals": self.vals, "deltas": self.deltas}


# -- helpers ------------------------------------------------------------------------------

def _majority(values):
    c = Counter(repr(v) for v in values)
    top = c.most_common(1)[0][0]
    return next(v for v in values if repr(v) == top)


def _agree(ds, key, what, code_obj="/"):
    files = ds.usable()
    if len(files) < 2:
        return
    ref = _majority([f["facts"][key] for f in files])
    for f in files:
        if f["facts"][key] != ref:
            yield f, Issue(code_obj, f"{what} {f['facts'][key]!r} differs from the other files "
                           f"({ref!r})", expected=ref, observed=f["facts"][key])


def _load_yaml(path):
    """The YAML document at ``path``; OSError, or ValueError when it does not parse, nests
    too deeply or contains itself (``safe_yaml``)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        return safe_yaml.load(fh)


# -- checks ---------------------------------------------------------------------------------

@check("WF500", level=5, severity="error", scope="dataset",
       fix="regenerate or rename so that every file has the same dataset_name")
def same_dataset_name(ds):
    """Files of one dataset disagree on @dataset_name (the loader asserts they agree)."""
    yield from _agree(ds, "dataset_name", "@dataset_name")


@check("WF501", level=5, severity="error", scope="dataset",
       fix="store every file on the same grid (dims, order and resolution)")
def same_grid(ds):
    """Files disagree on n_spatial_dims, spatial_dims, resolution or grid_type (the
    loader asserts one resolution per split)."""
    for key, what in (("n_spatial_dims", "@n_spatial_dims"), ("spatial_dims", "spatial_dims"),
                      ("resolution", "resolution"), ("grid_type", "@grid_type")):
        yield from _agree(ds, key, what, "/dimensions")


@check("WF502", level=5, severity="error", scope="dataset",
       fix="write the same fields (names, tensor orders, flags) and scalars in every file")
def same_fields(ds):
    """Files disagree on their fields (names, tensor orders, time-varying flags) or
    scalar names: samples would change channels from file to file."""
    yield from _agree(ds, "fields", "fields")
    files = ds.usable()
    if len(files) > 1:
        ref = _majority([sorted(f["facts"]["scalars"]) for f in files])
        for f in files:
            if sorted(f["facts"]["scalars"]) != ref:
                yield f, Issue("/scalars", f"scalars {sorted(f['facts']['scalars'])} differ "
                               f"from the other files ({ref})", expected=ref,
                               observed=sorted(f["facts"]["scalars"]))


@check("WF503", level=5, severity="warning", scope="dataset",
       fix="put the files in <name>/data/train, data/valid and data/test")
def splits_present(ds):
    """A split directory (train, valid, test) is missing or has no .h5/.hdf5 files."""
    if not ds.is_dataset_dir:
        return
    for s in SPLITS:
        if not any(f["split"] == s for f in ds.files):
            d = os.path.join(ds.root, "data", s)
            yield f"data/{s}", Issue("/", f"split {s!r} has no files"
                              + ("" if os.path.isdir(d) else " (no directory)"),
                              expected=".h5/.hdf5 files", observed="none")


@check("WF504", level=5, severity="warning", scope="dataset",
       fix="name the directory after @dataset_name (the loader finds datasets by name)")
def directory_name(ds):
    """The dataset directory is not named after @dataset_name."""
    if not ds.is_dataset_dir or not ds.usable():
        return
    name = _majority([f["facts"]["dataset_name"] for f in ds.usable()])
    base = os.path.basename(os.path.normpath(ds.root))
    if name and base != name:
        yield None, Issue(".", f"directory {base!r} holds dataset {name!r}", expected=name,
                          observed=base)


def _traj_keys(f):
    """(trajectory index, combined digest) for one file, over its sample-varying fields."""
    hashes = f["summary"].get("traj_hash") or {}
    if not hashes:
        return []
    lists = [hashes[k] for k in sorted(hashes)]
    n = min(len(v) for v in lists)
    return [(i, hashlib.sha1("".join(v[i] for v in lists).encode()).hexdigest())
            for i in range(n)]


def _traj_index(ds):
    """Trajectory key -> [(file, index), ...]: one key per identical content (every
    sample-varying field) and one per wellforge run id, so that the same trajectory is
    found whether it was copied bit for bit or regenerated into another file."""
    where: dict[str, list[tuple[dict, int]]] = {}
    for f in ds.usable():
        for i, key in _traj_keys(f):
            where.setdefault(f"data:{key}", []).append((f, i))
        for i, rid in enumerate(f["facts"].get("run_ids") or []):
            where.setdefault(f"run:{rid}", []).append((f, i))
    return where


def _same(places, first) -> str:
    return "has the same run id as" if first.startswith("run:") else "is identical to"


@check("WF510", level=5, severity="error", scope="dataset", needs=("traj_hash",),
       fix="remove the trajectory from all but one split")
def split_overlap(ds):
    """The same trajectory (identical data in every sample-varying field, or the same
    wellforge run id) is in two splits: test or validation data leak into training."""
    said = set()  # (file, trajectory): a copy found by content and by run id, once
    for key, places in _traj_index(ds).items():
        splits = sorted({f["split"] for f, _ in places})
        if len(splits) > 1:
            first = places[0]
            for f, i in places[1:]:
                if f["split"] != first[0]["split"] and (f["display"], i) not in said:
                    said.add((f["display"], i))
                    yield f, Issue("/", f"trajectory {i} {_same(places, key)} trajectory "
                                   f"{first[1]} of {first[0]['display']} ({first[0]['split']})",
                                   region=region(trajectory=i), observed=splits,
                                   expected="each trajectory in one split")


@check("WF511", level=5, severity="error", scope="dataset", needs=("traj_hash",),
       fix="remove the duplicate trajectory (or the copied file); 'wellforge pack' rewrites "
           "a generated dataset from its runs")
def duplicate_trajectories(ds):
    """The same trajectory appears twice within one split (identical data, or the same
    wellforge run id): a model sees it twice, and the statistics count it twice."""
    said = set()  # (file, trajectory): a copy found by content and by run id, once
    for key, places in _traj_index(ds).items():
        seen: dict[str, tuple[dict, int]] = {}
        for f, i in places:
            if f["split"] in seen and (f["display"], i) not in said:
                said.add((f["display"], i))
                g, j = seen[f["split"]]
                yield f, Issue("/", f"trajectory {i} {_same(places, key)} trajectory {j} of "
                               f"{g['display']}", region=region(trajectory=i))
            elif f["split"] not in seen:
                seen[f["split"]] = (f, i)


def recompute_stats(files) -> dict | None:
    """stats.yaml content from the moments of train files (the Well's pooling)."""
    parts = [f["summary"].get("moments") for f in files]
    parts = [p for p in parts if p]
    if not parts or any(len(p) != len(parts[0]) for p in parts):
        return None
    out = {k: {} for k in STAT_KEYS}
    for path in parts[0]:
        if any(path not in p for p in parts):
            return None
        name = parts[0][path]["name"]
        if any(p[path]["vals"].count == 0 for p in parts):
            return None
        mean, std, rms = pool([p[path]["vals"] for p in parts])
        out["mean"][name], out["std"][name], out["rms"][name] = mean, std, rms
        if parts[0][path]["deltas"] is not None and all(p[path]["deltas"].count for p in parts):
            mean, std, rms = pool([p[path]["deltas"] for p in parts])
            out["mean_delta"][name], out["std_delta"][name], out["rms_delta"][name] = \
                mean, std, rms
    return {k: {n: np.asarray(v).tolist() for n, v in d.items()} for k, d in out.items()}


@check("WF520", level=5, severity="error", scope="dataset", needs=("moments",),
       fix="regenerate stats.yaml from the train split ('wellforge finalize')")
def stats_yaml(ds):
    """``stats.yaml`` is missing, unreadable, or disagrees with the train split.

    The statistics (mean, std, rms and their deltas, per field and component) are
    recomputed from the train files exactly as the Well's ``compute_statistics.py`` does
    and compared with a relative tolerance of 1e-3 (stats.yaml keeps 5 digits) plus an
    absolute tolerance of 1e-3 of the field's rms. Wrong statistics silently mis-normalise
    every training sample.
    """
    if not ds.is_dataset_dir:
        return
    path = os.path.join(ds.root, "stats.yaml")
    if not os.path.isfile(path):
        yield "stats.yaml", Issue("/", "stats.yaml is missing: the Well's loader needs it "
                                  "to normalise every sample", expected="stats.yaml",
                                  observed="missing")
        return
    try:
        got = _load_yaml(path)
    except (OSError, ValueError) as e:
        yield "stats.yaml", Issue("/", f"cannot read stats.yaml: {str(e).splitlines()[0]}")
        return
    train = ds.split("train")
    if not train or len(train) != len([f for f in ds.files if f["split"] == "train"]):
        return  # train files refused or missing: reported elsewhere
    want = recompute_stats(train)
    if want is None:
        return
    if not isinstance(got, dict):
        yield "stats.yaml", Issue("/", "stats.yaml is not a mapping", observed=type(got).__name__)
        return
    # a field whose train data hold NaN or Inf (WF300 reports them, per file) has no
    # statistics to compare: one note, not a finding per statistic
    broken = sorted({name for key in STAT_KEYS for name, w in want[key].items()
                     if not np.all(np.isfinite(np.asarray(w, dtype=np.float64)))})
    if broken:
        ds.note(f"stats.yaml: {', '.join(broken)} not compared: the train split holds "
                "non-finite values (WF300); regenerate those trajectories first")
    for key in STAT_KEYS:
        for name, w in want[key].items():
            if name in broken:
                continue
            obj = f"{key}.{name}"
            g = got.get(key, {}).get(name) if isinstance(got.get(key), dict) else None
            if g is None:
                yield "stats.yaml", Issue(obj, f"stats.yaml has no {obj}", expected=w, observed=None)
                continue
            try:
                g_arr = np.asarray(g, dtype=np.float64)
            except (TypeError, ValueError):
                yield "stats.yaml", Issue(obj, f"{obj} is not numeric", observed=g)
                continue
            w_arr = np.asarray(w, dtype=np.float64)
            scale_key = "rms_delta" if key.endswith("_delta") else "rms"
            scale = np.asarray(want[scale_key].get(name, w), dtype=np.float64)
            if g_arr.shape != w_arr.shape:
                yield "stats.yaml", Issue(obj, f"{obj} has shape {g_arr.shape}, expected {w_arr.shape}",
                                  expected=w, observed=g)
            elif not np.all(np.abs(g_arr - w_arr) <= STATS_RTOL * np.abs(w_arr)
                            + STATS_ATOL * np.abs(scale)):
                yield "stats.yaml", Issue(obj, f"{obj} = {g} but the train split gives "
                                  f"{np.round(w_arr, 6).tolist()}", expected=w, observed=g)


def _computed_metadata(ds):
    from wellforge.schema.dataset import metadata

    try:
        return metadata(ds.root)
    except Exception:  # noqa: BLE001 - files with structure errors: reported by L1
        return None


def _norm(v):
    if isinstance(v, dict):
        return {str(k): _norm(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    return v


COUNT_KEYS = ("n_files", "n_trajectories_per_file", "n_steps_per_trajectory")


def _metadata_pair(ds):
    if not ds.is_dataset_dir or not ds.usable():
        return None
    name = _majority([f["facts"]["dataset_name"] for f in ds.usable()])
    path = os.path.join(ds.root, f"{name}.yaml")
    if not os.path.isfile(path):
        return name, path, None, None
    try:
        got = _load_yaml(path)
    except (OSError, ValueError) as e:
        return name, path, e, None
    if any(f["refused"] for f in ds.files):
        return name, path, got, None
    return name, path, got, _computed_metadata(ds)


@check("WF530", level=5, severity="error", scope="dataset",
       fix="regenerate <name>.yaml ('wellforge finalize')")
def metadata_yaml(ds):
    """``<name>.yaml`` is missing, unreadable, or disagrees with the data.

    Compared key by key with the metadata the Well's ``generate_metadata.py`` would
    write (counts from the valid split, as the Well does): dataset_name, n_spatial_dims,
    spatial_resolution, scalar and field names, boundary_condition_types (as a set),
    grid_type. Counts are WF531.
    """
    pair = _metadata_pair(ds)
    if pair is None:
        return
    _name, path, got, want = pair
    obj = os.path.basename(path)
    if got is None:
        yield obj, Issue("/", f"{obj} is missing: the Well's tools read the dataset's "
                          "metadata from it", expected=obj, observed="missing")
        return
    if isinstance(got, Exception):
        yield obj, Issue("/", f"cannot read {obj}: {str(got).splitlines()[0]}")
        return
    if not isinstance(got, dict):
        yield obj, Issue("/", f"{obj} is not a mapping", observed=type(got).__name__)
        return
    if want is None:
        return
    for key, w in want.items():
        if key in COUNT_KEYS:
            continue
        g = got.get(key, "<missing>")
        wn, gn = _norm(w), _norm(g)
        if key == "boundary_condition_types" and isinstance(gn, list):
            wn, gn = sorted(map(str, wn)), sorted(map(str, gn))
        if wn != gn:
            yield obj, Issue(key, f"{key} is {g!r}, the data say {w!r}",
                              expected=w, observed=g)


@check("WF531", level=5, severity="error", scope="dataset",
       fix="regenerate <name>.yaml; check that no file lost trajectories")
def trajectory_counts(ds):
    """Trajectory and file counts in ``<name>.yaml`` do not add up to the data
    (n_files, n_trajectories_per_file, n_steps_per_trajectory; the_well#80)."""
    pair = _metadata_pair(ds)
    if pair is None or not isinstance(pair[2], dict) or pair[3] is None:
        return
    _name, path, got, want = pair
    obj = os.path.basename(path)
    for key in COUNT_KEYS:
        g, w = got.get(key, "<missing>"), want[key]
        if _norm(g) != _norm(w):
            extra = ""
            if key == "n_trajectories_per_file" and isinstance(g, list):
                try:
                    extra = f" (total {sum(int(x) for x in g)} vs {sum(w)} in the files)"
                except (TypeError, ValueError, OverflowError):  # not counts (1e400: inf)
                    pass
            yield obj, Issue(key, f"{key} is {g!r}, the data say {w!r}{extra}",
                              expected=w, observed=g)


@check("WF540", level=5, severity="warning", scope="dataset", needs=("frames",),
       fix="compare that trajectory with the others; regenerate it if it is corrupt")
def dataset_outlier_trajectories(ds):
    """One trajectory's RMS stands out among the trajectories of its parameter set across
    the dataset's files and splits (robust z-score of log10 RMS per field, |z| > 6; at
    least 5 trajectories; see WF304 for one file).

    Trajectories are compared with those of the same constant scalars (the simulation
    parameters): amplitudes that change with the parameters (a Rayleigh or a domain
    length) are the physics, not an outlier."""
    per_group: dict[tuple, list[tuple[dict, int, float]]] = {}
    for f in ds.usable():
        params = tuple(sorted((f["facts"].get("constants") or {}).items()))
        for path, r in (f["summary"].get("frames") or {}).items():
            for i, v in enumerate(r["rms"]):
                per_group.setdefault((path, params), []).append((f, i, float(v)))
    for (path, params), rows in per_group.items():
        vals = np.array([v for _, _, v in rows])
        med = median(vals)
        among = (", ".join(f"{k} = {v:g}" for k, v in params) or "the dataset")
        for k, z in robust_outliers(vals):
            f, i, v = rows[k]
            yield f, Issue(path, f"trajectory {i} has RMS {v:.3g}, median {med:.3g} of the "
                           f"{len(rows)} trajectories with {among} (robust z = {z:.1f})",
                           region=region(trajectory=i), expected=f"|z| <= {Z_THRESHOLD}",
                           observed=round(z, 2))
