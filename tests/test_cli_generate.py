"""Bad input to generate: exit 2, one line naming the key and the allowed values, nothing written."""

import os
import subprocess
import sys

import pytest

from wellforge.cli import main


def run_cli(args, capsys, tmp_path):
    out = tmp_path / "out"
    code = main([*args, "--out", str(out)] if args[0] == "generate" else args)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err, out


@pytest.mark.parametrize("args,needle", [
    (["generate", "no_such_system"], "unknown system 'no_such_system'; available: "),
    (["generate", "shear_flow", "--set", "Foo=1"], "--set Foo: unknown name; allowed: Reynolds, Schmidt"),
    (["generate", "shear_flow", "--set", "Reynolds=-5"], "parameters.Reynolds: -5 is out of range [1, 1e+07]"),
    (["generate", "shear_flow", "--set", "resolution=33,64"], "resolution.x: 33 is not FFT-friendly"),
    (["generate", "rayleigh_benard", "--set", "resolution=64,14"], "resolution.y: 14 is not FFT-friendly"),
    (["generate", "shear_flow", "--set", "n_frames=1"], "time.n_frames: need at least 2 frames"),
    (["generate", "shear_flow", "--preset", "huge"], "preset 'huge' not defined for shear_flow; available: tiny, well"),
    (["generate", "rayleigh_benard", "--set", "ic=warm"], "initial_conditions.ic: 'warm' is not one of consistent, well"),
])
def test_bad_cli_values(args, needle, capsys, tmp_path):
    code, err, out = run_cli(args, capsys, tmp_path)
    assert code == 2
    assert len(err) == 1 and needle in err[0], err
    assert not out.exists()


CONFIGS = {
    "malformed": ("system: shear_flow\nparameters: {product: [1, 2\n", "malformed YAML"),
    "count": ("system: shear_flow\npreset: tiny\nparameters: {product: {Reynolds: [1e4, 5e4], "
              "Schmidt: [1.0]}}\nexpected_runs: 5\n",
              "expected_runs: the sweep expands to 6 runs (2 parameter sets × 3 initial conditions), not 5"),
    "key": ("system: shear_flow\npreset: tiny\nresolutoin: [32, 64]\n", "unknown config key 'resolutoin'"),
    "zip": ("system: shear_flow\npreset: tiny\nparameters: {zip: {Reynolds: [1e4, 5e4], Schmidt: [1.0]}}\n",
            "parameters.zip: all lists must have the same length"),
    "missing": ("system: rayleigh_benard\npreset: tiny\nparameters: {product: {Rayleigh: [1e6]}}\n",
                "parameters: missing Prandtl"),
    "few_ics": ("system: rayleigh_benard\npreset: tiny\ninitial_conditions: {product: {dT: [1.0, 0.5]}}\n",
                "initial_conditions: 2 per parameter set; need >= 3"),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_bad_config_files(name, capsys, tmp_path):
    text, needle = CONFIGS[name]
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(text)
    code, err, out = run_cli(["generate", str(cfg)], capsys, tmp_path)
    assert code == 2
    assert len(err) == 1 and needle in err[0], err
    assert not out.exists()


def test_console_script_prints_no_traceback(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "wellforge")
    p = subprocess.run([exe, "generate", "shear_flow", "--set", "Schmidt=abc", "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "wellforge generate: error: parameters.Schmidt: expected a number, given 'abc'"]
    p = subprocess.run([exe, "generate"], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.splitlines()) == 1


def test_systems_lists_both(capsys):
    assert main(["systems"]) == 0
    out = capsys.readouterr().out
    assert "shear_flow" in out and "rayleigh_benard" in out and "Reynolds" in out
