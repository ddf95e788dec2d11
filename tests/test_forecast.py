"""``plan --developed``: the steps a run takes once its flow has developed, forecast from a
coarse run, against the run itself."""

from __future__ import annotations

import json

import pytest

from wellforge.cli import main
from wellforge.generators.commands import load_plan
from wellforge.generators.forecast import coarse_resolution, forecast_cell
from wellforge.generators.runner import run_trajectory

pytestmark = pytest.mark.slow
#: convection from noise: the step falls from max_dt = 0.125 to ~0.03 as it develops
RB = ["Rayleigh=1e6", "Prandtl=1", "resolution=64,16", "stored_resolution=64,16",
      "n_frames=80", "dt_out=0.25", "spinup=0", "noise=0.01", "splits=train",
      "realization=0"]


def test_coarse_resolution_stays_fft_friendly():
    assert coarse_resolution((512, 128), 4) == (128, 32)
    assert coarse_resolution((96, 8), 4) == (24, 8)  # at least 8 points
    assert coarse_resolution((100, 30), 3) == (36, 10)  # even, 2^a 3^b 5^c


def test_the_forecast_is_within_1_5_of_the_run(tmp_path):
    plan = load_plan("rayleigh_benard", "tiny", RB)
    run = plan.runs[0]
    fc = forecast_cell(plan, run, factor=2)
    assert fc["how"].startswith("developed") and fc["coarse_resolution"] == [32, 8]
    real = run_trajectory(plan.system, run, str(tmp_path / "r.hdf5"), progress=False)
    assert real.status == "done"
    lower_bound = round(run.span / 0.125)  # what a calibration at the IC says
    assert real.steps > 2 * lower_bound  # the developed flow sets the step
    assert real.steps / 1.5 <= fc["steps"] <= 1.5 * real.steps, (fc, real.steps)


def test_plan_reports_the_forecast_per_cell(capsys):
    assert main(["plan", "rayleigh_benard", *sum((["--set", s] for s in RB), []),
                 "--set", "Rayleigh=1e5,1e6", "--developed", "--coarsen", "2",
                 "--calibrate-steps", "3", "--json"]) == 0
    est = json.loads(capsys.readouterr().out)
    cells = {c["cell"]: c["steps"] for c in est["forecast"]}
    assert len(cells) == 2 and all(v > round(19.75 / 0.125) for v in cells.values())
    assert est["steps_per_run"] == {"min": min(cells.values()), "max": max(cells.values())}
    assert not est["lower_bound"]
