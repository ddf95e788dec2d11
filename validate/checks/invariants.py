"""L4 conservation laws and declared invariants, as reducers on the shared streaming pass.

Every quantity is computed per frame with the quadrature of the file's grid
(``validate.quadrature``): equal weights on uniform periodic axes (the trapezoid rule,
spectrally exact there), Fejér/Clenshaw–Curtis weights on Chebyshev axes, sin θ
(Fejér-1 in cos θ) weights on equiangular colatitudes, Gauss–Legendre weights on Gauss
colatitudes. Derivatives are spectral where the grid allows (FFT on periodic axes, the
barycentric differentiation matrix on Chebyshev axes), second-order differences
elsewhere.

Invariant kinds (a card's ``invariants``; t2 ``@symmetric``/``@antisymmetric`` flags
count too): ``conserved_mean`` (WF410), ``zero_mean`` (WF411), ``divergence_free``
(WF412), ``symmetric``/``antisymmetric`` (WF413), ``positive_definite`` (WF414),
``non_negative``/``bounded`` (WF415), ``energy_non_increasing`` (WF416), ``traceless``
and ``trace`` (WF417: tr T = 0, or tr T equal to another field pointwise).

A ``trace`` that equals another field compares two fields, and the pass streams one
field at a time: each side is reduced to a linear sketch per frame, its projections on
``SKETCH_K`` fixed pseudo-random Gaussian vectors over the grid points (the same vectors
for both fields). The projections of tr T − f are the differences of the two sketches,
and their mean square over the vectors estimates ‖tr T − f‖² (Johnson–Lindenstrauss:
within a factor ~1.5 either way for 16 vectors, deterministic for a given grid).

Constraints the solver imposes while stepping (divergence-free, zero-mean gauge) are
checked from the second frame on: the stored initial condition need not satisfy them
(Dedalus projects from the first step).
"""

from __future__ import annotations

import numpy as np
from wellforge.schema.grids import EPS32, EQUIANGULAR, FOURIER, FOURIER_CLOSED, GAUSS

from .. import scratch
from ..findings import Issue
from ..lanes import lane_sum, lane_sumsq
from ..quadrature import mean_weights as q_mean_weights
from ..quadrature import sphere_divergence
from ..registry import check
from ..robust import FrameSet
from ..stream import Reducer, field_results, reducer

MEAN_FLOOR = 8 * EPS32  # rounding of a float32 field's mean, relative to its RMS
ENERGY_FLOOR = 16 * EPS32
TENSOR_FLOOR = 4 * EPS32
DIV_FLOOR = 8 * EPS32
CURVE_POINTS = 256  # points of a drift curve in the JSON report
SKETCH_K = 16  # projections of a trace sketch
SKETCH_SEED = 417
SKETCH_MAX_BYTES = 64 << 20  # the projection vectors of larger frames are not kept


def _nt(field) -> int:
    return field.shape[int(bool(field.sample_varying))] if field.time_varying else 1


def _space(ctx) -> int:
    return len(ctx.layout.spatial_dims or [])


def _wants(ctx, field, kinds) -> bool:
    p = ctx.physics
    return bool(p.for_field(field.path, *kinds)) and p.frame_matches(field)


class _PerTrajectory(Reducer):
    """Per-frame arrays for the trajectory being read; one record per trajectory."""

    def __init__(self, ctx, field, dset):
        super().__init__(ctx, field, dset)
        self.nt = _nt(field)
        self.D = _space(ctx)
        self.records: list[dict] = []
        self.acc: dict | None = None
        self.skipped = False

    def end_trajectory(self, traj):
        if self.acc is not None:
            rec = {k: v for k, v in self.acc.items()}
            rec["traj"] = traj
            self.records.append(rec)
        self.acc = None

    def result(self):
        return {"records": self.records, "labels": self.ctx.component_labels(self.field),
                "skipped": self.skipped}


@reducer("integrals")
class Integrals(_PerTrajectory):
    """Quadrature-weighted mean and mean square per frame and component."""

    KINDS = ("conserved_mean", "zero_mean", "energy_non_increasing")

    @staticmethod
    def wants(ctx, field):
        return _wants(ctx, field, Integrals.KINDS)

    def block(self, blk):
        p = self.ctx.physics
        if self.acc is None:
            shape = (self.nt, blk.nc)
            self.acc = {"mean": np.zeros(shape), "meansq": np.zeros(shape)}
            for j in range(len(p.alt)):
                self.acc[f"mean_alt{j}"] = np.zeros(shape)
                self.acc[f"meansq_alt{j}"] = np.zeros(shape)
        sl = slice(blk.t0, blk.t0 + blk.nf)
        nf = blk.nf
        if p.W32 is None:
            total = float(np.prod([a.n for a in p.axes]))
            self.acc["mean"][sl] += blk.stats.sum / total
            self.acc["meansq"][sl] += blk.stats.sumsq / total
            return
        x = blk.data.reshape(nf, -1, blk.nc)
        rules = [("", p.W32, p.sqrtW32)] + [(f"_alt{j}", w, sw) for j, (w, sw)
                                             in enumerate(p.alt)]
        for suffix, W, sW in rules:
            if blk.rows is not None:
                n0 = p.axes[0].n
                W = W.reshape(n0, -1)[blk.rows].ravel()
                sW = sW.reshape(n0, -1)[blk.rows].ravel()
            self.acc["mean" + suffix][sl] += lane_sum(x * W[None, :, None])
            self.acc["meansq" + suffix][sl] += lane_sumsq(x * sW[None, :, None])

    def end_trajectory(self, traj):
        a = self.acc
        if a is not None:
            # quadrature error estimate: the largest difference to a lower-order rule
            for key in ("mean", "meansq"):
                alts = [a.pop(k) for k in list(a) if k.startswith(key + "_alt")]
                a[key + "_err"] = (np.max([np.abs(x - a[key]) for x in alts], axis=0)
                                   if alts else np.zeros_like(a[key]))
        super().end_trajectory(traj)


