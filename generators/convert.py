"""``wellforge convert``: existing Dedalus file-handler output -> one Well file, given a card.

Input: the directory a Dedalus ``FileHandler`` wrote (``<name>/<name>_s1.h5``,
``<name>_s2.h5``, ...), one directory per trajectory, in ``gather``/``mpio`` mode (one file
per set) or ``virtual`` mode (a virtual file per set over ``<name>_sN/<name>_sN_pR.h5``).
Everything is read through HDF5 dimension scales: a task's axis 0 is time (scale
``sim_time``), axes labelled ``''`` are tensor components, the others are spatial axes
labelled with the coordinate name, whose coordinates are the attached scale — never the
hash-named datasets under ``/scales``.

Output: the same file ``wellforge generate`` writes for that system (card axes order,
units, parameters, boundary conditions, float32), with the conversion in ``/provenance``.

Time: Dedalus writes at the first step past each ``sim_dt``, so stored times are uniform
only when the step divides the cadence. Uniform times (to ``--time-tolerance``) are kept,
or thinned by whole multiples (``--dt-out``); non-uniform times are refused unless
``--interpolate-time linear|cubic`` is given, which is recorded in the provenance.
"""

from __future__ import annotations

import datetime as _dt
import glob
import logging
import os
import re
from dataclasses import dataclass, field

import numpy as np

from wellforge.errors import ConfigError, InputRefused

logger = logging.getLogger("wellforge.convert")

HELP = {
    "convert": "convert Dedalus file-handler output (<name>_s*.h5 sets) into a Well file, "
               "given a card (--system or --card)",
}

_SET = re.compile(r"^(?P<base>.+)_s(?P<n>\d+)\.h5$")
_RESAMPLABLE = ("fourier", "chebyshev")


# -- reading Dedalus output --------------------------------------------------------------

@dataclass
class TaskInfo:
    """One task of a handler, described from its dimension scales."""

    name: str
    shape: tuple[int, ...]  # per frame
    component_axes: list[int]  # frame axes that are tensor components (label '')
    spatial: dict[str, tuple[int, np.ndarray]]  # coordinate name -> (frame axis, coords)
    constant_axes: list[int]
    grid_space: bool
    scales: tuple[float, ...]


@dataclass
class HandlerOutput:
    """The sets of one Dedalus file handler (one trajectory)."""

    path: str
    handler: str
    sets: list[tuple[int, str]]  # (set number, file)
    times: np.ndarray  # float64 sim_time of every write, all sets in order
    frames: list[tuple[int, int]]  # per write: (index into sets, index within the set)
    tasks: dict[str, TaskInfo]
    timesteps: np.ndarray
    iterations: np.ndarray
    virtual: bool = False
    _open: dict = field(default_factory=dict)

    def file(self, i: int):
        import h5py

        if i not in self._open:
            self._open[i] = h5py.File(self.sets[i][1], "r")
        return self._open[i]

    def read(self, task: str, k: int) -> np.ndarray:
        """Frame ``k`` (global write index) of ``task``, float64, as stored by Dedalus."""
        s, j = self.frames[k]
        return np.asarray(self.file(s)["tasks"][task][j], dtype=np.float64)

    def close(self) -> None:
        for f in self._open.values():
            f.close()
        self._open.clear()


def _label(d) -> str:
    lab = d.label
    return lab.decode() if isinstance(lab, bytes) else str(lab)


