"""See the data: ``wellforge plot FILE --field NAME`` and the dataset card's previews.

One picture per grid type, with the geometry right:

- Cartesian (uniform or Chebyshev axes): x to the right, y up, cells drawn at their true
  positions (``pcolormesh`` on edges halfway between points, so a Chebyshev axis shows its
  clustering at the walls) and equal aspect unless the domain is very elongated;
  a 1-D file is a line plot; a 3-D file is a slice (middle of the last axis or ``--slice``),
  or with ``--slice orthogonal`` the three mid-planes through the centre at one time.
- Sphere (``theta`` colatitude, ``phi`` longitude; ``equiangular``/``spherical`` files):
  a longitude–latitude map (north up, 0–360° east) or a Mollweide projection.

PNG: a row of panels at the chosen times; GIF: one frame per time. The output has exactly
the requested pixel size. A vector or tensor field is shown as its magnitude (or a
component: ``velocity_x``). matplotlib is imported only here (extra ``wellforge[plot]``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np

from wellforge.errors import ConfigError, InputRefused

HELP = {
    "plot": "plot a field of a Well file: PNG panels at chosen times or an animated GIF "
            "(Cartesian, Chebyshev and spherical grids)",
}

MAX_GIF_FRAMES = 200


@dataclass
class Selection:
    """What to draw: a field (or component / magnitude) of one trajectory."""

    label: str
    field: str
    order: int
    component: tuple[int, ...] | None  # None: magnitude for order > 0


def _mpl():
    try:
        import matplotlib
    except ImportError:
        raise ConfigError("plotting needs matplotlib: pip install 'wellforge[plot]'") from None
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure


def select(info, name: str) -> Selection:
    """Resolve ``name``: a field, or a component name as the Well's loader names them."""
    from .spec import component_names

    choices = {}
    for f in info.fields:
        choices[f.name] = Selection(f.name if f.order == 0 else f"|{f.name}|", f.name,
                                    f.order, None if f.order else ())
        if f.order:
            D = len(info.spatial_dims)
            idx = list(np.ndindex(*(D,) * f.order))
            for cname, ix in zip(component_names(f.name, f.order, info.spatial_dims), idx):
                choices.setdefault(cname, Selection(cname, f.name, f.order, tuple(ix)))
    if name not in choices:
        raise ConfigError(f"--field {name}: not in {info.path}; fields: "
                          f"{', '.join(choices)}")
    return choices[name]


def _frames(fh, info, sel: Selection, traj: int, times: list[int]) -> np.ndarray:
    """(len(times),) + spatial shape, float64."""
    fi = info.field(sel.field)
    d = fh[fi.path]
    lead = []
    if fi.sample_varying:
        if not 0 <= traj < d.shape[0]:
            raise ConfigError(f"--traj {traj}: the file has {d.shape[0]} trajectories")
        lead.append(traj)
    out = []
    for k in times:
        a = d[tuple(lead + ([k] if fi.time_varying else []))].astype(np.float64)
        if sel.order:
            a = (np.sqrt(np.sum(a.reshape(a.shape[:a.ndim - sel.order] + (-1,)) ** 2, -1))
                 if sel.component is None else a[(Ellipsis, *sel.component)])
        out.append(a)
    return np.stack(out)


def _edges(c: np.ndarray) -> np.ndarray:
    """Cell edges halfway between points (the first and last cells mirrored)."""
    c = np.asarray(c, dtype=np.float64)
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def _norm(data: np.ndarray):
    lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    if lo < 0 < hi and min(-lo, hi) > 0.2 * max(-lo, hi):
        m = max(-lo, hi)
        return "RdBu_r", -m, m
    if hi == lo:
        hi, lo = hi + 0.5 * (abs(hi) or 1.0), lo - 0.5 * (abs(lo) or 1.0)
    return "viridis", lo, hi


def _sphere_axes(info) -> tuple[int, int] | None:
    dims = list(info.spatial_dims)
    if "theta" in dims and "phi" in dims:
        return dims.index("theta"), dims.index("phi")
    return None


