"""CLI: ``wellforge schema``, ``wellforge finalize DIR``, ``wellforge info FILE``."""

from __future__ import annotations

import os
import sys

from wellforge.errors import ConfigError, InputRefused

HELP = {
    "schema": "print the Well layout reference (rendered from the spec)",
    "finalize": "write stats.yaml, <name>.yaml and README.md for a dataset directory",
    "info": "describe a Well file: time, axes, fields, units, parameters, boundary "
            "conditions, provenance summary (--tree: the HDF5 tree)",
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
    p.add_argument("--previews", choices=("png", "gif", "none"), default="png",
                   help="a preview per field in previews/, embedded in README.md (png: "
                   "panels at 3 times, default; gif: animation; needs matplotlib)")


def run_finalize(args) -> int:
    from .dataset import finalize

    if not os.path.isdir(os.path.join(args.dataset, "data")):
        raise ConfigError(f"{args.dataset}: not a dataset directory (expected a data/ folder)")
    card = _card_for(args.dataset)
    for what, path in finalize(args.dataset, card, previews=args.previews).items():
        print(f"{what}: {path}")
    return 0


def _card_for(root: str):
    """The system card the dataset's files carry (``@wellforge_card``), if any."""
    import json

    import h5py

    from .cardfile import card_from_mapping
    from .layout import dataset_files
    from .reader import attr_str

    files = dataset_files(root)
    if not files:
        return None
    with h5py.File(files[0], "r") as f:
        text = f.attrs.get("wellforge_card")
    if text is None:
        return None
    try:
        return card_from_mapping(json.loads(attr_str(text)), where="@wellforge_card")
    except (ConfigError, ValueError):
        return None


def add_info_arguments(p):
    p.add_argument("file", help="a Well-layout HDF5 file")
    p.add_argument("--tree", action="store_true", help="also the HDF5 tree: every group and "
                   "dataset with shape, dtype and attributes")
    p.add_argument("--provenance", action="store_true", help="every provenance entry, not "
                   "only the summary")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run_info(args) -> int:
    import json

    from .info import describe, format_text, tree

    if not os.path.isfile(args.file):
        raise ConfigError(f"{args.file}: no such file")
    try:
        d = describe(args.file)
    except (OSError, KeyError) as e:
        raise InputRefused(f"{args.file}: not a readable Well file ({e})") from None
    if args.json:
        print(json.dumps(d, indent=1, default=str))
        return 0
    print(format_text(d, all_provenance=args.provenance))
    if args.tree:
        print(tree(args.file))
    return 0
