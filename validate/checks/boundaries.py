"""L4 boundary conditions against the data, from the shared streaming pass.

- PERIODIC: the jump across the wrap (last point to first) is compared with the
  one-step differences next to it; the grid must not repeat its first point at the end.
- WALL: the field values the card (or the file's ``values`` dataset) prescribes, no-slip
  or no-penetration velocity, evaluated at the walls. Dedalus stores Chebyshev fields at
  the interior Gauss nodes: the walls are not grid points, and the value there is the
  degree n − 1 interpolant extrapolated exactly (``quadrature.AxisGrid.wall_operator``).
- OPEN: nothing is asserted.
"""

from __future__ import annotations

import numpy as np
from wellforge.schema.grids import EPS32, FOURIER, FOURIER_CLOSED

from ..findings import Issue
from ..registry import check
from ..robust import FrameSet
from ..stream import Reducer, field_results, reducer

SEAM_RATIO = 4.0  # a wrap jump this many times the neighbouring steps is a seam
SEAM_FLOOR = 64 * EPS32  # ... and above float32 rounding of the frame's RMS
WALL_FLOOR = 16 * EPS32  # rounding of the data times the extrapolation's Λ
WALL_TAIL = 2.0  # truncation: this many times the last two Chebyshev coefficients


ROW_BATCH = 128  # rows per BLAS call: a stack of small products beats one tall one (measured)


class Contraction:
    """x ↦ Σ_i x[..., i (spatial axis ``axis``), ..., c] M[i, m] for blocks x
    (nf, *space, nc): (nf, lines, nc, m), by BLAS products on contiguous memory (the
    block is never copied: a wall axis in the middle multiplies from the left, the last
    one against M ⊗ I_nc, in batches of ``ROW_BATCH`` lines: 1.6× faster than one tall
    product). Rows of M that are zero (walls on grid points, local extrapolation) are
    skipped, so only the lines' ends are read."""

    def __init__(self, M: np.ndarray, axis: int, nc: int):
        self.M, self.axis = M, axis
        self.used = np.flatnonzero(np.any(M != 0, axis=1))
        self.sparse = self.used.size <= M.shape[0] // 4
        self.K = np.kron(M, np.eye(nc, dtype=M.dtype))  # (n nc, m nc)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        nf, space, nc = x.shape[0], x.shape[1:-1], x.shape[-1]
        axis, M = self.axis, self.M
        n, m = M.shape
        pre = int(np.prod(space[:axis], dtype=np.int64))
        post = int(np.prod(space[axis + 1:], dtype=np.int64))
        if self.sparse:  # the few points next to the walls
            sub = np.take(x.reshape(nf * pre, n, post, nc), self.used, axis=1)
            r = np.einsum("iupc,um->ipcm", sub, M[self.used])
        elif post == 1:
            r = _rows_times(x.reshape(nf * pre, n * nc), self.K)  # (.., m, nc) flattened
            r = np.swapaxes(r.reshape(nf * pre, 1, m, nc), -1, -2)
        else:
            r = M.T @ x.reshape(nf * pre, n, post * nc)  # (nf pre, m, post nc)
            r = np.moveaxis(r.reshape(nf * pre, m, post, nc), 1, -1)
        return r.reshape(nf, pre * post, nc, m)


def _rows_times(A: np.ndarray, K: np.ndarray) -> np.ndarray:
    """A @ K for a tall A, as a stack of ``ROW_BATCH``-row products."""
    rows = A.shape[0]
    out = np.empty((rows, K.shape[1]), dtype=np.result_type(A, K))
    head = rows - rows % ROW_BATCH
    if head:
        np.matmul(A[:head].reshape(-1, ROW_BATCH, A.shape[1]), K,
                  out=out[:head].reshape(-1, ROW_BATCH, K.shape[1]))
    if head < rows:
        np.matmul(A[head:], K, out=out[head:])
    return out


def _frame_rms(blk) -> np.ndarray:
    """(nf, nc) RMS per frame and component of the block (or slab)."""
    n = blk.data[0].size / blk.nc
    return np.sqrt(np.maximum(blk.stats.sumsq, 0) / max(n, 1))


