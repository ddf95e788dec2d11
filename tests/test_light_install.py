"""The light install: validating, inspecting and planning need neither Dedalus nor mpi4py
(``pip install wellforge`` has no MPI, FFTW or compiler); generating says in one line what
to install. Run in a fresh interpreter where both cannot be imported."""

from __future__ import annotations

import json
import subprocess
import sys

from wellforge.cli import main

#: a fresh interpreter in which ``import dedalus`` and ``import mpi4py`` fail
PRELUDE = """
import sys
for name in ("dedalus", "mpi4py"):
    sys.modules[name] = None  # 'import dedalus' raises ImportError
from wellforge.cli import main
sys.exit(main(sys.argv[1:]))
"""


def without_solvers(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PRELUDE, *args], capture_output=True,
                          text=True, timeout=600)


def findings(text: str) -> list[tuple]:
    rep = json.loads(text)
    return sorted((f["code"], f["severity"], f["file"], f["object"], f["message"])
                  for f in rep["findings"])


def test_validate_without_dedalus_gives_the_same_findings(wf_dataset, capsys):
    import h5py
    import numpy as np

    # a finding of each kind the checks can give: a NaN frame, a wrong stats.yaml entry
    with h5py.File(f"{wf_dataset}/data/train/synthetic_alpha_1.hdf5", "r+") as f:
        f["t0_fields/c"][0, 2, 3, 4] = np.nan
    assert main(["validate", wf_dataset, "--format", "json"]) == 1
    here = findings(capsys.readouterr().out)
    assert here, "the mutation must give findings"
    r = without_solvers("validate", wf_dataset, "--format", "json")
    assert r.returncode == 1, r.stderr[-2000:]
    assert findings(r.stdout) == here
    for cmd in (["rules"], ["schema"], ["info", f"{wf_dataset}/data/train/synthetic_alpha_1.hdf5"],
                ["plan", "rayleigh_benard", "--preset", "well", "--calibrate-steps", "0"]):
        r = without_solvers(*cmd)
        assert r.returncode == 0 and "Traceback" not in r.stderr, (cmd, r.stderr[-2000:])


def test_generating_without_dedalus_says_what_to_install(tmp_path):
    for cmd in (["generate", "shear_flow", "--out", str(tmp_path / "o")],
                ["plan", "shear_flow"]):
        r = without_solvers(*cmd)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "wellforge[generate]" in lines[0], lines
    assert not (tmp_path / "o").exists()