@reducer("divergence")
class Divergence(_PerTrajectory):
    """Per frame: ‖∇·u‖, ‖∇u‖ (all D² derivatives) and ‖u‖, quadrature-weighted L2."""

    @staticmethod
    def wants(ctx, field):
        if field.order != 1 or not _wants(ctx, field, ("divergence_free",)):
            return False
        return _div_mode(ctx.physics) is not None

    def block(self, blk):
        if blk.rows is not None:
            self.skipped = True
            return
        p = self.ctx.physics
        if self.acc is None:
            self.acc = {k: np.full(self.nt, np.nan) for k in ("div", "grad", "norm")}
        mode = _div_mode(p)
        k = max(1, int(self.ctx.options.limits.derivative_stride))
        t = np.arange(blk.t0, blk.t0 + blk.nf)
        pick = np.flatnonzero((t >= 1) & ((t - 1) % k == 0)) \
            if k > 1 and self.field.time_varying else \
            np.arange(blk.nf)
        if pick.size == 0:
            return
        x = blk.data.reshape(blk.nf, *[a.n for a in p.axes], self.D)
        if pick.size < blk.nf:
            x = x[pick]
        div, grad, norm = scratch.over_frames(
            lambda y: (_div_sphere if mode == "sphere" else _div_mixed)(y, p), x,
            scratch.physics_threads(self.ctx.options))
        idx = blk.t0 + pick
        self.acc["div"][idx], self.acc["grad"][idx], self.acc["norm"][idx] = div, grad, norm


def _div_mode(p) -> str | None:
    if not p.axes:
        return None
    kinds = [a.kind for a in p.axes]
    if len(kinds) == 2 and kinds[0] == EQUIANGULAR and kinds[1] == FOURIER:
        return "sphere"
    if any(k in (EQUIANGULAR, GAUSS, FOURIER_CLOSED) for k in kinds):
        return None
    return "mixed"


def _mixed_weights(axes, shape) -> np.ndarray:
    """Weights (flattened over the transformed spatial shape) such that Σ W |Y|² is the
    area mean of |y|²: Parseval on the FFT'd periodic axes (the real FFT's half spectrum
    counted twice, Nyquist once), normalised quadrature weights on the others."""
    per = [i for i, a in enumerate(axes) if a.kind == FOURIER]
    last = per[-1] if per else None
    W = np.ones(1)
    for i, a in enumerate(axes):
        if i in per:
            n = a.n
            w = np.full(shape[i], 1.0 / n ** 2)
            if i == last:
                w[1:] *= 2
                if n % 2 == 0:
                    w[-1] /= 2
        else:
            w = a.weights / a.weights.sum()
        W = np.multiply.outer(W, w).ravel()
    return W.astype(np.float32)


