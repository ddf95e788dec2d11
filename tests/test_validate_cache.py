"""The result cache (validate.cache): an unchanged rerun reports the same findings without
validating a file again; touching or changing a file, or changing the settings, does
validate it again."""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest
from wellforge.validate import runner

from wellforge.cli import main

TEST = "data/test/synthetic_alpha_21.hdf5"


@pytest.fixture
def validated(monkeypatch):
    """The files each ``wellforge validate`` run validated (not taken from the cache)."""
    seen: list[list[str]] = []
    real = runner.run_files

    def spy(targets, opts, needs):
        seen.append(sorted(os.path.basename(t.path) for t in targets))
        return real(targets, opts, needs)

    monkeypatch.setattr(runner, "run_files", spy)
    return seen


def run(capsys, *args, fmt="json"):
    rc = main(["validate", *args, "--format", fmt])
    return rc, capsys.readouterr().out


def test_an_unchanged_rerun_reports_the_same_without_reading(wf_dataset, tmp_path, capsys,
                                                               validated):
    with h5py.File(os.path.join(wf_dataset, TEST), "r+") as f:
        f["t0_fields/c"][1, 2] = np.nan  # a finding to carry through the cache
    cache = str(tmp_path / "cache")
    first = {fmt: run(capsys, wf_dataset, "--cache", cache, fmt=fmt)
             for fmt in ("json", "text", "sarif", "junit")}
    assert len(validated[0]) == 6
    validated.clear()
    again = {fmt: run(capsys, wf_dataset, "--cache", cache, fmt=fmt)
             for fmt in ("json", "text", "sarif", "junit")}
    assert again == first  # the same exit code and every report byte for byte
    assert validated == [[]] * 4  # no file was validated again
    doc = json.loads(first["json"][1])
    assert first["json"][0] == 1 and "WF300" in {f["code"] for f in doc["findings"]}
    # the dataset checks still see each file's summary: a wrong stats.yaml is found
    stats = os.path.join(wf_dataset, "stats.yaml")
    text = open(stats).read()
    with open(stats, "w") as fh:
        fh.write(text.replace("mean:", "mean_was:", 1))
    rc, out = run(capsys, wf_dataset, "--cache", cache)
    assert validated[-1] == [] and "WF520" in {f["code"] for f in json.loads(out)["findings"]}


def test_touching_or_changing_a_file_validates_it_again(wf_dataset, tmp_path, capsys,
                                                        validated):
    cache = str(tmp_path / "cache")
    path = os.path.join(wf_dataset, TEST)
    rc, out = run(capsys, wf_dataset, "--cache", cache)
    assert rc == 0
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    run(capsys, wf_dataset, "--cache", cache)
    assert validated[-1] == [os.path.basename(path)]
    with h5py.File(path, "r+") as f:  # same size, new content
        f["t0_fields/c"][1, 2] = np.inf
    rc, out = run(capsys, wf_dataset, "--cache", cache)
    assert validated[-1] == [os.path.basename(path)]
    assert rc == 1 and "WF300" in {f["code"] for f in json.loads(out)["findings"]}


def test_other_settings_validate_again(wf_dataset, tmp_path, capsys, validated):
    cache = str(tmp_path / "cache")
    run(capsys, wf_dataset, "--cache", cache)
    run(capsys, wf_dataset, "--cache", cache, "--level", "3")
    run(capsys, wf_dataset, "--cache", cache, "--ignore", "WF300")
    cfg = tmp_path / "wellforge.toml"
    cfg.write_text("[validate.limits]\nblock_bytes = 65536\n")
    run(capsys, wf_dataset, "--cache", cache, "--config", str(cfg))
    run(capsys, wf_dataset, "--cache", cache, "--config", str(cfg))
    assert [len(v) for v in validated] == [6, 6, 6, 6, 0]


def test_no_cache_stores_nothing_and_the_default_is_the_users_cache_dir(wf_dataset, tmp_path,
                                                                         capsys, validated,
                                                                         monkeypatch):
    home = tmp_path / "xdg"
    monkeypatch.setenv("WELLFORGE_CACHE_DIR", str(home))
    run(capsys, wf_dataset, "--no-cache")
    run(capsys, wf_dataset, "--no-cache")
    assert not home.exists() and [len(v) for v in validated] == [6, 6]
    run(capsys, wf_dataset)
    run(capsys, wf_dataset)
    assert [len(v) for v in validated[2:]] == [6, 0]
    assert len([p for p in home.rglob("*.json")]) == 6


def test_the_default_cache_dir_follows_xdg(monkeypatch, tmp_path):
    from wellforge.validate.cache import default_dir

    monkeypatch.delenv("WELLFORGE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_dir() == os.path.join(str(tmp_path), "wellforge", "validate")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_dir() == os.path.join(str(tmp_path), "home", ".cache", "wellforge",
                                         "validate")