@reducer("seam")
class Seam(Reducer):
    """Per frame, periodic axis and component: the largest jump across the wrap and the
    largest one-step difference among the two steps on either side of it."""

    @staticmethod
    def wants(ctx, field):
        p = ctx.physics
        return bool(p.periodic) and p.frame_matches(field)

    def __init__(self, ctx, field, dset):
        super().__init__(ctx, field, dset)
        p = ctx.physics
        self.axes = [a for a in p.periodic if p.axes[a].n >= 5
                     and p.axes[a].kind in (FOURIER, FOURIER_CLOSED)]
        self.D = len(p.axes)
        self.nt = field.shape[int(bool(field.sample_varying))] if field.time_varying else 1
        self.out = {"axes": self.axes, "dims": [p.dims[a] for a in self.axes],
                    "jumps": [], "repeats": [], "labels": ctx.component_labels(field)}
        self.acc = None
        self.skipped0 = False

    def block(self, blk):
        if self.acc is None:
            shape = (self.nt, len(self.axes), blk.nc)
            self.acc = {"seam": np.zeros(shape), "ref": np.zeros(shape),
                        "sumsq": np.zeros((self.nt, blk.nc)), "n": np.zeros(self.nt)}
        a = self.acc
        sl = slice(blk.t0, blk.t0 + blk.nf)
        x = blk.data.reshape(blk.nf, *blk.data.shape[1:1 + self.D], blk.nc)
        a["sumsq"][sl] += blk.stats.sumsq
        a["n"][sl] += blk.data[0].size / blk.nc
        with np.errstate(all="ignore"):
            for j, ax in enumerate(self.axes):
                if ax == 0 and blk.rows is not None:
                    self.skipped0 = True
                    continue
                k = 1 + ax

                def t(i, k=k):
                    return np.take(x, i, axis=k)

                seam = np.abs(t(0) - t(-1)).max(axis=tuple(range(1, self.D)))
                ref = np.maximum.reduce([np.abs(t(1) - t(0)), np.abs(t(2) - t(1)),
                                         np.abs(t(-1) - t(-2)), np.abs(t(-2) - t(-3))])
                ref = ref.max(axis=tuple(range(1, self.D)))
                np.maximum(a["seam"][sl, j], seam, out=a["seam"][sl, j])
                np.maximum(a["ref"][sl, j], ref, out=a["ref"][sl, j])

    def end_trajectory(self, traj):
        a = self.acc
        if a is None:
            return
        rms = np.sqrt(a["sumsq"] / np.maximum(a["n"], 1)[:, None])  # (nt, nc)
        for j, ax in enumerate(self.axes):
            seam, ref = a["seam"][:, j], a["ref"][:, j]
            finite = np.isfinite(seam) & np.isfinite(ref)
            floor = SEAM_FLOOR * rms
            with np.errstate(all="ignore"):
                bad = finite & (seam > SEAM_RATIO * ref + floor)
                ratio = np.where(ref > 0, seam / ref, np.inf)
            for c in range(seam.shape[1]):
                ts = np.flatnonzero(bad[:, c])
                if ts.size:
                    k = int(ts[np.argmax(ratio[ts, c])])
                    self.out["jumps"].append({
                        "traj": traj, "axis": ax, "comp": c, "frames": FrameSet.of(ts),
                        "worst_frame": k, "jump": float(seam[k, c]), "step": float(ref[k, c]),
                        "ratio": float(ratio[k, c])})
            # a repeated endpoint: the wrap step vanishes while the field varies
            varies = finite & (ref > 1e3 * EPS32 * rms)
            zero = varies & (seam <= 2 * EPS32 * rms)
            n_var = int(varies.any(axis=1).sum())
            n_zero = int((zero | ~varies).all(axis=1)[varies.any(axis=1)].sum())
            self.out["repeats"].append({"traj": traj, "axis": ax, "varying_frames": n_var,
                                        "zero_frames": n_zero})
        self.acc = None

    def result(self):
        self.out["skipped_axis0"] = self.skipped0
        return self.out


