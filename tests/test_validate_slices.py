"""``validate --slice I/N`` and ``merge-reports``: the slices of a run cover every file once,
balanced by size, and their merged report is the report of the whole run, the dataset
checks run from the summaries the slices left (no data file read again)."""

from __future__ import annotations

import json
import os
import random
import shutil

import jsonschema
import pytest
from wellforge.validate import runner, stream
from wellforge.validate.slices import assign

from wellforge.cli import main

FORMATS = ("json", "text", "sarif", "junit", "github")
SCHEMA = json.load(open(os.path.join(os.path.dirname(runner.__file__), "schemas",
                                     "report.schema.json")))


def test_the_cut_is_deterministic_complete_and_balanced(tmp_path):
    rng = random.Random(3)
    paths = []
    for i in range(40):
        p = tmp_path / f"f{i:02d}.h5"
        p.write_bytes(b"x" * rng.randrange(1, 50_000))
        paths.append(str(p))
    for n in (1, 3, 7):
        cut = assign(paths, n)
        assert cut == assign(list(paths), n) and set(cut) == set(range(1, n + 1))
        loads = [sum(os.path.getsize(p) for p, s in zip(paths, cut) if s == k)
                 for k in range(1, n + 1)]
        biggest = max(os.path.getsize(p) for p in paths)
        assert max(loads) - min(loads) <= biggest  # greedy largest-first bound


@pytest.mark.parametrize("bad", ["0/3", "4/3", "1/0", "x", "2"])
def test_a_bad_slice_is_a_usage_error(wf_dataset, capsys, bad):
    assert main(["validate", wf_dataset, "--slice", bad]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--slice" in err[0] and "I/N" in err[0]


@pytest.fixture
def faulty(wf_dataset):
    """A trajectory copied from train into test (WF510) and a wrong stats.yaml (WF520):
    findings only the dataset checks make, across files of different slices."""
    shutil.copy(os.path.join(wf_dataset, "data/train/synthetic_alpha_1.hdf5"),
                os.path.join(wf_dataset, "data/test/copy.hdf5"))
    stats = os.path.join(wf_dataset, "stats.yaml")
    text = open(stats).read()
    with open(stats, "w") as fh:
        fh.write(text.replace("mean:", "mean_x:", 1))
    return wf_dataset


def _run(capsys, *args):
    rc = main(list(args))
    return rc, capsys.readouterr().out


def test_merged_slices_report_the_whole_run(faulty, tmp_path, capsys, monkeypatch):
    whole = {f: _run(capsys, "validate", faulty, "--no-cache", "--format", f) for f in FORMATS}
    doc = json.loads(whole["json"][1])
    assert whole["json"][0] == 1 and {"WF510", "WF520"} <= {f["code"] for f in doc["findings"]}
    parts = []
    for i in (1, 2, 3):
        out = str(tmp_path / f"slice{i}.json")
        rc = main(["validate", faulty, "--no-cache", "--slice", f"{i}/3", "--format", "json",
                   "--output", out])
        part = json.load(open(out))
        jsonschema.validate(part, SCHEMA)
        assert rc in (0, 1) and part["slice"]["index"] == i
        assert not {"WF510", "WF520"} & {f["code"] for f in part["findings"]}
        parts.append(out)
    files = [f["path"] for p in parts for f in json.load(open(p))["slice"]["files"]]
    assert len(files) == len(set(files)) == doc["summary"]["files"] == 7

    def no_reading(*a, **k):
        raise AssertionError("merge-reports read a data file")

    monkeypatch.setattr(runner, "run_files", no_reading)
    monkeypatch.setattr(stream, "run_stream", no_reading)
    for fmt in FORMATS:
        out = str(tmp_path / f"merged.{fmt}")
        rc = main(["merge-reports", *parts[::-1], "--format", fmt, "--output", out])
        assert (rc, open(out).read()) == whole[fmt], fmt


def test_incomplete_or_mixed_slices_are_usage_errors(wf_dataset, tmp_path, capsys):
    def part(i, n, *extra):
        out = str(tmp_path / f"s{i}of{n}{''.join(extra)}.json")
        main(["validate", wf_dataset, "--slice", f"{i}/{n}", "--format", "json", "-o", out,
              *extra])
        return out

    a, b = part(1, 2), part(2, 2)
    other = part(2, 2, "--level=4")
    whole = str(tmp_path / "whole.json")
    main(["validate", wf_dataset, "--format", "json", "-o", whole])
    capsys.readouterr()
    for args, says in (([a], "2/2 missing"), ([a, a, b], "given twice"),
                       ([a, other], "another run"), ([a, whole], "not the report of a slice"),
                       ([a, str(tmp_path / "nope.json")], "cannot read")):
        assert main(["merge-reports", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], (says, err)
    assert main(["merge-reports", a, b]) == 0


def test_a_refused_file_in_a_slice_refuses_the_merged_run(wf_dataset, tmp_path, capsys):
    with open(os.path.join(wf_dataset, "data/valid/synthetic_alpha_11.hdf5"), "r+b") as fh:
        fh.write(b"garbage!")  # the HDF5 signature gone
    outs = []
    for i in (1, 2):
        outs.append(str(tmp_path / f"s{i}.json"))
        main(["validate", wf_dataset, "--slice", f"{i}/2", "--format", "json", "-o", outs[-1]])
    capsys.readouterr()
    assert main(["merge-reports", *outs]) == 3