def _div_mixed(x: np.ndarray, p, workers: int = 1) -> tuple:
    """‖∇·u‖, ‖∇u‖, ‖u‖ per frame; x: (nf, *space, D) float32, every transform in float32.

    Derivatives along non-periodic axes are taken on the grid (Chebyshev: the folded
    differentiation matrix, DCTs above 512 nodes; others: differences) and their norms
    with the grid's quadrature weights; the components are Fourier-transformed along the
    periodic axes once, where ∂ is a product with i k and the norms of the periodic
    derivatives follow from Parseval. The divergence is assembled in that mixed space:
    only the diagonal derivatives ∂_b u_b along non-periodic axes are transformed too
    (one transform per non-periodic axis, not one per derivative). Chebyshev axes are
    held in the derivative's fold order (``AxisGrid.fold_order``) throughout: the norms
    do not depend on the order of the points, and the folded derivative reads and
    writes contiguous halves.
    """
    import scipy.fft as sf

    axes = p.axes
    D = len(axes)
    nf = x.shape[0]
    per = [i for i, a in enumerate(axes) if a.kind == FOURIER]
    fa = [1 + i for i in per]

    def fwd(y):
        return sf.rfftn(y, axes=fa, workers=workers) if per else y

    space = x.shape[1:-1]
    folds = {i: o for i in range(D) if i not in per
             and (o := axes[i].fold_order()) is not None}

    def fold(w, shape):  # flattened weights over ``shape``, in fold order
        w = w.reshape(shape)
        for i, o in folds.items():
            w = np.take(w, o, axis=i)
        return np.ascontiguousarray(w).ravel()

    cache = p.memo.setdefault("divergence", {})
    key = (space, tuple(a.kind for a in axes))
    if key not in cache:
        Wg = fold(q_mean_weights(axes).astype(np.float32), space)  # area-mean weights
        if per:
            shape = tuple(n // 2 + 1 if i == per[-1] else n for i, n in enumerate(space))
            W = fold(_mixed_weights(axes, shape), shape)
            ks = {}
            for i in per:
                a = axes[i]
                n = a.n
                k = (np.fft.rfftfreq(n, 1.0 / n) if i == per[-1]
                     else np.fft.fftfreq(n, 1.0 / n))
                k = k * (2 * np.pi / a.period)
                if n % 2 == 0:
                    k[n // 2] = 0.0  # the Nyquist mode has no derivative on the grid
                sh = [1] * D
                sh[i] = k.size
                ks[i] = k.reshape(sh).astype(np.float32)
            K2 = sum((k * k for k in ks.values()), np.zeros([1] * D, np.float32))
            K2 = np.broadcast_to(K2, shape).ravel().astype(np.float32)
            # weights of |Y|² on the float32 view of a complex array (re, im interleaved)
            cache[key] = (Wg, np.repeat(W, 2), np.repeat(W * K2, 2), ks)
        else:
            cache[key] = (Wg, None, None, {})
    Wg, sW, sWK, ks = cache[key]

    def wsq(y, w):  # Σ w |y|² per frame
        z = (y.view(np.float32) if np.iscomplexobj(y) else y).reshape(nf, -1)
        sq = np.multiply(z, z, out=scratch.buffer("div-sq", z.shape))
        return (sq @ w).astype(np.float64)

    # the components, contiguous and in fold order (work buffers: nothing here outlives
    # the call)
    comps = []
    for b in range(D):
        c = scratch.buffer(f"div-u{b}", x.shape[:-1])
        np.copyto(c, x[..., b])
        for i in folds:
            axes[i].into_fold_order(c, 1 + i)
        comps.append(c)
    norm = np.zeros(nf)
    grad = np.zeros(nf)
    diag = None  # Σ ∂_b u_b over the non-periodic axes, on the grid
    for b in range(D):
        norm += wsq(comps[b], Wg)
        for i in range(D):
            if i in per:
                continue
            first = i == b and diag is None
            g = axes[i].derivative(comps[b], 1 + i, out=scratch.buffer(
                "div-diag" if first else "div-d", comps[b].shape), folded=i in folds)
            grad += wsq(g, Wg)
            if first:
                diag = g
            elif i == b:
                diag += g
    if not per:
        for i, a in enumerate(axes):
            if a.tau_projector() is not None:
                diag = a.remove_tau(diag, 1 + i, inplace=True, folded=i in folds)
        return np.sqrt(wsq(np.ascontiguousarray(diag, dtype=np.float32), Wg)), \
            np.sqrt(grad), np.sqrt(norm)
    div = fwd(diag) if diag is not None else None
    for b in range(D):
        U = fwd(comps[b])
        grad += wsq(U, sWK)
        if b in per:
            U *= 1j * ks[b]
            div = U if div is None else np.add(div, U, out=div)
    div = np.ascontiguousarray(div, dtype=np.complex64)
    for i, a in enumerate(axes):
        if a.tau_projector() is not None:
            div = a.remove_tau(div, 1 + i, inplace=True, folded=i in folds)  # our own array
    return np.sqrt(wsq(div, sW)), np.sqrt(grad), np.sqrt(norm)


def _wnorm2(g: np.ndarray, p) -> np.ndarray:
    """Quadrature-weighted mean of g² per frame (real data on the grid)."""
    nf = g.shape[0]
    if p.sqrtW32 is None:
        return lane_sumsq(g.reshape(nf, -1, 1))[:, 0] / (g[0].size)
    return lane_sumsq((g.reshape(nf, -1) * p.sqrtW32[None, :]).reshape(nf, -1, 1))[:, 0]


def _div_sphere(x: np.ndarray, p) -> tuple:
    theta = p.axes[0]
    ut, up = x[..., 0], x[..., 1]
    a, b = sphere_divergence(ut, up, theta, 1, 2)
    # the other two gradient terms, for the scale: (1/sin θ) ∂θ(sin θ u_φ), (1/sin θ) ∂φ u_θ
    c, _ = sphere_divergence(up, None, theta, 1, 2)
    _, d = sphere_divergence(None, ut, theta, 1, 2)
    terms = [np.asarray(t, dtype=np.float32) for t in (a, b, c, d)]
    grad = sum(_wnorm2(t, p) for t in terms)
    div = _wnorm2((terms[0] + terms[1]).astype(np.float32), p)
    norm = _wnorm2(np.ascontiguousarray(ut), p) + _wnorm2(np.ascontiguousarray(up), p)
    return np.sqrt(div), np.sqrt(grad), np.sqrt(norm)


def _sketch_vectors(p, rows: slice | None) -> np.ndarray:
    """The (points, SKETCH_K) float64 Gaussian projection vectors of the file's grid, for
    the points of ``rows`` of the first axis (all: None); drawn per row of the first axis
    from a seeded generator, so any slab gets the same vectors; kept for frames up to
    ``SKETCH_MAX_BYTES``."""
    n0 = p.axes[0].n
    per_row = int(np.prod([a.n for a in p.axes[1:]]))
    if n0 * per_row * SKETCH_K * 8 <= SKETCH_MAX_BYTES:
        W = p.memo.get("sketch")
        if W is None:
            W = p.memo["sketch"] = _draw_rows(range(n0), per_row)
        return W if rows is None else W.reshape(n0, per_row, SKETCH_K)[rows].reshape(
            -1, SKETCH_K)
    return _draw_rows(range(n0)[rows or slice(None)], per_row)


def _draw_rows(rows, per_row: int) -> np.ndarray:
    return np.concatenate([np.random.default_rng((SKETCH_SEED, r)).standard_normal(
        (per_row, SKETCH_K)) for r in rows])


def _sketch(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Per frame, the projections of x (nf, points) on the columns of W, in float64."""
    return np.stack([x[i].astype(np.float64) @ W for i in range(x.shape[0])])


def _trace_targets(ctx) -> set[str]:
    return {v.equals for invs in ctx.physics.invariants.values() for v in invs
            if v.kind == "trace" and v.equals is not None}


@reducer("trace_target")
class TraceTarget(_PerTrajectory):
    """A t0 field that a t2 field's trace equals: per frame, its sketch (the projections
    ``_sketch_vectors``) and its mean square over the grid points."""

    @staticmethod
    def wants(ctx, field):
        return (field.order == 0 and ctx.physics.frame_matches(field)
                and field.path in _trace_targets(ctx))

    def block(self, blk):
        if self.acc is None:
            self.acc = {"sketch": np.zeros((self.nt, SKETCH_K)), "sumsq": np.zeros(self.nt),
                        "points": 0}
        sl = slice(blk.t0, blk.t0 + blk.nf)
        x = blk.data.reshape(blk.nf, -1)
        self.acc["sketch"][sl] += _sketch(x, _sketch_vectors(self.ctx.physics, blk.rows))
        self.acc["sumsq"][sl] += blk.stats.sumsq[:, 0]
        if blk.t0 == 0:
            self.acc["points"] += x.shape[1]


@reducer("tensor")
class Tensor(_PerTrajectory):
    """t2 fields: per frame, the largest |T − Tᵀ| and |T + Tᵀ| (entrywise), the largest
    |T|, the smallest eigenvalue of the symmetric part, the largest |tr T| and the
    sketch of tr T (for a ``trace`` that equals another field)."""

    KINDS = ("symmetric", "antisymmetric", "positive_definite", "trace", "traceless")

    @staticmethod
    def wants(ctx, field):
        return field.order == 2 and _wants(ctx, field, Tensor.KINDS)

    def block(self, blk):
        if self.acc is None:
            self.acc = {"asym": np.zeros(self.nt), "sym": np.zeros(self.nt),
                        "max": np.zeros(self.nt), "eig": np.full(self.nt, np.inf),
                        "trace": np.zeros(self.nt), "sketch": np.zeros((self.nt, SKETCH_K))}
        D = self.D
        T = blk.data.reshape(blk.nf, -1, D * D)
        sl = slice(blk.t0, blk.t0 + blk.nf)
        a = self.acc
        kinds = frozenset(v.kind for v in self.ctx.physics.for_field(self.field.path))
        big, asym, sym, eig = scratch.over_frames(lambda y: _tensor_frames(y, D, kinds), T,
                                                  scratch.physics_threads(self.ctx.options))
        np.maximum(a["max"][sl], big, out=a["max"][sl])
        np.maximum(a["asym"][sl], asym, out=a["asym"][sl])
        np.maximum(a["sym"][sl], sym, out=a["sym"][sl])
        np.minimum(a["eig"][sl], eig, out=a["eig"][sl])
        if kinds & {"trace", "traceless"}:
            tr = T[:, :, 0].copy()
            for i in range(1, D):
                tr += T[:, :, i * D + i]
            np.maximum(a["trace"][sl], _absmax(tr), out=a["trace"][sl])
            if any(v.equals for v in self.ctx.physics.for_field(self.field.path, "trace")):
                a["sketch"][sl] += _sketch(tr, _sketch_vectors(self.ctx.physics, blk.rows))


def _tensor_frames(T: np.ndarray, D: int, kinds) -> tuple:
    """Per frame of T (nf, P, D*D): max |T|, max |T_ij − T_ji|, max |T_ij + T_ji| and the
    smallest eigenvalue of the symmetric part (0, 0, +inf where not asked for)."""
    nf = T.shape[0]
    off = [(i * D + j, j * D + i) for i in range(D) for j in range(i + 1, D)]
    asym, sym, eig = np.zeros(nf), np.zeros(nf), np.full(nf, np.inf)
    with np.errstate(all="ignore"):
        big = np.maximum(T.max(axis=(1, 2)), -T.min(axis=(1, 2)))
        tmp = scratch.buffer("tensor-ij", T.shape[:2])
        if "symmetric" in kinds:
            for ij, ji in off:
                asym = np.maximum(asym, _absmax(np.subtract(T[:, :, ij], T[:, :, ji], out=tmp)))
        if "antisymmetric" in kinds:
            for ij, ji in off + [(i * D + i, i * D + i) for i in range(D)]:
                sym = np.maximum(sym, _absmax(np.add(T[:, :, ij], T[:, :, ji], out=tmp)))
        if "positive_definite" in kinds:
            eig = _min_eig(T, D)
    return big, asym, sym, eig


def _absmax(x: np.ndarray) -> np.ndarray:
    """max |x| per frame (row), without the temporary of np.abs."""
    return np.maximum(x.max(axis=1), -x.min(axis=1))


def _min_eig(T: np.ndarray, D: int) -> np.ndarray:
    """Smallest eigenvalue of the symmetric part per frame; T: (nf, P, D*D) → (nf,)."""
    if D == 1:
        return T[:, :, 0].min(axis=1)
    if D == 2:  # λ_min = (a + d)/2 − sqrt(((a − d)/2)² + b_s²), in place (hypot is slow)
        a, d = T[:, :, 0], T[:, :, 3]
        b = np.add(T[:, :, 1], T[:, :, 2], out=scratch.buffer("eig-b", a.shape))
        b *= 0.5
        np.multiply(b, b, out=b)
        h = np.subtract(a, d, out=scratch.buffer("eig-h", a.shape))
        h *= 0.5
        np.multiply(h, h, out=h)
        h += b
        np.sqrt(h, out=h)
        lam = np.add(a, d, out=b)
        lam *= 0.5
        lam -= h
        return lam.min(axis=1)
    S = T.reshape(*T.shape[:2], D, D).astype(np.float64)
    S = 0.5 * (S + np.swapaxes(S, -1, -2))
    return np.linalg.eigvalsh(S)[..., 0].min(axis=1)


@reducer("range")
class Range(_PerTrajectory):
    """Smallest and largest value per frame and component."""

    @staticmethod
    def wants(ctx, field):
        return _wants(ctx, field, ("non_negative", "bounded"))

    def block(self, blk):
        if self.acc is None:
            self.acc = {"min": np.full((self.nt, blk.nc), np.inf),
                        "max": np.full((self.nt, blk.nc), -np.inf)}
        x = blk.data.reshape(blk.nf, -1, blk.nc)
        sl = slice(blk.t0, blk.t0 + blk.nf)
        np.minimum(self.acc["min"][sl], x.min(axis=1), out=self.acc["min"][sl])
        np.maximum(self.acc["max"][sl], x.max(axis=1), out=self.acc["max"][sl])


# -- reporting helpers ----------------------------------------------------------------------

def _curve(ctx, traj, values: np.ndarray, what: str) -> dict:
    """A per-frame curve for the JSON report (max-pooled to at most CURVE_POINTS)."""
    v = np.asarray(values, dtype=np.float64)
    idx = np.arange(v.size)
    if v.size > CURVE_POINTS:
        step = int(np.ceil(v.size / CURVE_POINTS))
        pad = (-v.size) % step
        vv = np.concatenate([v, np.full(pad, np.nan)]).reshape(-1, step)
        with np.errstate(all="ignore"):
            v = np.nanmax(vv, axis=1)
        idx = idx[::step]
    return {"quantity": what, "trajectory": traj, "frame": idx.tolist(),
            "value": [float(x) if np.isfinite(x) else None for x in v]}


def _traj_txt(traj) -> str:
    return f", trajectory {traj}" if traj is not None else ""


def _worst(worst, rel: np.ndarray, tol: float, traj):
    """The larger of ``worst`` and this trajectory's largest per-frame ``rel`` above
    ``tol``: (value, trajectory, frame, the frames above tol), or ``worst``."""
    if (rel > tol).any():
        k = int(np.argmax(rel))
        if worst is None or rel[k] > worst[0]:
            return float(rel[k]), traj, k, np.flatnonzero(rel > tol)
    return worst


def _reg(traj, frames):
    fs = FrameSet.of(frames)
    return fs.region(traj), fs


@check("WF410", level=4, severity="error", needs=("integrals",),
       fix="a conserved integral drifts: check the solver's conservation (time step, "
           "dealiasing, a forcing with nonzero mean) or the card's invariant")
def conserved_integral(ctx):
    """A conserved integral (tracer, mass, momentum) drifts.

    Per trajectory and component: the quadrature-weighted mean m(t) against m(t_1), the
    first frame after the initial condition, relative to the field's largest RMS over
    the trajectory. (The stored initial condition need not satisfy the solver's
    constraints, e.g. a velocity that is not yet divergence-free: the first step's
    projection may legitimately move a mean; from then on it is conserved.) Tolerance: the card's, but
    never below 8 ε32 (the rounding of a float32 field's mean: each value is stored to
    ε32/2 relative, and the lane sums add ~1e-8). The weights are those of the grid:
    uniform on periodic axes (exact for band-limited data), Fejér/Clenshaw–Curtis on
    Chebyshev axes, sin θ on the sphere; on grids without an exact rule (uniform with
    walls: Gregory's rule; non-uniform: trapezoid) the difference to a lower-order rule
    is taken as the quadrature error and allowed on top. The finding gives the worst
    drift, where and when; the drift curve of that trajectory goes into the JSON report.
    """
    p = ctx.physics
    for f, r in field_results(ctx, "integrals"):
        invs = p.for_field(f.path, "conserved_mean")
        if not invs:
            continue
        tol = max(invs[0].tolerance, MEAN_FLOOR)
        labels = r["labels"]
        worst = None
        for rec in r["records"]:
            m, ms = rec["mean"], rec["meansq"]
            scale = np.sqrt(np.max(ms, axis=0))  # (nc,)
            ref = 1 if m.shape[0] >= 3 else 0
            qerr = rec["mean_err"] + rec["mean_err"][ref]  # non-spectral grids only
            with np.errstate(all="ignore"):
                drift = np.maximum(np.abs(m - m[ref]) - qerr, 0) / \
                    np.where(scale > 0, scale, np.inf)
            drift = np.where(np.isfinite(drift), drift, 0.0)
            drift[:ref] = 0.0
            k, c = np.unravel_index(int(np.argmax(drift)), drift.shape)
            if drift[k, c] > tol and (worst is None or drift[k, c] > worst[0]):
                worst = (float(drift[k, c]), rec["traj"], int(k), int(c), drift.max(axis=1),
                         float(m[ref, c]), float(m[k, c]), np.flatnonzero((drift > tol).any(1)),
                         ref)
        if worst is None:
            continue
        d, traj, k, c, curve, m0, mk, bad, ref = worst
        reg, fs = _reg(traj, bad)
        yield Issue(f.path, f"{labels[c]}: the mean drifts by {d:.2g} of the field's RMS "
                    f"(from {m0:.7g} at frame {ref} to {mk:.7g}) at "
                    f"{ctx.time_at(traj, k)}{_traj_txt(traj)}; "
                    f"{fs.count} frame(s) beyond the tolerance {tol:.2g}",
                    expected=f"relative drift <= {tol:.2g}",
                    observed={"drift": d, "frame": k, "mean_0": m0, "mean": mk},
                    region=reg, curve=_curve(ctx, traj, curve, "relative drift of the mean"))


@check("WF411", level=4, severity="error", needs=("integrals",),
       fix="subtract the mean (the gauge, e.g. integ(p) = 0) or fix the card")
def zero_mean(ctx):
    """A field declared zero-mean (a pressure gauge) has a nonzero mean.

    Per frame after the first: |weighted mean| / RMS above the card's tolerance (at
    least 8 ε32), after allowing the quadrature error estimate on grids without an exact
    rule.
    """
    p = ctx.physics
    for f, r in field_results(ctx, "integrals"):
        invs = p.for_field(f.path, "zero_mean")
        if not invs:
            continue
        tol = max(invs[0].tolerance, MEAN_FLOOR)
        worst = None
        for rec in r["records"]:
            m, ms = rec["mean"], rec["meansq"]
            rms = np.sqrt(ms)
            with np.errstate(all="ignore"):
                rel = np.where(rms > 0, np.maximum(np.abs(m) - rec["mean_err"], 0) / rms, 0.0)
            if f.time_varying:
                rel[0] = 0.0  # the initial condition
            rel = np.where(np.isfinite(rel), rel, 0.0)
            k, c = np.unravel_index(int(np.argmax(rel)), rel.shape)
            if rel[k, c] > tol and (worst is None or rel[k, c] > worst[0]):
                worst = (float(rel[k, c]), rec["traj"], int(k), int(c),
                         np.flatnonzero((rel > tol).any(axis=1)), rel.max(axis=1))
        if worst is None:
            continue
        v, traj, k, c, bad, curve = worst
        reg, fs = _reg(traj, bad)
        yield Issue(f.path, f"{r['labels'][c]}: mean is {v:.2g} of the RMS at "
                    f"{ctx.time_at(traj, k)}{_traj_txt(traj)} ({fs.count} frame(s) beyond "
                    f"{tol:.2g})", expected=f"|mean|/RMS <= {tol:.2g}",
                    observed={"mean_over_rms": v, "frame": k}, region=reg,
                    curve=_curve(ctx, traj, curve, "|mean| / RMS"))


@check("WF412", level=4, severity="error", needs=("divergence",),
       fix="project the velocity onto divergence-free fields (the solver's pressure "
           "constraint) or fix the card")
def divergence_free(ctx):
    """A field declared divergence-free has a divergence.

    Per frame after the first: ‖∇·u‖ / ‖∇u‖ (quadrature-weighted L2 norms, ‖∇u‖ over
    all D² derivatives), with spectral derivatives where the grid allows: FFT on
    periodic axes (Parseval, exact for band-limited data), the differentiation matrix of
    the Chebyshev interpolant, the double-Fourier extension on the sphere; second-order
    differences on other grids. Tolerance: the card's, but never below the float32
    rounding floor 8 ε32 k_max ‖u‖/‖∇u‖ (rounding noise differentiated at the largest
    resolved wavenumber) nor, on non-spectral grids, the truncation of second-order
    differences (k dx)²/3 with k = ‖∇u‖/‖u‖. On Chebyshev axes the divergence's two
    highest Chebyshev-T coefficients (a multiple of U_{n−1}, U_{n−2}: where a Dedalus
    first-order tau formulation lifts the constraint's tau term) are removed first.
    ``[validate.limits] derivative_stride = k`` checks one frame in k.
    """
    p = ctx.physics
    for f, r in field_results(ctx, "divergence"):
        invs = p.for_field(f.path, "divergence_free")
        if not invs or not p.axes:
            continue
        kmax = max(a.k_max for a in p.axes)
        spectral = all(a.spectral or a.kind == EQUIANGULAR for a in p.axes)
        dx = max(float(np.ptp(a.nodes)) / max(a.n - 1, 1) for a in p.axes)
        worst = None
        for rec in r["records"]:
            div, grad, norm = rec["div"], rec["grad"], rec["norm"]
            with np.errstate(all="ignore"):
                rel = np.where(grad > 0, div / grad, 0.0)  # NaN: a frame not checked
                floor = DIV_FLOOR * kmax * np.where(grad > 0, norm / grad, 0.0)
                if not spectral:
                    floor = np.maximum(floor, (np.where(norm > 0, grad / norm, 0) * dx) ** 2
                                       / 3)
                tol = np.maximum(invs[0].tolerance, floor)
            rel = np.where(np.isfinite(rel), rel, 0.0)
            if f.time_varying:
                rel[0] = 0.0  # the initial condition
            bad = rel > tol
            if bad.any():
                k = int(np.argmax(np.where(bad, rel / tol, 0)))
                if worst is None or rel[k] > worst[0]:
                    worst = (float(rel[k]), rec["traj"], k, float(tol[k]),
                             np.flatnonzero(bad), rel)
        if r.get("skipped"):
            ctx.note(f"{f.path}: frames larger than the block budget: divergence not "
                     "checked (to check it, raise [validate.limits] block_bytes above one "
                     "frame: 256 MiB for a 256³ vector frame)")
        stride = ctx.options.limits.derivative_stride
        if stride > 1:
            ctx.note(f"{f.path}: divergence checked on one frame in {stride} "
                     "(limits.derivative_stride)")
        if worst is None:
            continue
        v, traj, k, tol, bad, curve = worst
        reg, fs = _reg(traj, bad)
        yield Issue(f.path, f"divergence is {v:.2g} of the velocity gradient at "
                    f"{ctx.time_at(traj, k)}{_traj_txt(traj)} ({fs.count} frame(s) beyond "
                    f"the tolerance {tol:.2g})", expected=f"|div u| / |grad u| <= {tol:.2g}",
                    observed={"relative_divergence": v, "frame": k}, region=reg,
                    curve=_curve(ctx, traj, curve, "|div u| / |grad u|"))


@check("WF413", level=4, severity="error", needs=("tensor",),
       fix="store the symmetric (antisymmetric) tensor with T_ij = T_ji (T_ij = -T_ji), "
           "or clear the flag / the card's invariant")
def tensor_symmetry(ctx):
    """A t2 field flagged or declared symmetric (antisymmetric) is not.

    The Well's ``@symmetric``/``@antisymmetric`` flags or a card's invariant: max
    |T_ij ∓ T_ji| / max |T| per frame above the tolerance (the card's, 1e-6 for the
    flags; at least 4 ε32)."""
    p = ctx.physics
    for f, r in field_results(ctx, "tensor"):
        for kind, key in (("symmetric", "asym"), ("antisymmetric", "sym")):
            invs = p.for_field(f.path, kind)
            if not invs:
                continue
            tol = max(invs[0].tolerance, TENSOR_FLOOR)
            worst = None
            for rec in r["records"]:
                with np.errstate(all="ignore"):
                    rel = np.where(rec["max"] > 0, rec[key] / rec["max"], 0.0)
                worst = _worst(worst, np.where(np.isfinite(rel), rel, 0.0), tol, rec["traj"])
            if worst is None:
                continue
            v, traj, k, bad = worst
            reg, fs = _reg(traj, bad)
            yield Issue(f.path, f"declared {kind} ({invs[0].source}) but |T_ij "
                        f"{'-' if kind == 'symmetric' else '+'} T_ji| reaches {v:.2g} of max|T| "
                        f"at {ctx.time_at(traj, k)}{_traj_txt(traj)} ({fs.count} frame(s))",
                        expected=f"<= {tol:.2g}", observed={"relative": v, "frame": k},
                        region=reg)


@check("WF414", level=4, severity="error", needs=("tensor",),
       fix="a conformation tensor must stay positive definite: check the solver "
           "(log-conformation, diffusion) or the card")
def positive_definite(ctx):
    """A t2 field declared positive definite (a conformation tensor) is not.

    Per frame, the smallest eigenvalue of its symmetric part below −tolerance × max|T|
    (closed form for 2 × 2, LAPACK otherwise)."""
    p = ctx.physics
    for f, r in field_results(ctx, "tensor"):
        invs = p.for_field(f.path, "positive_definite")
        if not invs:
            continue
        tol = max(invs[0].tolerance, TENSOR_FLOOR)
        worst = None
        for rec in r["records"]:
            with np.errstate(all="ignore"):
                rel = np.where(rec["max"] > 0, rec["eig"] / rec["max"], 0.0)
            rel = np.where(np.isfinite(rel), rel, 0.0)
            if (rel < -tol).any():
                k = int(np.argmin(rel))
                if worst is None or rel[k] < worst[0]:
                    worst = (float(rel[k]), rec["traj"], k, float(rec["eig"][k]),
                             np.flatnonzero(rel < -tol))
        if worst is None:
            continue
        v, traj, k, eig, bad = worst
        reg, fs = _reg(traj, bad)
        yield Issue(f.path, f"smallest eigenvalue {eig:.3g} ({v:.2g} of max|T|) at "
                    f"{ctx.time_at(traj, k)}{_traj_txt(traj)} ({fs.count} frame(s))",
                    expected=f">= {-tol:.2g} max|T|", observed={"min_eigenvalue": eig,
                                                                "frame": k}, region=reg)


#: WF415's fix, per invariant and the side of the bound the data cross
RANGE_FIX = {
    ("non_negative", "below"): "a concentration, density or height cannot be negative: check "
                               "the solver (positivity, time step) or the card",
    ("bounded", "below"): "the field falls below its lower bound (a maximum principle: no "
                          "value below the smallest boundary or initial value): check the "
                          "solver (overshoot near steep fronts, time step) or the card's bounds",
    ("bounded", "above"): "the field overshoots its upper bound (a maximum principle: no "
                          "value above the largest boundary or initial value): check the "
                          "solver (Gibbs overshoot near steep fronts, time step) or the "
                          "card's bounds",
}
RANGE_FIX["non_negative", "above"] = RANGE_FIX["non_negative", "below"]  # not reached


@check("WF415", level=4, severity="error", needs=("range",),
       fix="keep the field in its declared range (non-negative: no negative values; bounded: "
           "within [low, high]): check the solver (positivity, overshoot, time step) or the "
           "card")
def field_range(ctx):
    """A field declared non-negative or bounded leaves its range.

    Per frame, min < low − tol·S or max > high + tol·S, with S = high − low for a
    ``bounded`` field (bounds from the card, or the range of its wall values) and max|f|
    of the frame for a ``non_negative`` one (tol = the card's)."""
    p = ctx.physics
    for f, r in field_results(ctx, "range"):
        for inv in p.for_field(f.path, "non_negative", "bounded"):
            lo, hi = (0.0, None) if inv.kind == "non_negative" else (inv.bounds or (None, None))
            if lo is None and hi is None:
                continue
            worst = None
            for rec in r["records"]:
                mn, mx = rec["min"], rec["max"]
                S = (hi - lo) if lo is not None and hi is not None else \
                    np.maximum(np.abs(mn), np.abs(mx))
                slack = inv.tolerance * S
                under = (lo - mn - slack) if lo is not None else np.full(mn.shape, -np.inf)
                over = (mx - hi - slack) if hi is not None else np.full(mx.shape, -np.inf)
                ex = np.maximum(under, over)
                ex = np.where(np.isfinite(ex), ex, -np.inf)
                if (ex > 0).any():
                    k, c = np.unravel_index(int(np.argmax(ex)), ex.shape)
                    val = mn[k, c] if under[k, c] >= over[k, c] else mx[k, c]
                    if worst is None or ex[k, c] > worst[0]:
                        worst = (float(ex[k, c]), rec["traj"], int(k), int(c), float(val),
                                 np.flatnonzero((ex > 0).any(axis=1)))
            if worst is None:
                continue
            _, traj, k, c, val, bad = worst
            reg, fs = _reg(traj, bad)
            want = ">= 0" if inv.kind == "non_negative" else f"in [{lo:g}, {hi:g}]"
            side = "below" if lo is not None and val < lo else "above"
            yield Issue(f.path, f"{r['labels'][c]} = {val:.4g} at "
                        f"{ctx.time_at(traj, k)}{_traj_txt(traj)}: declared {inv.kind} "
                        f"({want}, tolerance {inv.tolerance:g}); {fs.count} frame(s)",
                        expected=want, observed={"value": val, "frame": k}, region=reg,
                        fix=RANGE_FIX[inv.kind, side])


@check("WF416", level=4, severity="error", needs=("integrals",),
       fix="an unforced dissipative system cannot gain energy: check the time step, the "
           "forcing or the card")
def energy_non_increasing(ctx):
    """The energy of a field declared non-increasing (dissipative, unforced) grows.

    The quadrature-weighted mean of |u|²/2 from one frame to the next, relative, above
    the card's tolerance (at least 16 ε32), after allowing the quadrature error estimate
    on grids without an exact rule."""
    p = ctx.physics
    for f, r in field_results(ctx, "integrals"):
        invs = p.for_field(f.path, "energy_non_increasing")
        if not invs:
            continue
        tol = max(invs[0].tolerance, ENERGY_FLOOR)
        worst = None
        for rec in r["records"]:
            E = 0.5 * rec["meansq"].sum(axis=1)
            Eerr = 0.5 * rec["meansq_err"].sum(axis=1)
            if E.size < 2:
                continue
            with np.errstate(all="ignore"):
                rise = np.where(E[:-1] > 0, np.maximum(E[1:] - E[:-1] - Eerr[1:] - Eerr[:-1],
                                                       0) / E[:-1], 0.0)
            rise = np.where(np.isfinite(rise), rise, 0.0)
            if (rise > tol).any():
                k = int(np.argmax(rise))
                if worst is None or rise[k] > worst[0]:
                    worst = (float(rise[k]), rec["traj"], k + 1, np.flatnonzero(rise > tol) + 1,
                             E)
        if worst is None:
            continue
        v, traj, k, bad, E = worst
        reg, fs = _reg(traj, bad)
        tk = ctx.time_of(traj, k)
        yield Issue(f.path, f"energy grows by {v:.2g} (relative) from frame {k - 1} to {k}"
                    + (f" (t = {tk:.6g})" if tk is not None else "")
                    + f"{_traj_txt(traj)}; {fs.count} frame(s) grow "
                    f"beyond {tol:.2g}", expected=f"relative growth <= {tol:.2g}",
                    observed={"growth": v, "frame": k}, region=reg,
                    curve=_curve(ctx, traj, E, "energy (area mean of |u|^2/2)"))


@check("WF417", level=4, severity="error", needs=("tensor", "trace_target"),
       fix="store the tensor whose trace the card fixes (a strain rate's is the velocity's "
           "divergence, a second moment's the concentration), or correct the card")
def tensor_trace(ctx):
    """A t2 field declared traceless, or with a trace equal to another field, is not.

    Traceless: max |tr T| / max |T| per frame above the tolerance. ``trace`` equal to a
    t0 field f: ‖tr T − f‖ / ‖f‖ per frame (grid-point RMS; the difference estimated
    from the two fields' sketches) above the tolerance. Both at least 4 ε32."""
    p = ctx.physics
    targets = ctx.results.get("trace_target", {})
    for f, r in field_results(ctx, "tensor"):
        for inv in p.for_field(f.path, "trace", "traceless"):
            tol = max(inv.tolerance, TENSOR_FLOOR)
            target = targets.get(inv.equals) if inv.equals else None
            if inv.equals and target is None:
                continue  # not on the file's grid: no sketch
            by_traj = {rec["traj"]: rec for rec in target["records"]} if target else {}
            worst = None
            for rec in r["records"]:
                with np.errstate(all="ignore"):
                    if target is None:
                        rel = np.where(rec["max"] > 0, rec["trace"] / rec["max"], 0.0)
                    else:
                        t = by_traj.get(rec["traj"])
                        if t is None or not t["points"]:
                            continue
                        diff = rec["sketch"] - t["sketch"]
                        est = np.sqrt((diff**2).mean(axis=1) / t["points"])
                        rms = np.sqrt(t["sumsq"] / t["points"])
                        rel = np.where(rms > 0, est / rms, np.where(est > 0, np.inf, 0.0))
                worst = _worst(worst, np.where(np.isnan(rel), 0.0, rel), tol, rec["traj"])
            if worst is None:
                continue
            v, traj, k, bad = worst
            reg, fs = _reg(traj, bad)
            if inv.equals:
                name = inv.equals.rsplit("/", 1)[-1]
                what = (f"declared tr T = {name} ({inv.source}) but |tr T - {name}| (RMS) "
                        f"reaches {v:.2g} of the RMS of {name}")
            else:
                what = (f"declared {inv.kind} ({inv.source}) but |tr T| reaches {v:.2g} of "
                        "max|T|")
            yield Issue(f.path, f"{what} at {ctx.time_at(traj, k)}{_traj_txt(traj)} "
                        f"({fs.count} frame(s))", expected=f"<= {tol:.2g}",
                        observed={"relative": v, "frame": k}, region=reg)