def _reduce(info, frames: np.ndarray, slice_: str | None) -> tuple[np.ndarray, list[str], str]:
    """Frames with at most two spatial axes left (slices of 3-D data); their axis names and
    a note on the slice."""
    dims = list(info.spatial_dims)
    if len(dims) <= 2 and not slice_:
        return frames, dims, ""
    sph = _sphere_axes(info)
    keep = [dims[i] for i in sph] if sph else dims[:2]
    if slice_:
        ax, eq, idx = slice_.partition("=")
        if not eq or ax not in dims:
            raise ConfigError(f"--slice {slice_!r}: expected AXIS=INDEX with AXIS one of "
                              f"{', '.join(dims)}")
        drop = [ax]
        keep = [d for d in dims if d != ax][:2]
    else:
        drop = [d for d in dims if d not in keep]
        idx = None
    notes = []
    for d in drop:
        i = dims.index(d)
        n = frames.shape[1 + i]
        j = n // 2 if idx is None else int(idx)
        if not -n <= j < n:
            raise ConfigError(f"--slice {d}={j}: axis {d} has {n} points")
        frames = np.take(frames, j, axis=1 + i)
        notes.append(f"{d} = {float(info.coords[d][j]):.4g}")
        dims.pop(i)
    return frames, dims, ", ".join(notes)


ORTHOGONAL = "orthogonal"


def _mid_planes(info, frame: np.ndarray) -> list[tuple[np.ndarray, list[str], str]]:
    """The three planes through the centre of a 3-D frame: (data, its two axes, the
    plane), each axis normal to one of them, the normal axis at its middle point."""
    dims = list(info.spatial_dims)
    if len(dims) != 3:
        raise ConfigError(f"--slice {ORTHOGONAL}: needs 3-D data; {info.path} has "
                          f"{len(dims)} spatial dimension(s) ({', '.join(dims)})")
    planes = []
    for i in (2, 1, 0):
        j = frame.shape[i] // 2
        keep = [d for k, d in enumerate(dims) if k != i]
        planes.append((np.take(frame, j, axis=i), keep,
                       f"{dims[i]} = {float(info.coords[dims[i]][j]):.4g}"))
    return planes


def _parse_size(size: str) -> tuple[int, int]:
    w, sep, h = size.lower().partition("x")
    try:
        w, h = int(w), int(h)
    except ValueError:
        raise ConfigError(f"--size {size!r}: expected WIDTHxHEIGHT in pixels, e.g. 800x400"
                          ) from None
    if not sep or not (16 <= w <= 10000 and 16 <= h <= 10000):
        raise ConfigError(f"--size {size!r}: expected WIDTHxHEIGHT, each 16 … 10000 pixels")
    return w, h


def _times(spec: str | None, n: int, gif: bool) -> list[int]:
    if spec is None:
        if gif:
            return list(np.unique(np.linspace(0, n - 1, min(n, MAX_GIF_FRAMES)).astype(int)))
        return list(np.unique(np.linspace(0, n - 1, min(n, 4)).round().astype(int)))
    out = []
    for s in spec.split(","):
        s = s.strip()
        try:
            if ":" in s:
                out += list(range(n))[slice(*[int(p) if p else None for p in s.split(":")])]
                continue
            k = int(s)
        except ValueError:
            raise ConfigError(f"--times {spec!r}: expected time indices like 0,5,-1 or a "
                              "range 0:50:5") from None
        if not -n <= k < n:
            raise ConfigError(f"--times {k}: the file has {n} stored times")
        out.append(k % n)
    if not out:
        raise ConfigError(f"--times {spec!r}: selects no time")
    return out


