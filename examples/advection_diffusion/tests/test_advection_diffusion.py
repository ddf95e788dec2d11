"""advection_diffusion: generates a tiny dataset that wellforge validates, and the data
follow the exact solution. Run after ``pip install -e examples/advection_diffusion``."""

import json

import h5py
import numpy as np
import pytest

from wellforge.cli import main
from wellforge.generators.registry import available
from wellforge.schema.dataset import SPLITS, split_files
from wellforge.schema.reader import read_provenance
from wellforge_advection_diffusion.system import exact_solution

NAME = "advection_diffusion"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    assert NAME in available(), f"{NAME} is not registered: run 'pip install -e .' first"
    out = tmp_path_factory.mktemp("gen")
    assert main(["generate", NAME, "--preset", "tiny", "--out", str(out), "--no-progress"]) == 0
    return out / NAME


def test_dataset_validates(dataset):
    assert main(["validate", str(dataset)]) == 0


def test_data_follow_the_exact_solution(dataset):
    for p in [p for s in SPLITS for p in split_files(str(dataset), s)]:
        with h5py.File(p) as f:
            c = f["t0_fields/concentration"][()]
            t = f["dimensions/time"][()].astype(np.float64)
            x, y = f["dimensions/x"][()], f["dimensions/y"][()]
            prov = f["provenance"]
            seeds, ics = read_provenance(f)["seeds"], json.loads(prov.attrs["ic"])
            params = json.loads(prov.attrs["parameters"])
        X, Y = np.meshgrid(x.astype(np.float64), y.astype(np.float64), indexing="ij")
        for i, (seed, ic) in enumerate(zip(seeds, ics)):
            exact = np.stack([exact_solution(X, Y, tk, params, ic, int(seed)) for tk in t])
            assert np.max(np.abs(c[i] - exact)) < 1e-5