def _describe_task(name: str, dset, where: str) -> TaskInfo:
    if np.iscomplexobj(np.empty(0, dtype=dset.dtype)):
        raise InputRefused(f"{where}: task {name!r} is complex; write real data "
                           "(RealFourier bases, or add a task for the real part)")
    dims = dset.dims
    if _label(dims[0]) != "t" or "sim_time" not in dims[0].keys():
        raise InputRefused(f"{where}: task {name!r}: axis 0 has no 'sim_time' dimension "
                           "scale; not Dedalus file-handler output")
    comps, spatial, const = [], {}, []
    for i in range(1, dset.ndim):
        lab = _label(dims[i])
        if lab == "":
            comps.append(i - 1)
        elif lab == "constant":
            const.append(i - 1)
        else:
            if len(dims[i]) == 0:
                raise InputRefused(f"{where}: task {name!r}: axis {i} ({lab!r}) has no "
                                   "coordinate scale attached")
            spatial[lab] = (i - 1, np.asarray(dims[i][0][()], dtype=np.float64))
    gs = np.atleast_1d(dset.attrs.get("grid_space", [True]))
    sc = np.atleast_1d(dset.attrs.get("scales", [1.0]))
    return TaskInfo(name, tuple(dset.shape[1:]), comps, spatial, const,
                    bool(np.all(gs)), tuple(float(x) for x in sc))


def _check_virtual_sources(path: str, root: str, dset) -> None:
    """A virtual dataset reads other files: each must exist inside the handler directory
    (a missing source reads as empty or as fill values, silently)."""
    base = os.path.dirname(os.path.abspath(path))
    for src in dset.virtual_sources():
        fn = src.file_name
        if fn == ".":
            continue
        full = os.path.realpath(os.path.join(base, fn))
        if os.path.commonpath([full, os.path.realpath(root)]) != os.path.realpath(root):
            raise InputRefused(f"{path}: virtual dataset {dset.name} reads {fn}, outside "
                               f"{root}; refusing to follow it")
        if not os.path.isfile(full):
            raise InputRefused(f"{path}: virtual dataset {dset.name} reads {fn}, which is "
                               "missing (virtual mode keeps the data in the per-process files "
                               "<name>_sN/<name>_sN_pR.h5: copy them too)")


