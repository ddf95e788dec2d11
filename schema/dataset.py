"""A Well dataset directory: ``<name>/data/{train,valid,test}/*.hdf5`` plus its files.

``finalize`` writes, from the data alone (and the system card / provenance when known):
``stats.yaml`` (train split, the Well's statistics), ``<name>.yaml`` (the Well's metadata
keys, counted on the valid split as the Well's script does) and ``README.md`` (a dataset
card in the style of the Well's READMEs). Every file is written atomically.
"""

from __future__ import annotations

import json
import logging
import os

import h5py
import yaml

from .card import SystemCard
from .layout import dataset_files, split_files  # noqa: F401  (the public path for plugins)
from .reader import read_info, read_provenance
from .spec import SPLITS, component_names
from .stats import compute_stats, dump_stats


def write_text_atomic(path: str, text: str) -> None:
    tmp = path + ".partial"
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def metadata(root: str) -> dict:
    """``<name>.yaml`` content: the Well's ``WellMetadata`` keys, from the valid split."""
    files = split_files(root, "valid") or split_files(root, "train")
    if not files:
        raise FileNotFoundError(f"{root}: no data files under data/valid or data/train")
    infos = [read_info(p) for p in files]
    i0 = infos[0]
    names: dict[int, list[str]] = {0: [], 1: [], 2: []}
    const: dict[int, list[str]] = {0: [], 1: [], 2: []}
    for fi in i0.fields:
        (names if fi.time_varying else const)[fi.order] += component_names(
            fi.name, fi.order, i0.spatial_dims)
    bc_types: list[str] = []
    for t in i0.bc_types.values():
        if t.upper() not in bc_types:
            bc_types.append(t.upper())
    return {
        "dataset_name": i0.dataset_name,
        "n_spatial_dims": i0.n_spatial_dims,
        "spatial_resolution": list(i0.dim_sizes),
        "scalar_names": [n for n, (_, tv) in i0.scalar_flags.items() if tv],
        "constant_scalar_names": [n for n, (_, tv) in i0.scalar_flags.items() if not tv],
        "field_names": names,
        "constant_field_names": const,
        "boundary_condition_types": bc_types,
        "n_files": len(infos),
        "n_trajectories_per_file": [i.n_trajectories for i in infos],
        "n_steps_per_trajectory": [i.n_steps for i in infos],
        "grid_type": i0.grid_type,
    }


def _provenance(path: str) -> dict:
    with h5py.File(path, "r") as f:
        return read_provenance(f)


