"""``wellforge info FILE``: what a Well file holds, read from attributes and coordinates
only (no field data): dimensions and time with units, fields with shapes and units,
parameters, boundary conditions, a provenance summary, and on request the HDF5 tree."""

from __future__ import annotations

import json

import h5py
import numpy as np

from .reader import attr_list, attr_str, attr_value, bc_values, read_info, read_provenance

#: provenance keys shown in the summary (all with --provenance)
PROVENANCE_SUMMARY = ("generator", "system", "wellforge_version", "dedalus_version",
                      "timestepper", "resolution_simulated", "resolution_stored",
                      "output_times", "time_resampling", "mpi", "host", "created", "converted")


def _grid_kind(c: np.ndarray) -> str:
    c = np.asarray(c, dtype=np.float64)
    if c.size < 3:
        return "points"
    d = np.diff(c)
    if np.allclose(d, d[0], rtol=1e-4, atol=0):
        return "uniform"
    n = c.size
    a, b = c[0], c[-1]
    # Gauss–Chebyshev nodes on [lo, hi] that fit the first and last node
    x = (1 - np.cos(np.pi * (np.arange(n) + 0.5) / n)) / 2
    hi_lo = (b - a) / (x[-1] - x[0])
    lo = a - x[0] * hi_lo
    if np.allclose(c, lo + hi_lo * x, rtol=0, atol=1e-5 * abs(hi_lo)):
        hi = lo + hi_lo
        lo, hi = (0.0 if abs(v) < 1e-6 * abs(hi_lo) else v for v in (lo, hi))
        return f"Chebyshev nodes on [{lo:.6g}, {hi:.6g}]"
    return "non-uniform"


def describe(path: str) -> dict:
    """Everything ``info`` prints, as plain data."""
    info = read_info(path)
    t = info.time if info.time.ndim == 1 else info.time[0]
    with h5py.File(path, "r") as f:
        dims = f["dimensions"]
        t_units = attr_str(dims["time"].attrs.get("units", "")) or None
        axes = [{"name": d, "size": int(n), "min": float(np.min(info.coords[d])),
                 "max": float(np.max(info.coords[d])), "grid": _grid_kind(info.coords[d]),
                 "units": attr_str(dims[d].attrs["units"]) if "units" in dims[d].attrs
                 else None} for d, n in zip(info.spatial_dims, info.dim_sizes)]
        params = {}
        for p in attr_list(f.attrs.get("simulation_parameters")):
            sc = f["scalars"].get(p)
            params[p] = {"value": attr_value(f.attrs.get(p)),
                         "units": attr_str(sc.attrs["units"]) if sc is not None and
                         "units" in sc.attrs else None}
        scalars = {}
        for n, v in info.scalars.items():
            if n in params:
                continue
            d = f["scalars"][n]
            scalars[n] = {"shape": list(np.shape(v)),
                          "units": attr_str(d.attrs["units"]) if "units" in d.attrs else None,
                          "value": float(v) if np.ndim(v) == 0 else None}
        bcs = {}
        for k, g in f["boundary_conditions"].items():
            bcs[k] = {"type": attr_str(g.attrs.get("bc_type", "")),
                      "dims": attr_list(g.attrs.get("associated_dims")),
                      "fields": attr_list(g.attrs.get("associated_fields")),
                      "values": bc_values(g)}
        prov = {k: (v if not isinstance(v, list) or len(v) <= 64 else f"<{len(v)} entries>")
                for k, v in read_provenance(f).items()}
    return {
        "path": path, "dataset_name": info.dataset_name, "grid_type": info.grid_type,
        "n_trajectories": info.n_trajectories, "n_steps": info.n_steps,
        "schema": attr_value(info.attrs.get("wellforge_schema")),
        "system": attr_value(info.attrs.get("wellforge_system")),
        "time": {"first": float(t[0]), "last": float(t[-1]),
                 "spacing": float(t[1] - t[0]) if t.size > 1 else None,
                 "uniform": bool(t.size < 3 or np.allclose(np.diff(t), t[1] - t[0],
                                                           rtol=1e-4, atol=0)),
                 "sample_varying": info.time.ndim == 2, "units": t_units},
        "axes": axes,
        "fields": [{"name": fi.name, "order": fi.order, "path": fi.path,
                    "shape": list(fi.shape), "units": fi.units,
                    "sample_varying": fi.sample_varying, "time_varying": fi.time_varying}
                   for fi in info.fields],
        "parameters": params, "scalars": scalars, "boundary_conditions": bcs,
        "provenance": prov,
    }


