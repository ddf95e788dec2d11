"""L3 data sanity, from one streaming pass per file in bounded memory.

The ``frames`` reducer keeps, for the trajectory being read, per-frame statistics
(sum and sum of squares per component, a signature per frame), and
when a trajectory ends turns them into the facts the checks report: non-finite frames,
constant frames, frames equal to the previous one, the Well's 5-sigma outlier frames,
and the trajectory's RMS (for the robust z-score across trajectories). Exact answers
from cheap statistics: NaN and Inf propagate into the sums, and a frame whose variance
is tiny is a candidate confirmed with an exact min == max on the data at hand; a
repeated frame is only a candidate until both frames are re-read and compared bit for
bit.
"""

from __future__ import annotations

import numpy as np

from ..findings import Issue, region
from ..lanes import frame_minmax
from ..registry import check
from ..robust import Z_THRESHOLD, FrameSet, median, robust_outliers
from ..stream import Reducer, field_results, frames_equal, reducer

OUTLIER_SIGMA = 5.0  # the Well's rule
OUTLIER_FLOOR = 1e-3  # ... and at least this fraction of the trajectory's RMS


@reducer("frames")
class Frames(Reducer):
    """Per-trajectory frame statistics and the facts L3 reports."""

    #: a component is a constancy candidate when its variance is below this fraction of
    #: its mean square (float32 lane sums are exact to ~1e-5); candidates are confirmed
    #: exactly with min == max on the data at hand
    CONST_RTOL = 1e-3

    def __init__(self, ctx, field, dset):
        super().__init__(ctx, field, dset)
        self.tv = bool(field.time_varying)
        self.out = {"nonfinite": [], "constant": [], "repeated": [], "outliers": [],
                    "rms": [], "labels": ctx.component_labels(field)}
        self.acc = None

    def _alloc(self, nt, nc):
        self.acc = {"sum": np.zeros((nt, nc)), "sumsq": np.zeros((nt, nc)), "sig": np.zeros(nt),
                        "min": np.full((nt, nc), np.inf), "max": np.full((nt, nc), -np.inf),
                        "varies": np.zeros((nt, nc), bool), "nan": np.zeros(nt, np.int64),
                        "inf": np.zeros(nt, np.int64), "bad": np.zeros(nt, bool)}

    def block(self, blk):
        st = blk.stats
        if self.acc is None:
            nt = (self.field.shape[int(bool(self.field.sample_varying))] if self.tv else 1)
            self._alloc(nt, blk.nc)
        a, sl = self.acc, slice(blk.t0, blk.t0 + blk.nf)
        s1, s2 = st.sum, st.sumsq  # copied below where a frame's float32 sums overflow
        a["sig"][sl] += st.sig
        n = blk.data[0].size / blk.nc
        finite = np.isfinite(st.sum).all(axis=1) & np.isfinite(st.sumsq).all(axis=1)
        with np.errstate(all="ignore"):
            ms = st.sumsq / n
            var = ms - (st.sum / n) ** 2
            cand = (var <= self.CONST_RTOL * ms + 1e-300) & finite[:, None]
        a["varies"][sl] |= ~cand
        for k in np.flatnonzero(~finite | cand.any(axis=1)):  # rare: exact answers on the data
            t = blk.t0 + int(k)
            d = blk.data[k]
            if not finite[k]:
                nan, inf = int(np.isnan(d).sum()), int(np.isinf(d).sum())
                a["nan"][t] += nan
                a["inf"][t] += inf
                a["bad"][t] |= bool(nan or inf)
                if not (nan or inf):  # float32 overflow of the sums: recompute in float64
                    if s1 is st.sum:  # (adding the difference to an inf kept the inf)
                        s1, s2 = st.sum.copy(), st.sumsq.copy()
                    x = d.reshape(-1, blk.nc).astype(np.float64)
                    s1[k], s2[k] = x.sum(axis=0), (x * x).sum(axis=0)
                continue
            mn, mx = frame_minmax(d, blk.nc)
            np.minimum(a["min"][t], mn, out=a["min"][t])
            np.maximum(a["max"][t], mx, out=a["max"][t])
        a["sum"][sl] += s1
        a["sumsq"][sl] += s2

    def end_trajectory(self, traj):
        a = self.acc
        if a is None:
            return
        n_pts = float(np.prod(self.field.frame_shape or (1,))) / a["sum"].shape[1]
        finite = ~a["bad"]
        if a["bad"].any():
            ts = np.flatnonzero(a["bad"])
            self.out["nonfinite"].append((traj, FrameSet.of(ts), int(a["nan"].sum()),
                                          int(a["inf"].sum())))
        if self.tv:
            const = ~a["varies"] & (a["min"] == a["max"]) & finite[:, None]
            const[0] = False  # the initial condition may be uniform (the Well's rule: t > 0)
            if const.any():
                self.out["constant"].append(
                    (traj, FrameSet.of(np.flatnonzero(const.any(axis=1))),
                     [int(c) for c in np.flatnonzero(const.any(axis=0))]))
            rep = self._repeats(traj, finite)
            if rep:
                self.out["repeated"].append((traj, FrameSet.of(rep)))
            self._outliers(traj, finite, const, n_pts)
        if finite.any():
            ms = a["sumsq"][finite].sum() / (finite.sum() * n_pts * a["sum"].shape[1])
            self.out["rms"].append(float(np.sqrt(ms)))
        else:
            self.out["rms"].append(float("nan"))
        self.acc = None

    def _repeats(self, traj, finite) -> list[int]:
        """Candidates have bit-identical lane sums (identical data give identical sums);
        each is confirmed by re-reading both frames and comparing them bit for bit."""
        a = self.acc
        sig = a["sig"]
        with np.errstate(invalid="ignore"):  # a signature overflows with the squares
            close = (np.abs(sig[1:] - sig[:-1]) <= 1e-9 * (np.abs(sig[1:]) + np.abs(sig[:-1]))
                     + 1e-300) | ~np.isfinite(sig[1:]) | ~np.isfinite(sig[:-1])
        same = np.all(a["sum"][1:] == a["sum"][:-1], axis=1) \
            & np.all(a["sumsq"][1:] == a["sumsq"][:-1], axis=1) & close \
            & finite[1:] & finite[:-1]
        out = []
        budget = self.ctx.options.limits.block_bytes
        for k in np.flatnonzero(same):
            t = int(k) + 1
            if frames_equal(self.dset, self.field, traj, t - 1, t, budget):
                out.append(t)
        return out

    def _outliers(self, traj, finite, const, n_pts):
        """The Well's check_thewell_data.py rule, per component: a frame whose spatial mean
        is >= 5 sigma from the trajectory's mean of frame means (NaN frames and constant
        frames after t = 0 left out), and (our addition) deviates by more than 1e-3 of
        the trajectory's RMS, so that float rounding of a conserved mean never counts."""
        a = self.acc
        nc = a["sum"].shape[1]
        if finite.sum() < 3:
            return
        rms = np.sqrt(a["sumsq"][finite].sum() / (finite.sum() * n_pts * nc))
        for c in range(nc):
            ok = finite & ~const[:, c]
            if ok.sum() < 3:
                continue
            m = a["sum"][ok, c] / n_pts
            mu, sd = m.mean(), m.std()
            dev = np.abs(m - mu)
            hit = (dev >= OUTLIER_SIGMA * sd) & (dev > OUTLIER_FLOOR * rms) & (sd > 0)
            if hit.any():
                ts = np.flatnonzero(ok)[hit]
                self.out["outliers"].append((traj, c, FrameSet.of(ts),
                                             float((dev[hit] / sd).max())))

    def result(self):
        self.out["rms"] = np.asarray(self.out["rms"], dtype=np.float64)
        return self.out