@reducer("walls")
class Walls(Reducer):
    """Per frame and wall check: the largest deviation from the prescribed wall value,
    relative to its tolerance (float32 rounding × Λ + the truncation estimate)."""

    @staticmethod
    def wants(ctx, field):
        p = ctx.physics
        return p.frame_matches(field) and any(w.field_path == field.path for w in p.walls)

    def __init__(self, ctx, field, dset):
        super().__init__(ctx, field, dset)
        p = ctx.physics
        self.D = len(p.axes)
        self.checks = [w for w in p.walls if w.field_path == field.path]
        self.ops = []
        for w in self.checks:
            E, R, lam = p.axes[w.axis].wall_operator()
            M = np.concatenate([E, R]).T.astype(np.float32)  # (n, 2 + k)
            comps = list(w.targets)
            target = np.array([[np.nan if v is None else v for v in w.targets[c]]
                               for c in comps])  # (k, 2); NaN: no condition
            self.ops.append((Contraction(M, w.axis, field.ncomp), lam, comps, target))
        self.nt = field.shape[int(bool(field.sample_varying))] if field.time_varying else 1
        self.out = {"checks": [], "labels": ctx.component_labels(field), "skipped_axis0": False,
                    "nonfinite": False}
        self.acc = None

    def _alloc(self):
        # per check: (nt, target components, side, [ratio, error, tolerance, line])
        self.acc = [np.zeros((self.nt, len(w.targets), 2, 4)) for w in self.checks]

    def block(self, blk):
        if self.acc is None:
            self._alloc()
        x = blk.data.reshape(blk.nf, *blk.data.shape[1:1 + self.D], blk.nc)
        rms = _frame_rms(blk)  # (nf, nc)
        for w, (op, lam, comps, target), acc in zip(self.checks, self.ops, self.acc):
            if w.axis == 0 and blk.rows is not None:
                self.out["skipped_axis0"] = True
                continue
            with np.errstate(all="ignore"):  # NaN/Inf data: a non-finite ratio fails
                r = op(x)[:, :, comps].astype(np.float64)  # (nf, lines, k, 2 + tail)
                tail = WALL_TAIL * np.abs(r[..., 2:]).sum(axis=-1, keepdims=True)
                scale = np.maximum(rms[:, comps, None], np.abs(target))[:, None]
                tol = WALL_FLOOR * lam * scale + tail + 1e-300  # (nf, lines, k, 2)
                err = np.abs(r[..., :2] - target)
                ratio = np.where(np.isnan(target), 0.0, err / tol)
            ratio = np.where(np.isnan(ratio), np.inf, ratio)
            bad = blk.nonfinite
            if bad.any():  # WF300 reports those frames: not checked here
                ratio[bad] = 0.0
                self.out["nonfinite"] = True
            k = np.argmax(ratio, axis=1)[:, None]  # worst line: (nf, 1, k, 2)
            worst = np.stack([np.take_along_axis(a, k, axis=1)[:, 0] for a in
                              (ratio, err, np.broadcast_to(tol, ratio.shape))], axis=-1)
            row0 = blk.rows.start if (blk.rows is not None and w.axis != 0) else 0
            best = acc[blk.t0: blk.t0 + blk.nf]  # (nf, k, 2, 4)
            better = worst[..., 0] > best[..., 0]
            best[..., :3] = np.where(better[..., None], worst, best[..., :3])
            best[..., 3] = np.where(better, k[:, 0] + row0, best[..., 3])

    def end_trajectory(self, traj):
        if self.acc is None:
            return
        for w, acc in zip(self.checks, self.acc):
            for j, c in enumerate(w.targets):
                for side in (0, 1):
                    arr = acc[:, j, side]
                    ratio = arr[:, 0]
                    bad = ratio > 1.0
                    if self.field.time_varying:
                        bad[0] = False  # the initial condition: BCs imposed from step 1 on
                    if not bad.any():
                        continue
                    ts = np.flatnonzero(bad)
                    k = int(ts[np.argmax(ratio[ts])])
                    self.out["checks"].append({
                        "traj": traj, "axis": w.axis, "comp": c, "side": side,
                        "target": w.targets[c][side], "frames": FrameSet.of(ts),
                        "worst_frame": k, "error": float(arr[k, 1]),
                        "tolerance": float(arr[k, 2]), "line": int(arr[k, 3]),
                        "why": w.why, "group": w.group})
        self.acc = None

    def result(self):
        return self.out


@check("WF400", level=4, severity="error", needs=("seam",),
       fix="store a periodic axis on x_i = x0 + L i/N of one period (no padding, no crop) "
           "and check the domain length; a PERIODIC condition on a non-periodic axis is "
           "wrong metadata")
def periodic_seam(ctx):
    """A field jumps across the wrap of a PERIODIC axis.

    Per frame and component, the largest jump across the wrap (last grid point to the
    first) is compared with the largest one-step difference among the two steps on
    either side of it. For data that are periodic and sampled on x_i = x0 + L i/N the
    wrap is one more step of the same grid, as smooth as its neighbours; a jump more
    than 4 times those steps (and above 64 float32 ulps of the frame's RMS) is a seam:
    data cropped from a larger domain, padded, or shifted by a wrong period.
    """
    for f, r in field_results(ctx, "seam"):
        labels = r["labels"]
        for j in r["jumps"]:
            d = ctx.layout.spatial_dims[j["axis"]]
            yield Issue(f.path, f"{labels[j['comp']]}: jumps across the periodic wrap of "
                        f"{d!r} in {j['frames'].count} frame(s) (worst {j['jump']:.3g} at "
                        f"{ctx.time_at(j['traj'], j['worst_frame'])}, {j['ratio']:.1f}x the "
                        f"neighbouring steps)" + (f", trajectory {j['traj']}"
                                                  if j["traj"] is not None else ""),
                        expected=f"<= {SEAM_RATIO:g} x neighbouring steps",
                        observed={"jump": j["jump"], "step": j["step"],
                                  "frame": j["worst_frame"]},
                        region=j["frames"].region(j["traj"]))
        if r.get("skipped_axis0"):
            ctx.note(f"{f.path}: frames larger than the block budget: the seam of the first "
                     "axis was not checked")


