"""A dataset describes itself: its files carry the card of the system that made them, so a
plugin's dataset checked where the plugin is not installed still gets its card's checks
(and the report says where the card came from)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata

import h5py
import numpy as np
import pytest

from wellforge.schema.dataset import SPLITS, split_files

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "advection_diffusion")
DIST = "wellforge-advection-diffusion"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMEXPR_MAX_THREADS": "1"}


def wf(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wellforge.cli", *args], env=ENV,
                          capture_output=True, text=True, timeout=600)


def pip(*args) -> None:
    r = subprocess.run([sys.executable, "-m", "pip", "-q", *args], env=ENV,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def _installed() -> bool:
    try:
        metadata.distribution(DIST)
        return True
    except metadata.PackageNotFoundError:
        return False


@pytest.fixture(scope="module")
def dataset_of_an_uninstalled_plugin(tmp_path_factory):
    """The example plugin's tiny dataset, then the plugin uninstalled (the venv is left as
    it was found)."""
    before = _installed()
    if not before:
        pip("install", "--no-deps", "--no-build-isolation", "-e", EXAMPLE)
    out = tmp_path_factory.mktemp("travel")
    r = wf("generate", "advection_diffusion", "--preset", "tiny", "--out", str(out),
           "--no-progress")
    assert r.returncode == 0, r.stderr[-2000:]
    pip("uninstall", "-y", DIST)
    yield out / "advection_diffusion"
    if before:
        pip("install", "--no-deps", "--no-build-isolation", "-e", EXAMPLE)


def report(*paths) -> dict:
    r = wf("validate", *map(str, paths), "--format", "json")
    assert r.returncode in (0, 1), r.stderr[-2000:]
    return json.loads(r.stdout)


def test_the_card_comes_from_the_files(dataset_of_an_uninstalled_plugin):
    root = dataset_of_an_uninstalled_plugin
    assert "advection_diffusion" not in wf("systems").stdout  # really not installed
    rep = report(root)
    assert rep["summary"]["errors"] == 0 and rep["summary"]["warnings"] == 0
    notes = " ".join(n["note"] for n in rep["notes"])
    assert "embedded in the file (@wellforge_card)" in notes
    assert "'advection_diffusion' is not installed here" in notes


def test_the_cards_invariant_is_checked_without_the_plugin(dataset_of_an_uninstalled_plugin,
                                                           tmp_path):
    """The card declares a conserved mean; a file whose mean drifts fails (WF410), which
    no generic check would see."""
    p = tmp_path / "drift.hdf5"
    shutil.copy(split_files(str(dataset_of_an_uninstalled_plugin), "train")[0], p)
    with h5py.File(p, "r+") as f:
        c = f["t0_fields/concentration"]
        k = np.arange(c.shape[1], dtype=np.float32)[None, :, None, None]
        c[...] = c[()] + 1e-2 * k
    codes = {(f["code"], f["severity"]) for f in report(p)["findings"]}
    assert ("WF410", "error") in codes
    with h5py.File(p, "r+") as f:  # without the embedded card: generic checks only
        del f.attrs["wellforge_card"]
    rep = report(p)
    assert "WF410" not in {f["code"] for f in rep["findings"]}
    assert any("wellforge_system" in n["note"] or "card" in n["note"] for n in rep["notes"])


def test_every_file_carries_the_card(dataset_of_an_uninstalled_plugin):
    for s in SPLITS:
        for p in split_files(str(dataset_of_an_uninstalled_plugin), s):
            with h5py.File(p) as f:
                card = json.loads(f.attrs["wellforge_card"])
            assert card["name"] == "advection_diffusion"
            assert [inv["kind"] for inv in card["invariants"]] == ["conserved_mean"]