@check("WF300", level=3, severity="error", needs=("frames",),
       fix="find where the simulation blew up (dt collapse, CFL) and regenerate those "
           "trajectories")
def non_finite(ctx):
    """A field or scalar holds NaN or Inf values (reported with trajectory and frames).

    Exact: a frame is non-finite when its minimum or maximum is; the counts of NaN and
    Inf are taken on those frames only.
    """
    for f, r in field_results(ctx, "frames"):
        for traj, ts, nan, inf in r["nonfinite"]:
            yield Issue(f.path, f"{ts.count} frame(s) with non-finite values ({nan} NaN, "
                        f"{inf} Inf) at {ctx.frames_at(traj, ts)}"
                        + (f" in trajectory {traj}" if traj is not None else ""),
                        expected="finite values", observed={"nan": nan, "inf": inf},
                        region=ts.region(traj))
    for name, (sv, tv) in ctx.layout.scalars.items():
        d = ctx.get(f"scalars/{name}")
        if d is None or d.dtype.kind != "f":
            continue
        v = ctx.read_small(d)
        if v is None:
            continue
        bad = ~np.isfinite(np.asarray(v, dtype=np.float64))
        if bad.any():
            idx = np.argwhere(np.atleast_1d(bad))
            yield Issue(f"/scalars/{name}", f"{int(bad.sum())} non-finite scalar value(s)",
                        observed=int(bad.sum()),
                        region=region(trajectory=int(idx[0][0])) if sv and idx.size else None)