class Plot:
    """A figure of exactly ``size`` pixels with one panel per frame (or one animated
    panel). ``axes`` are the matplotlib axes; ``draw(i)`` shows frame i in panel 0."""

    def __init__(self, info, sel, frames, times, *, size, dpi=100, projection="latlon",
                 aspect=None, slice_=None, panels=True, time_units="", fast=False,
                 dim_units=None, traj=0):
        Figure = _mpl()
        self.info, self.sel = info, sel
        self.dim_units = dict(dim_units or {})
        t_all = info.time if info.time.ndim == 1 else info.time[traj]  # per trajectory
        if slice_ == ORTHOGONAL:  # one time, three planes
            if not panels:
                raise ConfigError(f"--slice {ORTHOGONAL}: a PNG of one time (the three "
                                  "mid-planes), not an animation; use --out FILE.png")
            planes = _mid_planes(info, frames[-1])
            frames, dims = frames[-1:], planes[0][1]
            note = self._title(float(t_all[times[-1]]), time_units)
            times = [times[-1]] * 3
        else:
            frames, dims, note = _reduce(info, frames, slice_)
            planes = None
        self.frames, self.times, self.note = frames, times, note
        w, h = size
        # +0.5 px: the canvas truncates width*dpi to an integer
        # fast: fixed margins instead of constrained layout (previews: half the time)
        self.fig = Figure(figsize=((w + 0.5) / dpi, (h + 0.5) / dpi), dpi=dpi,
                          layout=None if fast else "constrained")
        if fast:  # room for a colorbar unless 1-D (line plots)
            self.fig.subplots_adjust(left=0.07, right=0.86 if len(dims) > 1 else 0.97,
                                     bottom=0.2, top=0.8, wspace=0.3)
        n = len(times) if panels else 1
        cmap, lo, hi = _norm(frames)
        sph = _sphere_axes(info) if len(dims) == 2 and set(dims) == {"theta", "phi"} else None
        fi = info.field(sel.field)
        units = fi.units if fi.units not in (None, "1") else ""
        self.axes, self.artists = [], []
        tu = time_units
        for i in range(n):
            kw = {"projection": "mollweide"} if sph and projection == "mollweide" else {}
            ax = self.fig.add_subplot(1, n, i + 1, **kw)
            self.axes.append(ax)
            data = frames[i] if planes is None else planes[i][0]
            if planes is not None:
                art = self._cartesian(ax, data, planes[i][1], cmap, lo, hi, aspect)
                self.artists.append(art)
                ax.set_title(planes[i][2], fontsize=9)
                continue
            if len(dims) == 1:
                x = info.coords[dims[0]]
                (art,) = ax.plot(x, data, lw=1.2)
                ax.set_xlim(float(x.min()), float(x.max()))
                pad = 0.05 * (hi - lo)
                ax.set_ylim(lo - pad, hi + pad)
                ax.set_xlabel(self._axis_label(dims[0]))
                ax.set_ylabel(f"{sel.label}{' [' + units + ']' if units else ''}")
            elif sph:
                art = self._sphere(ax, data, dims, cmap, lo, hi, projection)
            else:
                art = self._cartesian(ax, data, dims, cmap, lo, hi, aspect)
            self.artists.append(art)
            ax.set_title(self._title(float(t_all[times[i]]), tu), fontsize=9)
        if len(dims) == 2:
            cb = (self.fig.colorbar(self.artists[0], cax=self.fig.add_axes(
                      [0.89, 0.2, 0.015, 0.6])) if fast else
                  self.fig.colorbar(self.artists[0], ax=self.axes, shrink=0.9, pad=0.02))
            cb.set_label(f"{sel.label}{' [' + units + ']' if units else ''}", fontsize=9)
        suptitle = f"{info.dataset_name}: {sel.label}" + (f" ({note})" if note else "")
        self.fig.suptitle(suptitle, fontsize=10)
        self._t_all, self._tu = t_all, tu

    def _axis_label(self, d: str) -> str:
        u = self.dim_units.get(d, "")
        u = u.decode() if isinstance(u, bytes) else str(u or "")
        return f"{d} [{u}]" if u not in ("", "1") else d

    def _title(self, t: float, tu) -> str:
        tu = tu.decode() if isinstance(tu, bytes) else str(tu or "")
        return f"t = {t:.4g}{' ' + tu if tu not in ('', '1') else ''}"

    def _cartesian(self, ax, data, dims, cmap, lo, hi, aspect):
        x, y = self.info.coords[dims[0]], self.info.coords[dims[1]]
        ex, ey = _edges(x), _edges(y)
        # Well arrays are (x, y); the picture is rows = y (up), columns = x (right)
        self._prep = lambda d: d.T  # noqa: E731
        art = ax.pcolormesh(ex, ey, self._prep(data), cmap=cmap, vmin=lo, vmax=hi,
                            shading="flat", rasterized=True)
        ax.set_xlim(min(ex[0], ex[-1]), max(ex[0], ex[-1]))
        ax.set_ylim(min(ey[0], ey[-1]), max(ey[0], ey[-1]))
        ratio = abs(ey[-1] - ey[0]) / abs(ex[-1] - ex[0])
        ax.set_aspect(aspect or ("equal" if 1 / 8 <= ratio <= 8 else "auto"))
        ax.set_xlabel(self._axis_label(dims[0]))
        ax.set_ylabel(self._axis_label(dims[1]))
        return art

    def _sphere(self, ax, data, dims, cmap, lo, hi, projection):
        ti, pi = dims.index("theta"), dims.index("phi")
        theta = np.asarray(self.info.coords["theta"], dtype=np.float64)
        phi = np.asarray(self.info.coords["phi"], dtype=np.float64)
        # theta is colatitude in [0, pi] (the Well's and Dedalus's convention), else latitude
        colat = theta.min() >= -1e-9 and theta.max() <= np.pi + 1e-9
        lat = np.pi / 2 - theta if colat else theta
        lon = np.mod(phi, 2 * np.pi)
        if projection == "mollweide":
            lon = np.where(lon > np.pi, lon - 2 * np.pi, lon)
        rows, cols = np.argsort(lat), np.argsort(lon)  # south to north, west to east
        lat, lon = lat[rows], lon[cols]
        self._prep = lambda d: np.transpose(d, (ti, pi))[rows][:, cols]  # noqa: E731
        if projection == "mollweide":
            elon = np.clip(_edges(lon), -np.pi, np.pi)
            elat = np.clip(_edges(lat), -np.pi / 2, np.pi / 2)
            art = ax.pcolormesh(elon, elat, self._prep(data), cmap=cmap, vmin=lo, vmax=hi,
                                shading="flat", rasterized=True)
            ax.grid(True, lw=0.3, alpha=0.5)
            ax.tick_params(labelsize=6)
            return art
        elon = np.degrees(np.clip(_edges(lon), 0, 2 * np.pi))
        elat = np.degrees(np.clip(_edges(lat), -np.pi / 2, np.pi / 2))
        art = ax.pcolormesh(elon, elat, self._prep(data), cmap=cmap, vmin=lo, vmax=hi,
                            shading="flat", rasterized=True)
        ax.set_xlim(0, 360)
        ax.set_ylim(-90, 90)
        ax.set_aspect("equal")
        ax.set_xticks(range(0, 361, 90))
        ax.set_yticks(range(-90, 91, 45))
        ax.set_xlabel("longitude [°E]")
        ax.set_ylabel("latitude [°N]")
        return art

    def draw(self, i: int) -> None:
        """Show frame ``i`` in the first panel (animation)."""
        art, data = self.artists[0], self.frames[i]
        if hasattr(art, "set_ydata"):
            art.set_ydata(data)
        else:
            art.set_array(self._prep(data))
        self.axes[0].set_title(self._title(float(self._t_all[self.times[i]]), self._tu),
                               fontsize=9)

    def rgba(self) -> np.ndarray:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = self.fig.canvas if isinstance(self.fig.canvas, FigureCanvasAgg) else \
            FigureCanvasAgg(self.fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba()).copy()