def _set_files(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise ConfigError(f"{path}: no such file or directory")
    files = [f for f in sorted(glob.glob(os.path.join(path, "*_s*.h5"))) if _SET.match(
        os.path.basename(f))]
    if not files:
        raise ConfigError(f"{path}: no Dedalus set files <name>_s<N>.h5 in this directory")
    bases = {_SET.match(os.path.basename(f)).group("base") for f in files}
    if len(bases) > 1:
        raise ConfigError(f"{path}: sets of several handlers ({', '.join(sorted(bases))}); "
                          "give one handler's directory per trajectory")
    return files


def open_handler(path: str) -> HandlerOutput:
    """Describe a handler's output (all sets, in set order) from attributes and scales."""
    import h5py

    root = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    sets, times, frames, steps, iters = [], [], [], [], []
    tasks: dict[str, TaskInfo] = {}
    handler, virtual = None, False
    for fn in _set_files(path):
        try:
            f = h5py.File(fn, "r")
        except OSError as e:
            raise InputRefused(f"{fn}: not a readable HDF5 file ({e})") from None
        with f:
            if "tasks" not in f or "scales" not in f:
                raise InputRefused(f"{fn}: no /tasks and /scales groups; not Dedalus "
                                   "file-handler output")
            n = int(f.attrs.get("set_number", _SET.match(os.path.basename(fn)).group("n")))
            handler = str(f.attrs.get("handler_name", handler or ""))
            names = list(f["tasks"])
            if not names:
                continue
            first = f["tasks"][names[0]]
            t = np.asarray(first.dims[0]["sim_time"][()], dtype=np.float64)
            writes = int(f.attrs.get("writes", t.size))
            t = t[:writes]
            these = {}
            for name in names:
                d = f["tasks"][name]
                if d.is_virtual:
                    virtual = True
                    _check_virtual_sources(fn, root, d)
                these[name] = _describe_task(name, d, fn)
                if d.shape[0] < writes:
                    raise InputRefused(f"{fn}: task {name!r} has {d.shape[0]} frames but the "
                                       f"set records {writes} writes")
            if tasks and {k: (v.shape, list(v.spatial)) for k, v in these.items()} != {
                    k: (v.shape, list(v.spatial)) for k, v in tasks.items()}:
                raise InputRefused(f"{fn}: tasks or shapes differ from the earlier sets")
            tasks = tasks or these
            scales = first.dims[0]
            ts = scales["timestep"][()][:writes] if "timestep" in scales.keys() else []
            it = scales["iteration"][()][:writes] if "iteration" in scales.keys() else []
            sets.append((n, fn))
            times.append(t)
            steps.append(np.asarray(ts, dtype=np.float64))
            iters.append(np.asarray(it, dtype=np.int64))
    order = np.argsort([n for n, _ in sets], kind="stable")
    sets = [sets[i] for i in order]
    numbers = [n for n, _ in sets]
    if not sets:
        raise InputRefused(f"{path}: the sets hold no tasks")
    gaps = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
    if gaps:
        raise InputRefused(f"{path}: set(s) {', '.join(map(str, gaps))} missing between "
                           f"{numbers[0]} and {numbers[-1]}")
    for si, i in enumerate(order):
        frames += [(si, j) for j in range(times[i].size)]
    t_all = np.concatenate([times[i] for i in order])
    bad = np.flatnonzero(np.diff(t_all) <= 0)
    if bad.size:
        k = int(bad[0])
        raise InputRefused(f"{path}: write times are not increasing (t = {t_all[k]:.9g} then "
                           f"{t_all[k + 1]:.9g}, set {sets[frames[k + 1][0]][0]}); a restart "
                           "rewrote earlier times: remove the overlapping sets")
    return HandlerOutput(os.path.abspath(path), handler or "", sets, t_all, frames, tasks,
                         np.concatenate([steps[i] for i in order]),
                         np.concatenate([iters[i] for i in order]), virtual)


# -- time selection ----------------------------------------------------------------------

@dataclass
class TimePlan:
    """Stored times and, per stored frame, the source frames and weights that make it."""

    times: np.ndarray
    sources: list[list[tuple[int, float]]]
    method: str  # "select" | "linear" | "cubic"
    source_spacing: float
    source_deviation: float  # max |t_k - (t_0 + k h)| of the source times
    every: int | None = None


def _weights(t: np.ndarray, tau: float, order: int) -> list[tuple[int, float]]:
    """Lagrange weights of the ``order + 1`` source times nearest to ``tau``."""
    hit = np.flatnonzero(np.isclose(t, tau, rtol=0, atol=1e-12 * max(1.0, abs(tau))))
    if hit.size:
        return [(int(hit[0]), 1.0)]
    j = int(np.searchsorted(t, tau))
    lo = min(max(0, j - (order + 1) // 2), t.size - order - 1)
    idx = np.arange(lo, lo + order + 1)
    w = []
    for i in idx:
        others = idx[idx != i]
        w.append((int(i), float(np.prod((tau - t[others]) / (t[i] - t[others])))))
    return w


def plan_times(t: np.ndarray, *, dt_out: float | None = None, start: float | None = None,
               n_frames: int | None = None, interpolate: str | None = None,
               rtol: float = 1e-6, where: str = "input") -> TimePlan:
    """Choose stored times from the source write times ``t``.

    Uniform sources (every ``|t_k - (t_0 + k h)| <= rtol h``) keep their frames, or every
    ``m``-th frame for ``dt_out = m h``: nothing is interpolated. Otherwise the input is
    refused, unless ``interpolate`` ("linear" or "cubic") is given (then ``dt_out`` is
    required and each stored frame is a Lagrange combination of its nearest sources).
    """
    if t.size < 2:
        raise InputRefused(f"{where}: {t.size} write(s); need at least 2 frames")
    h = float(t[-1] - t[0]) / (t.size - 1)
    dev = float(np.max(np.abs(t - (t[0] + h * np.arange(t.size)))))
    uniform = dev <= rtol * h
    t0 = float(t[0]) if start is None else float(start)
    if uniform:
        step = h if dt_out is None else float(dt_out)
        m = step / h
        i0 = (t0 - float(t[0])) / h
        exact = (abs(m - round(m)) <= 1e-6 * max(1.0, m) and round(m) >= 1
                 and abs(i0 - round(i0)) <= 1e-6 and round(i0) >= 0)
        if exact:
            m, i0 = int(round(m)), int(round(i0))
            n_max = (t.size - 1 - i0) // m + 1 if i0 < t.size else 0
            n = n_max if n_frames is None else int(n_frames)
            if n < 2 or n > n_max:
                raise ConfigError(f"{where}: {n} frames from t = {t0:g} every {step:g} do not "
                                  f"fit the {t.size} writes (at most {n_max})")
            times = t0 + step * np.arange(n)
            return TimePlan(times, [[(i0 + m * k, 1.0)] for k in range(n)], "select", h, dev,
                            every=m)
        if interpolate is None:
            raise ConfigError(f"{where}: --dt-out {step:g} and --start {t0:g} do not pick whole "
                              f"frames of the uniform spacing {h:g} from t = {t[0]:g}; use "
                              "multiples, or pass --interpolate-time linear|cubic")
    elif interpolate is None:
        d = np.diff(t)
        raise InputRefused(
            f"{where}: write times are not uniform (spacing {d.min():.6g} … {d.max():.6g}; up "
            f"to {dev:.3g} = {100 * dev / h:.2g}% of the mean spacing {h:.6g} off t0 + k·Δt): "
            "Dedalus writes at the first step past each sim_dt. Rerun with a fixed dt that "
            "divides sim_dt, or pass --interpolate-time linear|cubic --dt-out DT (recorded "
            "in the provenance)")
    if dt_out is None:
        raise ConfigError(f"{where}: --interpolate-time needs --dt-out (the output cadence, "
                          "e.g. the handler's sim_dt)")
    order = {"linear": 1, "cubic": 3}[interpolate]
    if t.size < order + 1:
        raise InputRefused(f"{where}: {t.size} writes are too few for {interpolate} "
                           "interpolation")
    step = float(dt_out)
    n_max = int(np.floor((float(t[-1]) - t0) / step * (1 + 1e-12) + 1e-9)) + 1
    n = n_max if n_frames is None else int(n_frames)
    if t0 < t[0] - 1e-12 * max(1.0, abs(t[0])) or n < 2 or n > n_max:
        raise ConfigError(f"{where}: {n} frames from t = {t0:g} every {step:g} leave the "
                          f"written interval [{t[0]:g}, {t[-1]:g}] (at most {max(n_max, 0)})")
    times = t0 + step * np.arange(n)
    return TimePlan(times, [_weights(t, float(tau), order) for tau in times], interpolate, h,
                    dev)


# -- card-driven mapping ----------------------------------------------------------------

def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for it in items:
        a, eq, b = it.partition("=")
        if not eq or not a.strip() or not b.strip():
            raise ConfigError(f"{what} {it!r}: expected NAME=NAME")
        out[a.strip()] = b.strip()
    return out


def _check_grid(ax, coords: np.ndarray, where: str) -> None:
    """The file's coordinates must be the card axis's grid (kind and bounds)."""
    from wellforge.schema.grids import Axis

    from .resample import stored_grid

    lo, hi = ax.bounds
    tol = 1e-9 * (hi - lo)
    if ax.kind in _RESAMPLABLE:
        want = stored_grid(Axis(ax.name, ax.kind, ax.bounds, coords.size), coords.size)
        err = float(np.max(np.abs(coords - want)))
        if err > tol:
            raise ConfigError(f"{where}: axis {ax.name}: the file's {coords.size} coordinates "
                              f"[{coords[0]:.6g} … {coords[-1]:.6g}] are not the card's "
                              f"{ax.kind} grid on [{lo:g}, {hi:g}] (off by {err:.3g}); check "
                              "the card's kind and bounds, or --axis")
    elif np.any(coords < lo - tol) or np.any(coords > hi + tol):
        raise ConfigError(f"{where}: axis {ax.name}: coordinates [{coords.min():.6g}, "
                          f"{coords.max():.6g}] leave the card's bounds [{lo:g}, {hi:g}]")


@dataclass
class FieldPlan:
    name: str  # card field
    task: str
    order: int
    permute: tuple[int, ...]  # frame axes -> spatial axes in card order, then components
    components: tuple[int, ...]  # Dedalus component index of each card-ordered component


def plan_fields(card, tasks: dict[str, TaskInfo], field_map: dict[str, str],
                axis_map: dict[str, str], only: list[str] | None, where: str
                ) -> tuple[list[FieldPlan], dict[str, np.ndarray]]:
    """Match card fields to tasks; return per-field axis permutations and the source
    coordinates of every card axis."""
    names = [c.name for c in card.fields]
    to_task = {f: t for t, f in field_map.items()}
    unknown = [f for f in to_task if f not in names]
    if unknown:
        raise ConfigError(f"--field ...={unknown[0]}: not a field of the card "
                          f"({', '.join(names)})")
    bad = [n for n in only or [] if n not in names]
    if bad:
        raise ConfigError(f"--only {bad[0]}: not a field of the card ({', '.join(names)})")
    wanted = [c for c in card.fields if only is None or c.name in only]
    missing = [c.name for c in wanted if to_task.get(c.name, c.name) not in tasks]
    if missing:
        raise ConfigError(f"{where}: no task for card field(s) {', '.join(missing)}; tasks are "
                          f"{', '.join(tasks)}: map with --field TASK=FIELD or store a subset "
                          "with --only FIELD,...")
    D = len(card.axes)
    card_axes = [a.name for a in card.axes]
    coords: dict[str, np.ndarray] = {}
    plans = []
    for c in wanted:
        ti = tasks[to_task.get(c.name, c.name)]
        if not ti.grid_space:
            raise InputRefused(f"{where}: task {ti.name!r} was written in coefficient space; "
                               "write it with layout='g'")
        spatial = {axis_map.get(k, k): v for k, v in ti.spatial.items()}
        if sorted(spatial) != sorted(card_axes) or ti.constant_axes:
            raise ConfigError(f"{where}: task {ti.name!r} has axes "
                              f"{', '.join(ti.spatial) or 'none'}"
                              f"{' (+ constant)' if ti.constant_axes else ''}, the card "
                              f"{', '.join(card_axes)}; rename with --axis COORD=AXIS")
        if len(ti.component_axes) != c.order or any(ti.shape[i] != D for i in
                                                    ti.component_axes):
            raise ConfigError(f"{where}: task {ti.name!r} has shape {ti.shape}: not a tensor "
                              f"of order {c.order} in {D} dimensions as the card declares for "
                              f"{c.name!r}")
        # Dedalus orders components like its coordinates, i.e. like its grid axes; the Well
        # orders both like @spatial_dims: components follow the axes' permutation.
        dedalus_order = sorted(spatial, key=lambda n: spatial[n][0])
        plans.append(FieldPlan(
            c.name, ti.name, c.order,
            tuple([spatial[n][0] for n in card_axes] + list(ti.component_axes)),
            tuple(dedalus_order.index(n) for n in card_axes)))
        for n in card_axes:
            co = spatial[n][1]
            if n in coords and (coords[n].shape != co.shape or not np.allclose(coords[n], co)):
                raise ConfigError(f"{where}: tasks are on different {n} grids (scales differ); "
                                  "convert tasks written at one scale")
            coords[n] = co
    for a in card.axes:
        _check_grid(a, coords[a.name], where)
    return plans, coords


def _frame(data: np.ndarray, fp: FieldPlan) -> np.ndarray:
    """A Dedalus frame -> spatial axes in card order, then components in card order."""
    out = np.transpose(data, fp.permute)
    if fp.order and list(fp.components) != sorted(fp.components):
        for r in range(fp.order):
            out = np.take(out, fp.components, axis=out.ndim - fp.order + r)
    return out


# -- conversion --------------------------------------------------------------------------

def resolve_card(system: str | None, card_path: str | None):
    """The card and, for a registered system, the system's name."""
    if system:
        from .registry import get_system

        return get_system(system).card, system
    from wellforge.schema.cardfile import load_card

    return load_card(card_path), None


def parse_params(card, items: list[str]) -> dict[str, float]:
    vals = {}
    for it in items:
        k, eq, v = it.partition("=")
        k = k.strip()
        if not eq:
            raise ConfigError(f"--param {it!r}: expected NAME=VALUE")
        try:
            card.param(k)
        except KeyError:
            raise ConfigError(f"--param {k}: not a parameter of the card; parameters: "
                              f"{', '.join(p.name for p in card.parameters) or 'none'}") from None
        try:
            x = float(v)
        except ValueError:
            raise ConfigError(f"--param {k}: {v!r} is not a number") from None
        p = card.param(k)
        if not np.isfinite(x) or (p.low is not None and x < p.low) or (
                p.high is not None and x > p.high):
            raise ConfigError(f"--param {k}: {x:g} is out of the card's range "
                              f"[{p.low:g}, {p.high:g}]")
        vals[k] = x
    missing = [p.name for p in card.parameters if p.name not in vals]
    if missing:
        raise ConfigError(f"missing --param for {', '.join(missing)} (the card's parameters; "
                          "Dedalus output does not record them)")
    return {p.name: vals[p.name] for p in card.parameters}


def convert(inputs: list[str], out: str, card, params: dict[str, float], *,
            system_name: str | None = None, dataset_name: str | None = None,
            field_map: dict[str, str] | None = None, axis_map: dict[str, str] | None = None,
            only: list[str] | None = None, dt_out: float | None = None,
            start: float | None = None, n_frames: int | None = None,
            interpolate: str | None = None, time_rtol: float = 1e-6,
            stored_resolution: tuple[int, ...] | None = None,
            grid_options: dict[str, str] | None = None, card_source: str | None = None) -> str:
    """Convert handler outputs (one per trajectory) into the Well file ``out``: match the
    tasks and times of every handler, choose the stored grid, declare the file from the
    card, write the frames, record the provenance."""
    from wellforge.schema.declare import declare_from_card
    from wellforge.schema.writer import WellWriter

    if os.path.exists(out):
        raise ConfigError(f"{out}: exists; remove it or choose another --out")
    grid_options = grid_options or {}
    handlers = [open_handler(p) for p in inputs]
    try:
        plans, coords, tplans = _match_inputs(
            handlers, card, field_map or {}, axis_map or {}, only,
            dict(dt_out=dt_out, start=start, n_frames=n_frames, interpolate=interpolate,
                 rtol=time_rtol))
        src_res, stored, stored_coords, resample = _stored_grid(card, coords,
                                                                stored_resolution, grid_options)
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        writer = WellWriter(out, dataset_name or card.name, len(handlers), tplans[0].times,
                            time_units=card.time_units, grid_type=card.grid_type)
        try:
            declare_from_card(writer, card, stored_coords, params, [fp.name for fp in plans],
                              system=system_name or card.name)
            _write_frames(writer, handlers, plans, tplans, resample)
            writer.set_provenance(_provenance(
                handlers, plans, tplans, params, system_name or card.name,
                card_source or f"registered system {system_name}", time_rtol,
                src_res, stored, grid_options))
            writer.close()
        except BaseException:
            writer.abort()
            raise
    finally:
        for h in handlers:
            h.close()
    return out


def _match_inputs(handlers, card, field_map, axis_map, only, times: dict):
    """The field plans, coordinates and time plans of the handlers, which must share one
    grid and one set of stored times (a Well file's trajectories do)."""
    plans, coords, tplans = None, None, []
    for h in handlers:
        fp, co = plan_fields(card, h.tasks, field_map, axis_map, only, h.path)
        if coords is not None and any(coords[k].shape != co[k].shape or not np.allclose(
                coords[k], co[k]) for k in co):
            raise InputRefused(f"{h.path}: grid differs from {handlers[0].path}")
        plans, coords = fp, co
        tplans.append(plan_times(h.times, where=h.path, **times))
    t_ref = tplans[0].times
    for h, tp in zip(handlers[1:], tplans[1:]):
        if tp.times.shape != t_ref.shape or not np.allclose(tp.times, t_ref, rtol=0,
                                                             atol=1e-9 * tp.source_spacing):
            raise InputRefused(f"{h.path}: stored times differ from {handlers[0].path} "
                               f"({tp.times.size} vs {t_ref.size} frames); a Well file's "
                               "trajectories share their times")
    return plans, coords, tplans


def _stored_grid(card, coords, stored_resolution, grid_options):
    """(simulated sizes, stored sizes, stored coordinates, the resampler) for the card's
    axes: resamplable axes to the stored resolution and grid option, others kept."""
    from wellforge.schema.grids import Axis

    from .resample import Resampler, stored_grid

    src_res = tuple(coords[a.name].size for a in card.axes)
    stored = tuple(stored_resolution) if stored_resolution else src_res
    if len(stored) != len(card.axes):
        raise ConfigError(f"--stored-resolution: expected {len(card.axes)} sizes "
                          f"({', '.join(a.name for a in card.axes)})")
    axes = tuple(Axis(a.name, a.kind, a.bounds, n) for a, n in zip(card.axes, src_res))
    modes = {a.name: grid_options.get(f"{a.name}_grid") for a in card.axes}
    stored_coords = []
    for a, ca, n in zip(axes, card.axes, stored):
        if ca.kind in _RESAMPLABLE:
            try:
                stored_coords.append(stored_grid(a, n, modes[a.name]))
            except ValueError as e:
                raise ConfigError(f"--option {a.name}_grid: {e}") from None
        elif n == a.size and not modes[a.name]:
            stored_coords.append(coords[a.name])
        else:
            raise ConfigError(f"axis {a.name}: a {ca.kind} axis cannot be resampled; keep "
                              f"its {a.size} points")
    return src_res, stored, stored_coords, Resampler(axes, stored, modes)


def _write_frames(writer, handlers, plans, tplans, resample) -> None:
    """Every stored frame of every trajectory: the handler's writes (or their weighted
    sum, in time), resampled, checked finite, float32."""
    for i, (h, tp) in enumerate(zip(handlers, tplans)):
        for k, srcs in enumerate(tp.sources):
            frame = {}
            for fp in plans:
                data = sum(w * h.read(fp.task, j) for j, w in srcs)
                data = resample(_frame(np.asarray(data), fp))
                if not np.all(np.isfinite(data)):
                    raise InputRefused(f"{h.path}: non-finite values in task "
                                       f"{fp.task!r} at t = {tp.times[k]:.6g}")
                frame[fp.name] = data.astype(np.float32)
            writer.write_frame(i, k, frame)


def _provenance(handlers, plans, tplans, params, system, card_source, time_rtol, src_res,
                stored, grid_options) -> dict:
    """Where a converted file came from: the handlers, the tasks, the time resampling."""
    from .provenance import environment

    tp0, t_ref = tplans[0], tplans[0].times
    steps = np.concatenate([h.timesteps for h in handlers])
    return {
        "generator": "wellforge convert", "system": system, "card": card_source,
        "source": {
            "format": "dedalus file handler",
            "mode": "virtual" if any(h.virtual for h in handlers) else "gather",
            "inputs": [h.path for h in handlers],
            "handlers": [h.handler for h in handlers],
            "sets": [[n for n, _ in h.sets] for h in handlers],
            "writes": [int(h.times.size) for h in handlers],
            "tasks": {fp.name: fp.task for fp in plans},
            "task_scales": {fp.name: list(handlers[0].tasks[fp.task].scales) for fp in plans},
        },
        "parameters": params,
        "output_times": (
            "as written by the Dedalus file handler (uniform to "
            f"{tp0.source_deviation:.3g}, every {tp0.every} write(s))"
            if tp0.method == "select" else
            f"{tp0.method} interpolation in time between the handler's writes"),
        "time_resampling": {
            "method": tp0.method, "every": tp0.every,
            "dt_out": float(t_ref[1] - t_ref[0]), "start": float(t_ref[0]),
            "source_spacing": [tp.source_spacing for tp in tplans],
            "source_max_deviation": [tp.source_deviation for tp in tplans],
            "tolerance": time_rtol},
        "dt_stats": ({"min": float(steps.min()), "max": float(steps.max()),
                      "mean": float(steps.mean()), "source": "scales/timestep at "
                      "the writes"} if steps.size else {}),
        "resolution_simulated": list(src_res),
        "resolution_stored": list(stored),
        "options": grid_options,
        "converted": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **environment(),
    }


# -- CLI ---------------------------------------------------------------------------------

def add_convert_arguments(p):
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="a Dedalus file handler's directory (<name>_s1.h5, ...), one per "
                   "trajectory; gather/mpio or virtual mode")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--system", help="use the card of this system (see 'wellforge systems')")
    g.add_argument("--card", help="a card YAML file (see docs/plugins.md)")
    p.add_argument("--out", required=True, help="the Well file to write (.hdf5)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="value of each card parameter (Dedalus output does not record them)")
    p.add_argument("--field", action="append", default=[], metavar="TASK=FIELD",
                   help="task name -> card field (default: the same name); repeatable")
    p.add_argument("--axis", action="append", default=[], metavar="COORD=AXIS",
                   help="Dedalus coordinate -> card axis (default: the same name)")
    p.add_argument("--only", help="store only these card fields (comma list)")
    p.add_argument("--dataset-name", help="@dataset_name (default: the card's name)")
    p.add_argument("--dt-out", type=float, help="stored cadence: a whole multiple of the "
                   "written spacing (frames picked), or any value with --interpolate-time")
    p.add_argument("--start", type=float, help="first stored time (default: the first write)")
    p.add_argument("--n-frames", type=int, help="number of stored frames (default: all)")
    p.add_argument("--interpolate-time", choices=("linear", "cubic"),
                   help="interpolate non-uniform write times onto start + k*dt-out "
                   "(recorded in the provenance)")
    p.add_argument("--time-tolerance", type=float, default=1e-6, metavar="RTOL",
                   help="write times count as uniform within RTOL × spacing (default 1e-6)")
    p.add_argument("--stored-resolution", metavar="N,M",
                   help="spectral resampling as in generate (Fourier, Chebyshev axes)")
    p.add_argument("--option", action="append", default=[], metavar="AXIS_grid=MODE",
                   help="stored grid of a Chebyshev axis, e.g. y_grid=uniform")


def run_convert(args) -> int:
    card, system_name = resolve_card(args.system, args.card)
    params = parse_params(card, args.param)
    res = None
    if args.stored_resolution:
        try:
            res = tuple(int(x) for x in args.stored_resolution.split(","))
        except ValueError:
            raise ConfigError(f"--stored-resolution {args.stored_resolution!r}: expected "
                              "integers like 64,16") from None
    if args.dt_out is not None and not args.dt_out > 0:
        raise ConfigError(f"--dt-out {args.dt_out:g}: must be > 0")
    out = convert(args.inputs, args.out, card, params, system_name=system_name,
                  dataset_name=args.dataset_name, field_map=_pairs(args.field, "--field"),
                  axis_map=_pairs(args.axis, "--axis"),
                  only=[s.strip() for s in args.only.split(",")] if args.only else None,
                  dt_out=args.dt_out, start=args.start, n_frames=args.n_frames,
                  interpolate=args.interpolate_time, time_rtol=args.time_tolerance,
                  stored_resolution=res, grid_options=_pairs(args.option, "--option"),
                  card_source=os.path.abspath(args.card) if args.card else None)
    from wellforge.schema.reader import read_info

    info = read_info(out)
    print(f"{out}: {info.n_trajectories} trajectories × {info.n_steps} frames, fields "
          f"{', '.join(f.name for f in info.fields)}, grid "
          f"{' × '.join(map(str, info.dim_sizes))}")
    return 0