@check("WF301", level=3, severity="warning", needs=("frames",),
       fix="check the output: a constant frame usually means a field that was not "
           "written or a solver that stopped")
def constant_frames(ctx):
    """A frame (after t = 0) is constant in space for some component (the Well's
    data-checker rule; the initial condition may legitimately be uniform)."""
    for f, r in field_results(ctx, "frames"):
        labels = r["labels"]
        for traj, ts, comps in r["constant"]:
            yield Issue(f.path, f"{ts.count} constant frame(s) at {ctx.frames_at(traj, ts)} in "
                        f"{', '.join(labels[c] for c in comps if c < len(labels))}"
                        + (f", trajectory {traj}" if traj is not None else ""),
                        region=ts.region(traj), observed=ts.count)


@check("WF302", level=3, severity="warning", needs=("frames",),
       fix="write each output time once; check for a stalled solver or a copy bug")
def repeated_frames(ctx):
    """A frame is bit-for-bit equal to the previous frame of its trajectory."""
    for f, r in field_results(ctx, "frames"):
        for traj, ts in r["repeated"]:
            yield Issue(f.path, f"{ts.count} frame(s) equal to the previous one at "
                        f"{ctx.frames_at(traj, ts)}" + (f", trajectory {traj}" if traj is not None
                                               else ""),
                        region=ts.region(traj), observed=ts.count)


@check("WF303", level=3, severity="warning", needs=("frames",),
       fix="inspect those frames: a jump of the spatial mean usually means corrupt output")
def outlier_frames(ctx):
    """A frame's spatial mean is an outlier within its trajectory (the Well's 5-sigma rule).

    Per component: frames whose mean deviates from the mean of the trajectory's frame
    means by at least 5 standard deviations of those means (as
    ``check_thewell_data.py``), and by more than 1e-3 of the trajectory's RMS, so that
    the float rounding of a conserved mean is never reported. Needs enough frames: with
    n frames no frame can exceed sqrt(n - 1) sigma.
    """
    for f, r in field_results(ctx, "frames"):
        labels = r["labels"]
        for traj, c, ts, z in r["outliers"]:
            yield Issue(f.path, f"{labels[c] if c < len(labels) else c}: {ts.count} outlier "
                        f"frame(s) at {ctx.frames_at(traj, ts)} (up to {z:.1f} sigma)"
                        + (f", trajectory {traj}" if traj is not None else ""),
                        region=ts.region(traj), expected=f"< {OUTLIER_SIGMA} sigma",
                        observed=round(z, 2))


@check("WF304", level=3, severity="warning", needs=("frames",),
       fix="compare that trajectory with the others; regenerate it if it is corrupt")
def outlier_trajectories(ctx):
    """One trajectory's RMS stands out among the file's trajectories (robust z-score).

    Per field: z = (log10 RMS - median) / (1.4826 MAD) over the file's trajectories
    (at least 5); |z| > 6 is reported. One corrupted trajectory among many (the_well#23)
    stands out; parameters that change the amplitude between files do not matter here.
    The dataset-level variant is WF540.
    """
    for f, r in field_results(ctx, "frames"):
        if not f.sample_varying:
            continue
        rms = r["rms"]
        for i, z in robust_outliers(rms):
            yield Issue(f.path, f"trajectory {i} has RMS {rms[i]:.3g}, median of the file "
                        f"{median(rms):.3g} (robust z = {z:.1f})",
                        region=region(trajectory=i), expected=f"|z| <= {Z_THRESHOLD}",
                        observed=round(z, 2))
