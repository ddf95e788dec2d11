"""The sweeps ML users ask for: random designs (uniform, log-uniform, Sobol', Latin
hypercube) reproducible from their seed and the same on every rank, and parameter cells
held out of train."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from wellforge.cli import main
from wellforge.errors import ConfigError
from wellforge.generators.config import build_plan, merge_config
from wellforge.generators.registry import get_system
from wellforge.schema.dataset import SPLITS, split_files
from wellforge.schema.reader import read_provenance

RB = get_system("rayleigh_benard")


def plan(**cfg):
    base = {"resolution": [32, 16], "time": {"dt_out": 0.5, "n_frames": 3},
            "initial_conditions": {"realization": [0, 1, 2]}}
    base.update(cfg)
    return build_plan(RB, merge_config(RB, None, base, None))


def design(method="sobol", n=8, seed=3, scale="log"):
    return {"sample": {"method": method, "n": n, "seed": seed, "ranges": {
        "Rayleigh": {"low": 1e5, "high": 1e7, "scale": scale},
        "Prandtl": {"low": 0.5, "high": 2.0}}}}


@pytest.mark.parametrize("method", ["uniform", "sobol", "latin_hypercube"])
def test_designs_are_reproducible_and_in_range(method):
    a = plan(parameters=design(method))
    b = plan(parameters=design(method))
    c = plan(parameters=design(method, seed=4))
    cells = [r.params for r in a.runs[::3]]
    assert len(cells) == 8 and cells == [r.params for r in b.runs[::3]]
    assert cells != [r.params for r in c.runs[::3]]  # the design's own seed
    ra = np.array([p["Rayleigh"] for p in cells])
    pr = np.array([p["Prandtl"] for p in cells])
    assert np.all((1e5 <= ra) & (ra <= 1e7)) and np.all((0.5 <= pr) & (pr <= 2.0))
    assert [r.run_id for r in a.runs] == [r.run_id for r in b.runs]


def test_log_scale_and_latin_hypercube_strata():
    """A Latin hypercube puts exactly one point in each of the n equal strata of every
    axis — of log10(Ra) with a log scale, of Ra itself with a linear one."""
    n = 10
    for scale, f in (("log", np.log10), ("linear", lambda x: x)):
        cells = [r.params for r in plan(parameters=design("latin_hypercube", n=n,
                                                          scale=scale)).runs[::3]]
        lo, hi = f(1e5), f(1e7)
        strata = np.floor((f(np.array([c["Rayleigh"] for c in cells])) - lo) / (hi - lo) * n)
        assert sorted(strata.astype(int).tolist()) == list(range(n))


def test_sobol_design_matches_scipy_reference():
    from scipy.stats import qmc

    u = qmc.Sobol(2, scramble=True, seed=3).random(8)
    want = np.c_[10 ** (5 + 2 * u[:, 0]), 0.5 + 1.5 * u[:, 1]]
    got = np.array([[r.params["Rayleigh"], r.params["Prandtl"]]
                    for r in plan(parameters=design("sobol")).runs[::3]])
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_expected_runs_is_checked_for_a_design():
    assert len(plan(parameters=design(n=4), expected_runs=12).runs) == 12
    with pytest.raises(ConfigError, match="expected_runs: the sweep expands to 12 runs"):
        plan(parameters=design(n=4), expected_runs=10)


@pytest.mark.parametrize("bad, needle", [
    ({"method": "halton", "n": 4, "ranges": {"Rayleigh": {"low": 1, "high": 2}}},
     "method: 'halton' is not one of"),
    ({"n": 0, "ranges": {"Rayleigh": {"low": 1, "high": 2}}}, "n: expected a number of points"),
    ({"n": 4, "ranges": {"Rayleigh": {"low": 2, "high": 1}}}, "expected low < high"),
    ({"n": 4, "ranges": {"Rayleigh": {"low": -1, "high": 1, "scale": "log"}}},
     "a log scale needs low > 0"),
    ({"n": 4, "ranges": {"Rayleigh": {"low": 1, "high": 2, "scale": "cubic"}}},
     "scale: 'cubic' is not one of"),
    ({"n": 4, "seed": -1, "ranges": {"Rayleigh": {"low": 1, "high": 2}}}, "seed: expected"),
])
def test_bad_designs_are_one_line(bad, needle):
    with pytest.raises(ConfigError, match=needle) as e:
        plan(parameters={"sample": bad})
    assert "\n" not in str(e.value)


def test_a_design_is_the_same_on_every_rank(tmp_path):
    """Each rank plans the sweep itself: the same runs, ids and seeds under mpirun -n 2."""
    cfg = tmp_path / "d.yaml"
    cfg.write_text(json.dumps({"system": "rayleigh_benard", "resolution": [32, 16],
                               "time": {"dt_out": 0.5, "n_frames": 3},
                               "parameters": design("uniform", n=3),
                               "initial_conditions": {"realization": [0, 1, 2]}}))
    code = ("import sys, json; from mpi4py import MPI;"
            "from wellforge.generators.commands import load_plan;"
            f"p = load_plan({str(cfg)!r}, None, []);"
            "ids = MPI.COMM_WORLD.allgather([(r.run_id, r.seed, r.params) for r in p.runs]);"
            "print(json.dumps(ids[0] == ids[1]))")
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMP_NUM_THREADS": "1"}
    r = subprocess.run(["mpirun", "-n", "2", sys.executable, "-c", code], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("true") == 2 and "false" not in r.stdout, r.stdout  # one per rank


# -- hold-out cells ---------------------------------------------------------------------------

def test_held_out_cells_are_never_in_train():
    p = plan(parameters={"product": {"Rayleigh": [1e5, 1e6, 1e7], "Prandtl": [1.0, 2.0]}},
             holdout={"split": "test", "cells": [{"Rayleigh": 1e7, "Prandtl": 2.0}]})
    held = [r for r in p.runs if r.params == {"Rayleigh": 1e7, "Prandtl": 2.0}]
    assert len(held) == 3 and {r.split for r in held} == {"test"}
    others = [r for r in p.runs if r not in held]
    assert {r.split for r in others} == {"train", "valid", "test"}  # the per-file split
    assert p.config["holdout"] == {"split": "test",
                                   "cells": [{"Rayleigh": 1e7, "Prandtl": 2.0}]}


def test_a_held_out_range():
    p = plan(parameters=design("uniform", n=12),
             holdout={"split": "valid", "range": {"Rayleigh": {"low": 3e6}}})
    for r in p.runs:
        if r.params["Rayleigh"] >= 3e6:
            assert r.split == "valid"
    assert any(r.params["Rayleigh"] >= 3e6 for r in p.runs)
    assert not any(r.split == "train" and r.params["Rayleigh"] >= 3e6 for r in p.runs)


@pytest.mark.parametrize("holdout, needle", [
    ({"split": "train", "cells": [{"Rayleigh": 1e5}]}, "must be test or valid"),
    ({"cells": [{"Rayleigh": 3e5, "Prandtl": 1.0}]}, "is not a parameter set of the sweep"),
    ({"cells": [{"Reynolds": 1e5}]}, "'Reynolds' is not a parameter"),
    ({"range": {"Rayleigh": {"low": 1e9}}}, "no parameter set of the sweep"),
    ({"range": {"Rayleigh": {"low": 1.0}}}, "every parameter set would be held out"),
    ({"cells": [], "range": {}}, "holdout: expected"),
])
def test_bad_holdouts_are_one_line(holdout, needle):
    with pytest.raises(ConfigError, match=needle):
        plan(parameters={"product": {"Rayleigh": [1e5, 1e6], "Prandtl": [1.0]}},
             holdout=holdout)


@pytest.mark.slow
def test_a_held_out_dataset_records_it_and_validates(tmp_path):
    cfg = tmp_path / "h.yaml"
    cfg.write_text(json.dumps({
        "system": "kuramoto_sivashinsky", "resolution": [32],
        "time": {"dt_out": 1.0, "n_frames": 4},
        "parameters": {"product": {"L": [22.0, 36.0]}},
        "initial_conditions": {"realization": [0, 1, 2]},
        "holdout": {"split": "test", "cells": [{"L": 36.0}]}}))
    assert main(["generate", str(cfg), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    root = tmp_path / "o" / "kuramoto_sivashinsky"
    train = [p for p in split_files(str(root), "train")]
    assert train and all("_L_2.2e1" in p for p in train)
    for s in SPLITS:
        for p in split_files(str(root), s):
            with h5py.File(p) as f:
                assert read_provenance(f)["config"]["holdout"]["cells"] == [{"L": 36.0}]
    assert "Held out of train" in (root / "README.md").read_text()
    assert main(["validate", str(root)]) == 0