def render(path: str, field: str, *, traj: int = 0, times: str | list[int] | None = None,
           size: tuple[int, int] | str | None = None, dpi: int = 100,
           projection: str = "latlon", aspect: str | None = None, slice_: str | None = None,
           gif: bool = False, fast: bool = False) -> Plot:
    """Build the figure for ``field`` of ``path`` (``Plot.fig``) without writing it."""
    import h5py

    from .reader import read_info

    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such file")
    try:
        info = read_info(path)
    except (OSError, KeyError) as e:
        raise InputRefused(f"{path}: not a readable Well file ({e})") from None
    sel = select(info, field)
    n = info.n_steps if info.field(sel.field).time_varying else 1
    ks = times if isinstance(times, list) else _times(times, n, gif)
    if isinstance(size, str):
        size = _parse_size(size)
    if size is None:
        size = default_size(info, 1 if gif else 3 if slice_ == ORTHOGONAL else len(ks))
    with h5py.File(path, "r") as fh:
        frames = _frames(fh, info, sel, traj, ks)
        tu = fh["dimensions/time"].attrs.get("units", "")
        dim_units = {d: fh["dimensions"][d].attrs.get("units", "") for d in info.spatial_dims}
    return Plot(info, sel, frames, ks, size=size, dpi=dpi, projection=projection,
                aspect=aspect, slice_=slice_, panels=not gif, time_units=tu,
                fast=fast, dim_units=dim_units, traj=traj)


def default_size(info, panels: int) -> tuple[int, int]:
    """About 360 px per panel, the height following the domain's aspect."""
    dims = list(info.spatial_dims)
    if "theta" in dims and "phi" in dims:
        ratio = 0.5
    elif len(dims) >= 2:
        cx, cy = info.coords[dims[0]], info.coords[dims[1]]
        ratio = float(np.ptp(cy) / np.ptp(cx)) if np.ptp(cx) else 1.0
    else:
        ratio = 0.6
    pw = 360 if panels > 1 else 560
    w = pw * panels + 90
    h = int(np.clip(pw * ratio, 120, 560)) + 90
    return w, h


