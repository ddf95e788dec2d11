"""CLI: ``wellforge schema``, ``wellforge finalize DIR``, ``wellforge info FILE``."""

from __future__ import annotations

import os
import sys

from wellforge.errors import ConfigError, InputRefused

HELP = {
    "schema": "print the Well layout reference (rendered from the spec)",
    "finalize": "write stats.yaml, <name>.yaml and README.md for a dataset directory",
    "info": "describe a Well file: axes, fields, scalars, boundary conditions, provenance",
}


def add_schema_arguments(p):
    p.add_argument("--output", "-o", help="write to this file instead of stdout")


def run_schema(args) -> int:
    from .spec import render_markdown

    text = render_markdown()
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


def add_finalize_arguments(p):
    p.add_argument("dataset", help="dataset directory holding data/{train,valid,test}")


def run_finalize(args) -> int:
    from .dataset import finalize

    if not os.path.isdir(os.path.join(args.dataset, "data")):
        raise ConfigError(f"{args.dataset}: not a dataset directory (expected a data/ folder)")
    card = _card_for(args.dataset)
    for what, path in finalize(args.dataset, card).items():
        print(f"{what}: {path}")
    return 0


def _card_for(root: str):
    """The system card named by the dataset's files, if wellforge knows it."""
    from .dataset import split_files
    from .reader import read_info

    files = split_files(root, "train")
    if not files:
        return None
    name = read_info(files[0]).attrs.get("wellforge_system")
    if name is None:
        return None
    from wellforge.generators.registry import get_system

    try:
        return get_system(str(name)).card
    except ConfigError:
        return None


def add_info_arguments(p):
    p.add_argument("file", help="a Well-layout HDF5 file")


def run_info(args) -> int:
    import h5py

    from .reader import read_info

    if not os.path.isfile(args.file):
        raise ConfigError(f"{args.file}: no such file")
    try:
        info = read_info(args.file)
    except (OSError, KeyError) as e:
        raise InputRefused(f"{args.file}: not a readable Well file ({e})") from None
    print(f"{info.path}: dataset {info.dataset_name!r}, {info.n_trajectories} trajectories × "
          f"{info.n_steps} steps, grid {info.grid_type}")
    for d, n in zip(info.spatial_dims, info.dim_sizes):
        c = info.coords[d]
        print(f"  axis {d}: {n} points [{float(c[0]):g}, {float(c[-1]):g}]")
    for f in info.fields:
        print(f"  t{f.order} {f.name}: shape {f.shape} units {f.units or '-'}")
    for n, v in info.scalars.items():
        print(f"  scalar {n} = {v}")
    for n, t in info.bc_types.items():
        print(f"  bc {n}: {t}")
    with h5py.File(args.file, "r") as fh:
        if "provenance" in fh:
            for k, v in fh["provenance"].attrs.items():
                s = str(v)
                print(f"  provenance {k}: {s[:100]}{'…' if len(s) > 100 else ''}")
    return 0
