"""``wellforge validate`` / ``wellforge rules`` on the command line: exit codes, bad
input, config, baseline, selection, isolation of crashing or hanging checks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from wellforge.validate import checks, registry

from wellforge.cli import main

TRAIN = "data/train/synthetic_alpha_1.hdf5"
TEST = "data/test/synthetic_alpha_21.hdf5"  # data faults here leave stats.yaml right
WF = [sys.executable, "-m", "wellforge.cli"]


def cli(capsys, *args):
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def report(capsys, *args):
    rc, out, _err = cli(capsys, "validate", *args, "--format", "json")
    return rc, json.loads(out)


def codes(doc):
    return {f["code"] for f in doc["findings"]}


def nan_frame(root):
    with h5py.File(os.path.join(root, TEST), "r+") as f:
        f["t0_fields/c"][1, 2] = np.nan


def constant_frame(root):
    with h5py.File(os.path.join(root, TEST), "r+") as f:
        f["t0_fields/c"][0, 3] = 0.5


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["validate", "/no/such/path.hdf5"],
    ["validate", "--no-such-option", "x"],
    ["validate", "--select", "WF999", "."],
    ["validate", "--select", "XYZ", "."],
    ["validate", "--format", "yaml", "."],
    ["validate", "--level", "9", "."],
    ["validate", "--baseline", "/no/such/baseline.json", "."],
    ["validate", "--format", "json", "--format", "sarif", "."],  # two reports to stdout
    ["validate", "--jobs", "0", "."],
    ["rules", "WF999"],
])
def test_usage_errors_exit_2_with_one_line(args):
    p = subprocess.run(WF + args, capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize("text,suffix", [
    ("[validate\nlevel = ", ".toml"),
    ("[validate]\nlevle = 3\n", ".toml"),
    ("validate:\n  per_path_ignores:\n    - {path: 'data/*', codes: [WF300]}\n", ".yaml"),
    ("validate:\n  select: [WF77]\n", ".yaml"),
    ("validate: [1, 2\n", ".yaml"),
    ("level = 3\n", ".ini"),
])
def test_malformed_config_exits_2(wf_dataset, tmp_path, text, suffix):
    cfg = tmp_path / f"wellforge{suffix}"
    cfg.write_text(text)
    p = subprocess.run(WF + ["validate", wf_dataset, "--config", str(cfg)], capture_output=True,
                       text=True, timeout=60, check=False)
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_unreadable_file_is_a_finding_and_exit_3(tmp_path):
    bad = tmp_path / "bad.hdf5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(2000))  # signature, then garbage
    p = subprocess.run(WF + ["validate", str(bad), "--format", "json"], capture_output=True,
                       text=True, timeout=60, check=False)
    assert p.returncode == 3
    doc = json.loads(p.stdout)
    assert codes(doc) == {"WF001"} and doc["summary"]["refused"] is True
    assert "Traceback" not in p.stderr


def test_directory_without_files_is_a_usage_error(tmp_path, capsys):
    rc, _out, err = cli(capsys, "validate", str(tmp_path))
    assert rc == 2 and "no .h5/.hdf5 files" in err


# -- exit codes and selection --------------------------------------------------------------

def test_warnings_fail_only_with_fail_on_warning(wf_dataset, capsys):
    constant_frame(wf_dataset)
    rc, doc = report(capsys, wf_dataset)
    assert rc == 0 and "WF301" in codes(doc)
    rc, doc = report(capsys, wf_dataset, "--fail-on", "warning")
    assert rc == 1


def test_exit_code_is_never_a_count(wf_dataset, capsys):
    for rel in ("data/train/synthetic_alpha_1.hdf5", "data/valid/synthetic_alpha_11.hdf5"):
        with h5py.File(os.path.join(wf_dataset, rel), "r+") as f:
            f["t1_fields/velocity"][...] = np.nan
    rc, doc = report(capsys, wf_dataset)
    assert doc["summary"]["errors"] > 3 and rc == 1


def test_select_and_ignore_by_prefix(wf_dataset, capsys):
    nan_frame(wf_dataset)
    constant_frame(wf_dataset)
    rc, doc = report(capsys, wf_dataset, "--select", "WF30")
    assert codes(doc) and all(c.startswith("WF30") for c in codes(doc))
    rc, doc = report(capsys, wf_dataset, "--ignore", "WF300,WF5")
    assert "WF300" not in codes(doc) and rc == 0


def test_level_limits_the_checks(wf_dataset, capsys):
    nan_frame(wf_dataset)
    rc, doc = report(capsys, wf_dataset, "--level", "1")
    assert rc == 0 and doc["findings"] == [] and doc["levels"] == [0, 1]


def test_refusals_cannot_be_ignored(wf_dataset, capsys):
    with h5py.File(os.path.join(wf_dataset, TRAIN), "r+") as f:
        f["leak"] = h5py.ExternalLink("/etc/passwd", "/x")
    rc, doc = report(capsys, wf_dataset, "--ignore", "WF0", "--select", "WF3")
    assert rc == 3 and "WF002" in codes(doc)


def test_jobs_give_the_same_report(wf_dataset, capsys):
    nan_frame(wf_dataset)
    constant_frame(wf_dataset)
    _, one = report(capsys, wf_dataset)
    _, two = report(capsys, wf_dataset, "--jobs", "2")
    assert one["findings"] == two["findings"]


# -- config and baseline --------------------------------------------------------------------

def test_config_per_path_ignore_and_severity(wf_dataset, tmp_path, capsys):
    nan_frame(wf_dataset)
    constant_frame(wf_dataset)
    cfg = tmp_path / "wellforge.toml"
    cfg.write_text('[validate]\nfail_on = "warning"\nseverity = { WF301 = "info" }\n'
                   '[[validate.per_path_ignores]]\npath = "data/test/*_alpha_21.hdf5"\n'
                   'codes = ["WF300"]\nreason = "known blow-up, regenerated in v2"\n')
    rc, doc = report(capsys, wf_dataset, "--config", str(cfg))
    assert "WF300" not in codes(doc) and doc["summary"]["suppressed"] >= 1
    assert [f["severity"] for f in doc["findings"] if f["code"] == "WF301"] == ["info"]
    assert rc == 0


def test_yaml_config_same_keys(wf_dataset, tmp_path, capsys):
    nan_frame(wf_dataset)
    cfg = tmp_path / "wellforge.yaml"
    cfg.write_text(yaml.safe_dump({"validate": {"ignore": ["WF300"], "level": 3}}))
    rc, doc = report(capsys, wf_dataset, "--config", str(cfg))
    assert rc == 0 and "WF300" not in codes(doc) and doc["levels"] == [0, 1, 2, 3]


def test_baseline_grandfathers_known_findings_only(wf_dataset, tmp_path, capsys):
    nan_frame(wf_dataset)
    base = tmp_path / "baseline.json"
    rc, _out, _ = cli(capsys, "validate", wf_dataset, "--format", "json", "--output", str(base))
    assert rc == 1
    rc, doc = report(capsys, wf_dataset, "--baseline", str(base))
    assert rc == 0 and doc["findings"] == [] and doc["summary"]["suppressed"] >= 1
    with h5py.File(os.path.join(wf_dataset, "data/valid/synthetic_alpha_11.hdf5"), "r+") as f:
        f["t0_fields/c"][0, 1] = np.inf  # a new fault is not in the baseline
    rc, doc = report(capsys, wf_dataset, "--baseline", str(base))
    assert rc == 1 and [f["file"].endswith("alpha_11.hdf5") for f in doc["findings"]] == [True]


def test_fingerprints_survive_moving_the_dataset(wf_dataset, tmp_path, capsys):
    nan_frame(wf_dataset)
    _, a = report(capsys, wf_dataset)
    moved = str(tmp_path / "elsewhere" / "synthetic")
    shutil.move(wf_dataset, moved)
    _, b = report(capsys, moved)
    assert [f["fingerprint"] for f in a["findings"]] == [f["fingerprint"] for f in b["findings"]]


# -- robustness: a failing, crashing or hanging check --------------------------------------

@pytest.fixture
def patched_check(monkeypatch):
    """Replace the function of a registered rule (the fork-based workers inherit it)."""
    def patch(code, func):
        rule = registry.REGISTRY[code]
        monkeypatch.setitem(registry.REGISTRY, code, rule.__class__(**{
            **{k: getattr(rule, k) for k in ("code", "level", "severity", "fix", "scope",
                                             "needs", "refuses")}, "func": func}))
    return patch


def test_a_check_that_raises_becomes_an_internal_finding(wf_dataset, patched_check, capsys):
    def boom(ctx):
        raise ZeroDivisionError("boom")
    patched_check("WF112", boom)
    nan_frame(wf_dataset)
    rc, doc = report(capsys, os.path.join(wf_dataset, TEST))
    internal = [f for f in doc["findings"] if f["code"] == "WF000"]
    assert internal and "ZeroDivisionError: boom" in internal[0]["message"]
    assert "WF300" in codes(doc)  # the run went on
    assert rc == 1


def test_a_crashing_worker_is_a_refusal_not_a_crash(wf_dataset, patched_check, capsys):
    def segfault(ctx):
        os.kill(os.getpid(), signal.SIGSEGV)
    patched_check("WF111", segfault)
    rc, doc = report(capsys, os.path.join(wf_dataset, TRAIN))
    assert rc == 3
    (f,) = doc["findings"]
    assert f["code"] == "WF001" and "SIGSEGV" in f["message"]


def test_a_hanging_file_times_out(wf_dataset, patched_check, capsys):
    def hang(ctx):
        time.sleep(60)
    patched_check("WF111", hang)
    t0 = time.monotonic()
    rc, doc = report(capsys, os.path.join(wf_dataset, TRAIN), "--timeout", "1")
    assert time.monotonic() - t0 < 20
    assert rc == 3 and "timed out" in doc["findings"][0]["message"]


# -- rules, changed-only, pre-commit ---------------------------------------------------------

def test_rules_lists_and_explains(capsys):
    rc, out, _ = cli(capsys, "rules")
    assert rc == 0
    listed = {line.split()[0] for line in out.splitlines()}
    assert set(checks.load_all()) == listed
    rc, out, _ = cli(capsys, "rules", "WF120")
    assert rc == 0 and "silently read as OPEN" in out and "Fix:" in out
    rc, out, _ = cli(capsys, "rules", "--format", "json")
    assert {r["code"] for r in json.loads(out)} == listed


def test_changed_only_validates_changed_files(wf_dataset, capsys, monkeypatch):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "data"]):
        subprocess.run(["git", *args], cwd=wf_dataset, check=True, env=env, capture_output=True)
    nan_frame(wf_dataset)
    monkeypatch.chdir(wf_dataset)
    rc, doc = report(capsys, ".", "--changed-only", "--base", "main")
    assert doc["summary"]["files"] == 1 and rc == 1
    assert {f["file"] for f in doc["findings"]} == {os.path.join(".", TEST)}


def test_pre_commit_hooks_file():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    hooks = yaml.safe_load(Path(root, ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "wellforge-validate"]
    assert hook["entry"].startswith("wellforge validate") and "--level" in hook["entry"]
    assert "hdf5" in hook["files"]


def test_readme_config_example_is_valid(tmp_path):
    """The wellforge.toml example in validate/README.md loads (keys, codes, reasons)."""
    import re

    from wellforge.validate.config import build_options, load_file

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = Path(root, "validate", "README.md").read_text()
    (block,) = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    cfg = tmp_path / "wellforge.toml"
    cfg.write_text(block)
    opts, pairs = build_options({}, load_file(str(cfg)))
    assert opts.level == 5 and opts.ignore == ["WF121"] and pairs == [("text", None)]
    assert opts.per_path_ignores and opts.limits.block_bytes == 32 << 20
