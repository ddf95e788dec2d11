"""What every registered system's tiny dataset must be, whatever its physics: the Well's
layout in every file and split, exact output times, provenance, a clean validation, a
rerun that redoes nothing, and loading in the Well's WellDataset. (Each system's own
physics: tests/test_systems_<name>.py.)"""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest

from wellforge.cli import main
from wellforge.generators.registry import BUILTIN
from wellforge.schema.dataset import SPLITS, split_files
from wellforge.schema.reader import read_provenance

from .spec_rules import assert_spec_rules

SYSTEMS = sorted(BUILTIN)
#: Dedalus's timesteppers the systems use: Runge–Kutta IMEX (FactorCache counts their
#: factorisations) and multistep IMEX
RK = ("RK111", "RK222", "RK443")
MULTISTEP = ("SBDF1", "SBDF2", "SBDF3", "SBDF4", "CNAB2", "MCNAB2")


def files(root):
    return [p for s in SPLITS for p in split_files(root, s)]


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_split_is_non_empty_and_follows_the_spec(tiny, system):
    root = tiny(system)
    for s in SPLITS:
        assert split_files(root, s), s
    for p in files(root):
        assert_spec_rules(p)


@pytest.mark.parametrize("system", SYSTEMS)
def test_the_tiny_dataset_validates_clean(tiny, system, capsys):
    """No finding at all: the tiny presets are resolved well enough that the card's
    invariants hold (a maximum principle, a conserved mean, a divergence-free flow)."""
    assert main(["validate", tiny(system), "--fail-on", "warning"]) == 0, \
        capsys.readouterr().out[-3000:]


@pytest.mark.parametrize("system", SYSTEMS)
def test_stored_times_are_exactly_uniform(tiny, system):
    for p in files(tiny(system)):
        with h5py.File(p) as f:
            t = f["dimensions/time"][()].astype(np.float64)
            time = json.loads(f["provenance"].attrs["config"])["time"]
            dt_out, t0 = time["dt_out"], time["start"] + time.get("spinup", 0.0)
            k = np.arange(t.size)
            assert np.max(np.abs(t - (t0 + k * dt_out))) < 1e-6 * max(dt_out, abs(t0))


@pytest.mark.parametrize("system", SYSTEMS)
def test_provenance_records_seeds_and_solver(tiny, system):
    fresh_builds, cells = 0, set()
    for p in files(tiny(system)):
        with h5py.File(p) as f:
            prov = f["provenance"]
            n = int(f.attrs["n_trajectories"])
            seeds = read_provenance(f)["seeds"]  # JSON attributes: the Well's tools copy them
            assert len(seeds) == n and len(set(seeds)) == n
            stepper = prov.attrs["timestepper"]
            assert stepper in RK + MULTISTEP
            assert prov.attrs["dedalus_version"] == "3.0.5"
            dt = json.loads(prov.attrs["dt_stats"])
            assert dt["steps"] > 0 and dt["min"] <= dt["mean"] <= dt["max"]
            fresh = read_provenance(f)["solver_reused"].count(False)
            fresh_builds += fresh  # a cell's first run builds; the rest reuse its solver
            cells.add(os.path.basename(p))  # one file name per cell, in each split
            if stepper in RK:  # FactorCache counts its factorisations (summed over the file)
                # every distinct step size factorises once per build (then it is cached):
                # one per fresh build when the step never changed; a hit is a change back
                if dt["min"] == dt["max"]:
                    assert (dt["factorisations"], dt["factorisations_reused"]) == (fresh, 0)
                else:  # each change of step is a factorisation or a cache hit
                    assert dt["factorisations"] >= fresh
                    assert dt["factorisations"] + dt["factorisations_reused"] > fresh
                assert dt["factorisations"] + dt["factorisations_reused"] <= dt["steps"]
            else:  # multistep: no cache, nothing claimed
                assert "factorisations" not in dt
    assert len(cells) <= fresh_builds < sum(  # built once per cell (in one process)
        int(h5py.File(p).attrs["n_trajectories"]) for p in files(tiny(system)))


@pytest.mark.parametrize("system", SYSTEMS)
def test_rerun_skips_done_runs(tiny, system, capsys):
    root = tiny(system)
    n = sum(int(h5py.File(p).attrs["n_trajectories"]) for p in files(root))
    before = {p: os.stat(p).st_mtime_ns for p in files(root)}
    assert main(["generate", system, "--preset", "tiny", "--out", str(tiny.out),
                 "--no-progress"]) == 0
    assert f"{n} done ({n} from before)" in capsys.readouterr().out
    assert {p: os.stat(p).st_mtime_ns for p in files(root)} == before


@pytest.mark.parametrize("system", SYSTEMS)
def test_loads_in_welldataset(tiny, system):
    from .well_loader import assert_loads_in_well, require_well

    require_well()
    assert assert_loads_in_well(tiny(system)) > 0