def save(plot: Plot, out: str, gif: bool, fps: float = 8.0) -> str:
    """Write ``plot`` as PNG (all panels) or GIF (one frame per time), atomically."""
    from PIL import Image

    tmp = out + ".partial"
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if not gif:
        plot.fig.savefig(tmp, dpi=plot.fig.dpi, format="png")
    else:
        images = []
        for i in range(len(plot.times)):
            plot.draw(i)
            if i == 1:  # the layout is settled: keep it for the other frames (fast)
                plot.fig.set_layout_engine("none")
            images.append(Image.fromarray(plot.rgba()).convert("RGB").quantize(
                colors=255, method=Image.Quantize.MEDIANCUT))
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=int(1000 / fps), loop=0)
    os.replace(tmp, out)
    return out


def plot_file(path: str, field: str, out: str, **kw) -> str:
    """Render ``field`` of ``path`` to ``out`` (.png or .gif)."""
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".png", ".gif"):
        raise ConfigError(f"--out {out}: expected a .png or .gif file name")
    fps = kw.pop("fps", 8.0)
    gif = ext == ".gif"
    plot = render(path, field, gif=gif, **kw)
    return save(plot, out, gif, fps)


def preview_images(root: str, out_dir: str = "previews", kind: str = "png",
                   size: tuple[int, int] | None = None) -> dict[str, str]:
    """One preview per field of the dataset (first train file, trajectory 0) under
    ``root/out_dir``; returns field -> path relative to ``root``. Needs matplotlib."""
    from .layout import split_files
    from .reader import read_info

    _mpl()
    files = split_files(root, "train")
    if not files:
        return {}
    info = read_info(files[0])
    made = {}
    for fi in info.fields:
        rel = os.path.join(out_dir, f"{fi.name}.{kind}")
        n = info.n_steps if fi.time_varying else 1
        times = np.linspace(0, n - 1, min(n, 3 if kind == "png" else 40)).round()
        plot = render(files[0], fi.name, gif=kind == "gif", size=size, fast=True,
                      times=[int(k) for k in np.unique(times)])
        save(plot, os.path.join(root, rel), kind == "gif", fps=6.0)
        other = os.path.join(root, out_dir, f"{fi.name}.{'gif' if kind == 'png' else 'png'}")
        if os.path.exists(other):  # from an earlier finalize with the other kind
            os.remove(other)
        made[fi.name] = rel
    return made


# -- CLI ---------------------------------------------------------------------------------

def add_plot_arguments(p):
    p.add_argument("file", help="a Well-layout HDF5 file, or a dataset directory (its first "
                   "train file)")
    p.add_argument("--field", required=True, help="a field (vectors and tensors: magnitude) "
                   "or a component as the Well names it (velocity_x)")
    p.add_argument("--out", required=True, help="output .png (panels) or .gif (animation)")
    p.add_argument("--traj", type=int, default=0, help="trajectory index (default 0)")
    p.add_argument("--times", help="time indices: 0,10,-1 or a range 0:100:10 (default: 4 "
                   "evenly spaced for PNG, every frame up to 200 for GIF)")
    p.add_argument("--size", help="WIDTHxHEIGHT in pixels (default from the domain's aspect)")
    p.add_argument("--dpi", type=int, default=100, help="dots per inch (font scale)")
    p.add_argument("--projection", choices=("latlon", "mollweide"), default="latlon",
                   help="sphere: longitude-latitude map (default) or Mollweide")
    p.add_argument("--aspect", choices=("equal", "auto"),
                   help="Cartesian panels: equal (default unless very elongated) or auto")
    p.add_argument("--slice", dest="slice_", metavar="AXIS=INDEX",
                   help="3-D data: the slice to show (default: middle of the last axis), or "
                   f"'{ORTHOGONAL}': the three mid-planes at one time (the last of --times)")
    p.add_argument("--fps", type=float, default=8.0, help="GIF frames per second")


def run_plot(args) -> int:
    if args.dpi < 10 or args.dpi > 1000:
        raise ConfigError(f"--dpi {args.dpi}: expected 10 … 1000")
    path = args.file
    if os.path.isdir(path):
        from .layout import dataset_files

        files = dataset_files(path)
        if not files:
            raise ConfigError(f"{path}: no data files under data/train, data/valid or "
                              "data/test; give a file or a dataset directory")
        path = files[0]
        print(f"{path}:", file=sys.stderr)
    out = plot_file(path, args.field, args.out, traj=args.traj, times=args.times,
                    size=args.size, dpi=args.dpi, projection=args.projection,
                    aspect=args.aspect, slice_=args.slice_, fps=args.fps)
    from PIL import Image

    with Image.open(out) as im:
        frames = getattr(im, "n_frames", 1)
        print(f"{out}: {im.width}x{im.height} px" + (f", {frames} frames" if frames > 1
                                                      else ""))
    return 0