def _short(v, n: int = 100) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s if len(s) <= n else s[: n - 1] + "…"


def format_text(d: dict, all_provenance: bool = False) -> str:
    u = lambda x: f" [{x}]" if x and x != "1" else ""  # noqa: E731
    t = d["time"]
    lines = [f"{d['path']}",
             f"  dataset {d['dataset_name']!r}: {d['n_trajectories']} trajectories × "
             f"{d['n_steps']} steps, grid_type {d['grid_type']}"
             + (f", system {d['system']}" if d["system"] else "")
             + (f", wellforge schema {d['schema']}" if d["schema"] else ""),
             f"  time: {t['first']:g} … {t['last']:g}{u(t['units'])}, "
             + (f"Δt = {t['spacing']:g} ({'uniform' if t['uniform'] else 'NOT uniform'})"
                if t["spacing"] is not None else "one step")
             + (", per trajectory" if t["sample_varying"] else "")]
    lines.append("  axes:")
    for a in d["axes"]:
        lines.append(f"    {a['name']:<8} {a['size']:>5} points [{a['min']:.6g}, "
                     f"{a['max']:.6g}]{u(a['units'])}, {a['grid']}")
    lines.append("  fields:")
    for f in d["fields"]:
        flags = "" if f["sample_varying"] and f["time_varying"] else " (" + ", ".join(
            x for x, on in (("constant in time", not f["time_varying"]),
                            ("shared by trajectories", not f["sample_varying"])) if on) + ")"
        lines.append(f"    {f['path']:<24} {tuple(f['shape'])}{u(f['units'])}{flags}")
    if d["parameters"]:
        lines.append("  parameters: " + ", ".join(
            f"{k} = {v['value']:g}{u(v['units'])}" if isinstance(v["value"], (int, float))
            else f"{k} = {v['value']}" for k, v in d["parameters"].items()))
    for k, v in d["scalars"].items():
        lines.append(f"  scalar {k}: shape {tuple(v['shape'])}{u(v['units'])}"
                     + (f" = {v['value']:g}" if v["value"] is not None else ""))
    if d["boundary_conditions"]:
        lines.append("  boundary conditions:")
        for k, b in d["boundary_conditions"].items():
            lines.append(f"    {k}: {b['type']} on {', '.join(b['dims'])}"
                         + (f", fields {', '.join(b['fields'])}" if b["fields"] else "")
                         + (f", values {b['values']}" if b["values"] is not None else ""))
    prov = d["provenance"]
    if prov:
        keys = list(prov) if all_provenance else [k for k in PROVENANCE_SUMMARY if k in prov]
        lines.append(f"  provenance ({len(prov)} entries"
                     + ("" if all_provenance else "; all with --provenance") + "):")
        for k in keys:
            lines.append(f"    {k}: {_short(prov[k], 1000 if all_provenance else 100)}")
        if not all_provenance:
            extra = []
            if "seeds" in prov:
                seeds = prov["seeds"] if isinstance(prov["seeds"], list) else []
                extra.append(f"{len(seeds)} seeds")
            if "wall_s" in prov and isinstance(prov["wall_s"], list):
                extra.append(f"{sum(prov['wall_s']):.3g} s wall")
            if "source" in prov and isinstance(prov["source"], dict):
                extra.append(f"converted from {prov['source'].get('format', '?')} "
                             f"({prov['source'].get('mode', '?')} mode)")
            if extra:
                lines.append(f"    ({'; '.join(extra)})")
    else:
        lines.append("  no /provenance group")
    return "\n".join(lines)


def tree(path: str) -> str:
    """Every group and dataset with shape, dtype and attributes (values shortened)."""
    out = []
    with h5py.File(path, "r") as f:
        def show(name, obj, depth):
            pad = "  " * depth
            if isinstance(obj, h5py.Dataset):
                out.append(f"{pad}{name}  {obj.shape} {obj.dtype}"
                           + (f" chunks={obj.chunks}" if obj.chunks else ""))
            else:
                out.append(f"{pad}{name.rstrip('/')}/")
            for k, v in obj.attrs.items():
                out.append(f"{pad}  @{k} = {_short(attr_value(v), 80)}")
            if isinstance(obj, h5py.Group):
                for k in obj:
                    link = obj.get(k, getlink=True)
                    if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
                        out.append(f"{pad}  {k} -> link (not followed)")
                        continue
                    show(k, obj[k], depth + 1)

        show("/", f, 0)
    return "\n".join(out)