def _ic_summary(files: list[str]) -> dict[str, list]:
    """Distinct values of every IC parameter over all trajectories (from provenance)."""
    values: dict[str, list] = {}
    for p in files:
        for ic in _provenance(p).get("ic", []) or []:
            if isinstance(ic, dict):
                for k, v in ic.items():
                    if v not in values.setdefault(k, []):
                        values[k].append(v)
    return {k: sorted(v, key=str) for k, v in values.items()}


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def dataset_card(root: str, card: SystemCard | None = None,
                 previews: dict[str, str] | None = None) -> str:
    """README.md for a dataset, filled from the data, its provenance and the system card;
    ``previews``: field -> image path relative to ``root`` (embedded)."""
    meta = metadata(root)
    counts = {s: split_files(root, s) for s in SPLITS}
    n_traj = {s: sum(read_info(p).n_trajectories for p in fs) for s, fs in counts.items()}
    any_file = next(p for fs in counts.values() for p in fs)
    info = read_info(any_file)
    prov = _provenance(any_file)
    size = sum(os.path.getsize(p) for fs in counts.values() for p in fs)
    t = info.time if info.time.ndim == 1 else info.time[0]
    dt_out = float(t[1] - t[0]) if t.size > 1 else float("nan")
    name = meta["dataset_name"]
    lines = [f"# {name}", ""]
    if card is not None:
        lines += [f"**{card.title}**", "", "## Equations", "", "$$", card.equations.strip(), "$$", ""]
        lines += ["## Parameters", "", "| name | units | meaning | range |", "|---|---|---|---|"]
        for p in card.parameters:
            lines.append(f"| `{p.name}` | {p.units} | {p.doc} | "
                         f"[{_fmt(p.low)}, {_fmt(p.high)}] |")
        lines += ["", "## Boundary conditions", ""]
        for a in card.axes:
            vals = "; ".join(f"{k} = {lo:g} / {hi:g}" for k, (lo, hi) in a.bc_values.items())
            lines.append(f"- `{a.name}` ∈ [{a.bounds[0]:g}, {a.bounds[1]:g}] ({a.kind} grid): "
                         f"{a.bc}{' (' + a.bc_variant + ')' if a.bc_variant else ''}"
                         f"{': ' + vals if vals else ''}")
        if card.notes:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in card.notes]
        lines.append("")
    lines += [
        "## Data", "",
        f"- Fields: {', '.join(sum(meta['field_names'].values(), []))}",
        f"- Grid: {' × '.join(f'{d} {n}' for d, n in zip(info.spatial_dims, info.dim_sizes))} "
        f"({meta['grid_type']})",
        f"- Time: {info.n_steps} stored steps, t = {float(t[0]):g} … {float(t[-1]):g}, "
        f"Δt = {dt_out:g} (exact output times)",
        "- Files / trajectories: " + ", ".join(
            f"{s} {len(counts[s])} / {n_traj[s]}" for s in SPLITS),
        f"- Size: {size / 2**20:.1f} MiB",
        f"- Constant scalars: {', '.join(meta['constant_scalar_names']) or 'none'}",
        *([f"- Time-varying scalars (one value per frame): {', '.join(meta['scalar_names'])}"]
          if meta.get("scalar_names") else []),
        "",
    ]
    if previews:
        src = os.path.relpath(counts["train"][0], root) if counts["train"] else "train"
        lines += ["## Previews", "", f"Trajectory 0 of `{src}` (`wellforge plot`).", ""]
        lines += [f"![{f}]({p})" for f, p in previews.items()]
        lines.append("")
    config = prov.get("config") if isinstance(prov.get("config"), dict) else {}
    if config.get("holdout") or config.get("design"):
        lines += ["## Splits and designs", ""]
        h = config.get("holdout")
        if h:
            cells = "; ".join(", ".join(f"{k} = {v:g}" for k, v in c.items())
                              for c in h["cells"])
            lines.append(f"- Held out of train (all their trajectories in `{h['split']}`, "
                         f"for out-of-distribution tests): {cells}")
        for what, d in (config.get("design") or {}).items():
            rng = ", ".join(f"{k} in [{r['low']:g}, {r['high']:g}]"
                            + (" (log)" if r.get("scale") == "log" else "")
                            for k, r in d.get("ranges", {}).items())
            lines.append(f"- {what}: {d.get('method', 'sobol')} design of {d.get('n')} points "
                         f"(seed {d.get('seed', 0)}): {rng}")
        lines.append("")
    ics = _ic_summary([p for fs in counts.values() for p in fs])
    if ics:
        lines += ["## Initial conditions used", ""]
        lines += [f"- `{k}`: {', '.join(map(str, v))}" for k, v in ics.items()]
        lines.append("")
    if prov:
        lines += ["## How it was generated", ""]
        for key in ("generator", "system", "dedalus_version", "timestepper", "resolution_simulated",
                    "resolution_stored", "dealias", "cfl", "mpi"):
            if key in prov:
                lines.append(f"- {key}: `{json.dumps(prov[key], default=str)}`")
        lines.append("")
    lines += ["Generated by wellforge from the files themselves; do not edit by hand.", ""]
    return "\n".join(lines)


def _previews(root: str, kind: str | None) -> dict[str, str]:
    """Preview images per field (``schema/plot.py``); none without matplotlib."""
    if kind in (None, "none"):
        return {}
    try:
        from .plot import preview_images

        return preview_images(root, kind=kind)
    except Exception as e:  # optional: a dataset is finalized without its pictures
        logging.getLogger("wellforge.dataset").warning(
            "no previews in %s/README.md (%s)", root, e)
        return {}


def finalize(root: str, card: SystemCard | None = None, previews: str | None = "png"
             ) -> dict[str, str]:
    """Write stats.yaml, <name>.yaml and README.md for the dataset at ``root``, with a
    preview image per field (``previews``: "png", "gif" or None; needs matplotlib)."""
    train = split_files(root, "train")
    if not train:
        raise FileNotFoundError(f"{root}: data/train has no files")
    name = read_info(train[0]).dataset_name
    out = {
        "stats": os.path.join(root, "stats.yaml"),
        "metadata": os.path.join(root, f"{name}.yaml"),
        "readme": os.path.join(root, "README.md"),
    }
    write_text_atomic(out["stats"], dump_stats(compute_stats(train)))
    write_text_atomic(out["metadata"], yaml.safe_dump(metadata(root), sort_keys=False))
    write_text_atomic(out["readme"], dataset_card(root, card, _previews(root, previews)))
    return out
