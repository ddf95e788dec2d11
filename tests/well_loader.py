"""Shared check: a dataset directory loads in the Well's own WellDataset."""

import os

import numpy as np
import pytest

from wellforge.schema.dataset import SPLITS
from wellforge.schema.reader import read_info
from wellforge.schema.dataset import split_files

BC_CODE = {"WALL": 0, "OPEN": 1, "PERIODIC": 2}


def require_well() -> None:
    """Skip without the optional the-well extra, except where it is required (make test
    sets WELLFORGE_REQUIRE_WELL=1, so CI cannot pass by skipping)."""
    if os.environ.get("WELLFORGE_REQUIRE_WELL") == "1":
        import the_well  # noqa: F401  (fails loudly)
    else:
        pytest.importorskip("the_well", reason="optional extra: pip install -e .[well]")


def well_benchmark_model(module: str, cls: str):
    """A model class of ``the_well.benchmark.models`` (the Well's code, unchanged).

    The package's ``__init__`` imports every model, and some need ``timm`` or
    ``neuraloperator`` (which pull a CUDA build of another torch); the models used here
    need neither. So the package is entered without running its ``__init__``: its modules
    are imported from its directory as they are."""
    import importlib
    import sys
    import types

    import the_well.benchmark as bench

    name = "the_well.benchmark.models"
    if name not in sys.modules:
        pkg = types.ModuleType(name)
        pkg.__path__ = [os.path.join(os.path.dirname(bench.__file__), "models")]
        sys.modules[name] = pkg
    return getattr(importlib.import_module(f"{name}.{module}"), cls)


def assert_loads_in_well(root: str) -> int:
    """Iterate every sample of every split with ZScore normalisation; return sample count."""
    from the_well.data import WellDataset
    from the_well.data.normalization import ZScoreNormalization

    total = 0
    for split in SPLITS:
        info = read_info(split_files(root, split)[0])
        n_channels = sum(len(info.spatial_dims) ** f.order for f in info.fields)
        ds = WellDataset(path=root, well_split_name=split, use_normalization=True,
                         normalization_type=ZScoreNormalization)
        assert len(ds) > 0
        expected_bc = np.full((info.n_spatial_dims, 2), -1)
        for group, bc in info.bc_types.items():
            dim = group.split("_")[0]
            expected_bc[info.spatial_dims.index(dim)] = BC_CODE[bc]
        for i in range(len(ds)):
            s = ds[i]
            x = s["input_fields"].numpy()
            assert x.shape[1:] == (*info.dim_sizes, n_channels)
            assert s["output_fields"].shape[1:] == x.shape[1:]
            assert np.isfinite(x).all() and np.isfinite(s["output_fields"].numpy()).all()
            np.testing.assert_array_equal(s["boundary_conditions"].numpy(), expected_bc)
            assert s["space_grid"].shape == (*info.dim_sizes, info.n_spatial_dims)
        total += len(ds)
    return total
