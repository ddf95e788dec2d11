"""Findings that name one cause (issue 15): frames labelled with index and time, one
finding per non-finite region (the checks that would read it step aside with a note),
fix texts for the side of the bound that is crossed, the severity the rules table lists,
and the faults a fuzzer found unreported or reported as a crash (WF000) — each file built
here with h5py, each with its expected code and severity."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from wellforge.validate.checks import load_all
from wellforge.validate.context import Options
from wellforge.validate.findings import Issue, Severity
from wellforge.validate.registry import REGISTRY
from wellforge.validate.runner import validate

from tests.test_validate_physics import CHEB_CARD, write_chebyshev_fixture

TRAIN = "data/train/synthetic_alpha_1.hdf5"
GOLDEN = Path(__file__).parent / "golden" / "mutations"


def run(paths, **kw):
    opts = Options(**kw)
    rep = validate([str(p) for p in paths], opts)
    return rep, rep.exit_code(opts.fail_on)


def codes(rep):
    return sorted((f.code, f.severity.label) for f in rep.findings)


def edit(root, rel=TRAIN):
    return h5py.File(os.path.join(root, rel), "r+")


# -- frames: index and time ---------------------------------------------------------------

def test_frames_are_labelled_with_index_and_time(wf_dataset):
    """WF300 (a frame set) and WF402 (a worst frame) both say 'frame k, t = ...' with
    the time the file stores for frame k (dt = 0.5 here), and WF402 names its source
    once (not 'values of X, X')."""
    with edit(wf_dataset) as f:
        f["t0_fields/c"][1, 2] = np.nan
        v = f["t1_fields/velocity"]
        a = v[0, 3]
        a[:, 0, 1] += 0.5  # the normal velocity next to the low wall of y
        v[0, 3] = a
        t = f["dimensions/time"][()]
    rep, rc = run([os.path.join(wf_dataset, TRAIN)])
    assert rc == 1
    nan = [f for f in rep.findings if f.code == "WF300"]
    assert len(nan) == 1 and f"at frame 2 (t = {t[2]:g})" in nan[0].message
    walls = [f for f in rep.findings if f.code == "WF402"]
    assert walls and all(f"worst at frame 3, t = {t[3]:g}" in f.message for f in walls)
    for f in walls:
        src = re.search(r"; (.*)\) in \d+ frame", f.message).group(1)
        parts = [p.strip() for p in src.split(",")]
        assert len(parts) == len(set(parts)), f.message
        assert not any(p.startswith("values of ") and p[len("values of "):] in parts
                       for p in parts), f.message


def test_text_report_labels_the_region_as_frames(wf_dataset, capsys):
    from wellforge.cli import main

    with edit(wf_dataset) as f:
        f["t0_fields/c"][1, 2] = np.nan
    main(["validate", os.path.join(wf_dataset, TRAIN)])
    out = capsys.readouterr().out
    assert "[traj 1, frame 2]: WF300" in out


# -- non-finite data: one finding ---------------------------------------------------------

def test_one_nan_is_one_finding(wf_dataset):
    """A NaN in the velocity of a train file: one WF300 error for the dataset, not also
    the walls (WF402 'tolerance nan') and six statistics (WF520) computed from it; the
    checks that stepped aside say so in notes."""
    with edit(wf_dataset) as f:
        f["t1_fields/velocity"][1, 2, 3, 0, 1] = np.nan
    rep, rc = run([wf_dataset])
    assert codes(rep) == [("WF300", "error")] and rc == 1
    assert "frame 2 (t = 1)" in rep.findings[0].message
    notes = " | ".join(n["note"] for n in rep.notes)
    assert "left out of the wall checks (WF402)" in notes
    assert "stats.yaml: velocity not compared" in notes and "WF300" in notes


def test_nonfinite_frames_leave_other_frames_checked(wf_dataset):
    """The walls of the finite frames are still checked: a wall fault elsewhere in the
    same trajectory is reported beside the NaN."""
    with edit(wf_dataset) as f:
        v = f["t1_fields/velocity"]
        v[1, 2, 3, 0, 1] = np.nan
        a = v[1, 4]
        a[:, 0, 1] += 0.5
        v[1, 4] = a
    rep, _ = run([os.path.join(wf_dataset, TRAIN)])
    walls = [f for f in rep.findings if f.code == "WF402"]
    assert {f.code for f in rep.findings} == {"WF300", "WF402"}
    assert walls and all("nan" not in f.message and f.region["time"] == [4, 4]
                         for f in walls)


# -- fix texts for the side of the bound ----------------------------------------------------

@pytest.mark.parametrize("field,value,side", [("b", 1.329, "above"), ("b", -0.2, "below"),
                                              ("c", -0.5, "negative")])
def test_range_fix_speaks_of_the_side_crossed(tmp_path, field, value, side):
    p = write_chebyshev_fixture(str(tmp_path / "cheb.hdf5"))
    with h5py.File(p, "r+") as f:
        d = f[f"t0_fields/{field}"]
        d[0, 2, 5, 5] = value
    rep, _ = run([p])
    hit = [f for f in rep.findings if f.code == "WF415"]
    assert len(hit) == 1 and f"= {value:.4g}" in hit[0].message
    fix = hit[0].fix
    if side == "above":
        assert "overshoots its upper bound" in fix and "negative" not in fix
    elif side == "below":
        assert "below its lower bound" in fix and "negative" not in fix
    else:
        assert "cannot be negative" in fix


# -- the severity the rules table lists -----------------------------------------------------

def test_every_recorded_finding_carries_a_severity_its_rule_lists():
    """Every finding of every golden record (every rule has one: the mutation harness
    covers them all) carries a severity in ``Rule.severities``, which ``wellforge
    rules`` prints."""
    rules = load_all()
    seen = set()
    for path in sorted(GOLDEN.glob("*.json")):
        for f in json.loads(path.read_text()):
            sev = Severity.parse(f["severity"])
            assert sev in rules[f["code"]].severities, (path.name, f["code"], f["severity"])
            seen.add(f["code"])
    assert len(seen) > 60


def test_rules_table_lists_every_severity(capsys):
    from wellforge.cli import main

    rules = load_all()
    assert main(["rules", "--format", "json"]) == 0
    table = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(table) == set(rules)
    for code, r in rules.items():
        assert table[code]["severities"] == [s.label for s in r.severities]
        assert table[code]["severity"] == r.severity.label
        assert table[code]["severity_text"].split(";")[0] == r.severity.label
    assert table["WF520"]["severities"] == ["error"] and table["WF530"]["severities"] == ["error"]
    assert "info" in table["WF130"]["severity_text"]


def test_an_unlisted_severity_falls_back_to_the_rules_table():
    from wellforge.validate.runner import _finding

    load_all()
    rule = REGISTRY["WF520"]
    f = _finding(rule, Issue("/", "x", severity=Severity.WARNING), Options(), "a", "a")
    assert f.severity == Severity.ERROR
    rule = REGISTRY["WF130"]
    f = _finding(rule, Issue("/", "x", severity=Severity.INFO), Options(), "a", "a")
    assert f.severity == Severity.INFO


# -- the fuzz misses, each with its code and severity ----------------------------------------

def _param_void(root):
    with edit(root) as f:
        f.attrs["alpha"] = np.void(b"\xff\xfe\xfd")


def _param_bytes(root):
    with edit(root) as f:
        f.attrs["alpha"] = b"\xff\xfe"


def _param_names(root):
    with edit(root) as f:
        f.attrs["simulation_parameters"] = np.array([b"\xff\xfe"], dtype="S2")


def _field_names(root):
    with edit(root) as f:
        f["t0_fields"].attrs["field_names"] = np.array([b"c\xff"], dtype="S2")


def _units(root):
    with edit(root) as f:
        f["t0_fields/c"].attrs["units"] = b"\xff\xfe"


def _bc_type(root):
    with edit(root) as f:
        f["boundary_conditions/x_periodic"].attrs["bc_type"] = b"\xffPERIODIC"


def _appended(root):
    with open(os.path.join(root, TRAIN), "ab") as fh:
        fh.write(b"\0appended" * 100)


def _no_stats(root):
    os.remove(os.path.join(root, "stats.yaml"))


def _no_metadata(root):
    os.remove(os.path.join(root, "synthetic.yaml"))


def _stats_text(text):
    def mutate(root):
        Path(root, "stats.yaml").write_text(text)
    return mutate


def _huge(fname, put):
    """1e400 (inf once parsed) written into a YAML file of the dataset by ``put``."""
    def mutate(root):
        p = Path(root, fname)
        doc = yaml.safe_load(p.read_text())
        put(doc)
        p.write_text(yaml.safe_dump(doc).replace(".inf", "1.0e+400"))
    return mutate


def _metadata_text(text):
    def mutate(root):
        Path(root, "synthetic.yaml").write_text(text)
    return mutate


DEEP = "[" * 5000 + "]" * 5000

#: (fault, what is validated: the file or the dataset, the findings expected exactly)
FUZZ = {
    "parameter-attribute-opaque-bytes": (_param_void, "file", [("WF104", "error")]),
    "parameter-attribute-not-utf8": (_param_bytes, "file", [("WF104", "error")]),
    "parameter-names-not-utf8": (_param_names, "file", [("WF102", "error")]),
    "field-names-not-utf8": (_field_names, "file", [("WF102", "error")]),
    "units-not-utf8": (_units, "file", [("WF130", "error")]),
    "bc-type-not-utf8": (_bc_type, "file", None),
    "bytes-after-end-of-file": (_appended, "file", [("WF010", "warning")]),
    "no-stats-yaml": (_no_stats, "dataset", [("WF520", "error")]),
    "no-metadata-yaml": (_no_metadata, "dataset", [("WF530", "error")]),
    "stats-yaml-1e400": (_huge("stats.yaml", lambda d: d["mean"].update(c=1e400)), "dataset",
                         [("WF520", "error")]),
    "metadata-yaml-1e400": (_huge("synthetic.yaml", lambda d: d.update(
        n_trajectories_per_file=[1e400] * len(d["n_trajectories_per_file"]))), "dataset",
        [("WF531", "error")]),
    "stats-yaml-recursive": (_stats_text("mean: &a\n  c: [*a]\n"), "dataset",
                             [("WF520", "error")]),
    "stats-yaml-5000-deep": (_stats_text(f"mean: {DEEP}\n"), "dataset", [("WF520", "error")]),
    "metadata-yaml-recursive": (_metadata_text("dataset_name: &a [*a]\n"), "dataset",
                                [("WF530", "error")]),
    "metadata-yaml-5000-deep": (_metadata_text(f"dataset_name: {DEEP}\n"), "dataset",
                                [("WF530", "error")]),
}


@pytest.mark.parametrize("name", sorted(FUZZ))
def test_fuzz_case_gives_its_finding(wf_dataset, name):
    """No check raises (no WF000) and the fault gives exactly its finding, with the
    severity the rules table lists for it."""
    fault, what, want = FUZZ[name]
    fault(wf_dataset)
    target = os.path.join(wf_dataset, TRAIN) if what == "file" else wf_dataset
    rep, rc = run([target])
    got = codes(rep)
    assert "WF000" not in {c for c, _ in got}, [f.message for f in rep.findings]
    if want is None:  # a BC type that is not text: reported, as an error, not a crash
        assert got and all(s == "error" for _, s in got), got
    else:
        assert got == want, [(f.code, f.message) for f in rep.findings]
    rules = load_all()
    assert all(Severity.parse(s) in rules[c].severities for c, s in got)
    assert rc == (1 if any(s == "error" for _, s in got) else 0)


def _card_file(tmp_path) -> str:
    p = tmp_path / "card.yaml"
    p.write_text(yaml.safe_dump(CHEB_CARD))
    return str(p)


def test_deleted_bc_group_is_an_error_where_the_card_declares_it(tmp_path):
    """Without its BC group the loader reads the axis as OPEN: an error when the card
    declares the axis WALL, a warning without a card."""
    p = write_chebyshev_fixture(str(tmp_path / "cheb.hdf5"))
    with h5py.File(p, "r+") as f:
        name = next(n for n in f["boundary_conditions"] if n.startswith("y"))
        del f["boundary_conditions"][name]
    rep, rc = run([p])
    hit = [f for f in rep.findings if f.code == "WF123"]
    assert [(f.severity.label) for f in hit] == ["error"] and rc == 1
    assert "the system card declares WALL" in hit[0].message
    q = write_chebyshev_fixture(str(tmp_path / "plain.hdf5"), embed=False)
    with h5py.File(q, "r+") as f:
        name = next(n for n in f["boundary_conditions"] if n.startswith("y"))
        del f["boundary_conditions"][name]
    rep, _ = run([q])
    assert [(f.code, f.severity.label) for f in rep.findings if f.code == "WF123"] == [
        ("WF123", "warning")]


@pytest.mark.parametrize("ends,severity", [(1.0, "warning"), (0.0, "error")])
def test_float32_bc_mask(tmp_path, ends, severity):
    """A float32 mask: a warning when the loader's truth values still give the wall at
    both ends (1.0), an error when they give OPEN (0.0 at the ends) and the card declares
    the axis WALL (WF120 names the sides)."""
    p = write_chebyshev_fixture(str(tmp_path / "cheb.hdf5"))
    with h5py.File(p, "r+") as f:
        g = f["boundary_conditions"][next(n for n in f["boundary_conditions"]
                                          if n.startswith("y"))]
        m = g["mask"][()].astype(np.float32)
        m[[0, -1]] = ends
        del g["mask"]
        g.create_dataset("mask", data=m)
    rep, _ = run([p])
    hit = [f for f in rep.findings if f.code == "WF119"]
    assert [f.severity.label for f in hit] == [severity], codes(rep)
    if severity == "error":
        assert "the loader reads 'y' as OPEN where the card declares WALL" in hit[0].message
    assert "WF000" not in {f.code for f in rep.findings}


def test_hostile_yaml_card_is_a_clear_error(tmp_path, capsys):
    from wellforge.cli import main

    p = tmp_path / "card.yaml"
    p.write_text(f"name: {DEEP}\n")
    assert main(["check-card", str(p)]) != 0
    err = capsys.readouterr().err
    assert "nested more than" in err and "Traceback" not in err
