"""The dataset directory of the Well: ``<name>/data/<split>/*.hdf5`` (or ``*.h5``) beside
``stats.yaml`` and ``<name>.yaml`` (the names are in ``spec``)."""

from __future__ import annotations

import glob
import os

from .spec import DATA_SUFFIXES, SPLITS


def split_files(root: str, split: str) -> list[str]:
    """Data files of a split, sorted by path as the Well's loader sorts them."""
    d = os.path.join(root, "data", split)
    return sorted(p for suffix in DATA_SUFFIXES for p in glob.glob(os.path.join(d, f"*{suffix}")))


def dataset_files(root: str) -> list[str]:
    """Data files of every split, in the Well's split order."""
    return [p for s in SPLITS for p in split_files(root, s)]