@check("WF401", level=4, severity="error", needs=("seam",),
       fix="drop the last grid point: a periodic axis stores x_i = x0 + L i/N, i < N")
def periodic_duplicate_endpoint(ctx):
    """A PERIODIC axis repeats its first point at the end (x_N = x_0 + L stored).

    From the coordinates, when the card gives the period (the grid spans exactly L
    with N points), or from the data: in every frame where a field varies along the
    axis, its last and first values agree to float32 rounding, for every field. The duplicate point
    double-counts the seam in sums, FFTs and the loader's periodic padding.
    """
    p = ctx.physics
    flagged = set()
    for i, a in enumerate(p.axes or []):
        if a.kind == FOURIER_CLOSED and i in p.periodic:
            flagged.add(i)
            yield Issue(f"/dimensions/{a.name}", f"periodic axis {a.name!r} has {a.n} points "
                        f"spanning the whole period {a.hi - a.lo:g}: the last repeats the "
                        "first", expected=f"{a.n - 1} points, x_i = x0 + L i/{a.n - 1}",
                        observed=a.n)
    per_axis: dict[int, list] = {}
    for f, r in field_results(ctx, "seam"):
        for rep in r["repeats"]:
            per_axis.setdefault(rep["axis"], []).append((f.path, rep))
    for ax, reps in per_axis.items():
        varying = [(path, x) for path, x in reps if x["varying_frames"] > 0]
        n_var = sum(x["varying_frames"] for _, x in varying)
        if ax in flagged or n_var < 2 or any(x["zero_frames"] < x["varying_frames"]
                                             for _, x in varying):
            continue
        d = ctx.layout.spatial_dims[ax]
        fields = sorted({path for path, _ in varying})
        yield Issue(f"/dimensions/{d}", f"along periodic axis {d!r} the last point equals "
                    f"the first in every field that varies ({', '.join(fields)}; {n_var} "
                    "frames): the grid repeats its first point", observed=n_var)


@check("WF402", level=4, severity="error", needs=("walls",),
       fix="impose the boundary condition in the solver (and keep the BC values in the card "
           "/ the BC group's values); if the data are right, fix the card or the metadata")
def wall_values(ctx):
    """A field does not take its prescribed value at a WALL.

    No-slip, no-penetration or a Dirichlet value, frames after the first. The value at the wall is evaluated from the stored data: directly where the wall is
    a grid point, by exact extrapolation of the degree n − 1 interpolant on Chebyshev
    Gauss nodes (Dedalus's grid: the walls are not grid points), by cubic extrapolation
    on other uniform grids. Tolerance per wall line:
    16 ε32 Λ max(RMS, |value|) + 2 (|a_{n−1}| + |a_{n−2}|), where Λ = Σ|extrapolation
    weights| bounds the growth of float32 rounding and the last two Chebyshev
    coefficients (or cubic minus quadratic extrapolation) estimate the truncation of data
    stored below the simulated resolution. The initial frame is not checked: tau/lift
    solvers impose boundary conditions from the first step on.
    """
    dims = ctx.layout.spatial_dims or []
    for f, r in field_results(ctx, "walls"):
        labels = r["labels"]
        for c in r["checks"]:
            d = dims[c["axis"]]
            side = ("low", "high")[c["side"]]
            why = c["why"] if c["group"] in c["why"] else f"{c['why']}, {c['group']}"
            yield Issue(f.path, f"{labels[c['comp']]} at the {side} wall of {d!r} deviates "
                        f"from {c['target']:g} by {c['error']:.3g} (tolerance "
                        f"{c['tolerance']:.2g}; {why}) in "
                        f"{c['frames'].count} frame(s), worst at "
                        f"{ctx.time_at(c['traj'], c['worst_frame'])}, wall line "
                        f"{c['line']}" + (f", trajectory {c['traj']}"
                                          if c["traj"] is not None else ""),
                        expected=c["target"], observed={
                            "error": c["error"], "tolerance": c["tolerance"],
                            "frame": c["worst_frame"], "line": c["line"]},
                        region=c["frames"].region(c["traj"]))
        if r.get("skipped_axis0"):
            ctx.note(f"{f.path}: frames larger than the block budget: walls of the first "
                     "axis were not checked")
        if r.get("nonfinite"):
            ctx.note(f"{f.path}: frames with non-finite values (WF300) were left out of the "
                     "wall checks (WF402)")
