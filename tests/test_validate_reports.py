"""Every report format is checked against its own definition: JSON against the report
schema, SARIF against the vendored SARIF 2.1.0 schema, JUnit by an XML parser, GitHub
lines against the workflow-command syntax."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import h5py
import jsonschema
import numpy as np
import pytest
import wellforge.validate as wv

from wellforge.cli import main

SCHEMAS = os.path.join(os.path.dirname(wv.__file__), "schemas")
TRAIN = "data/train/synthetic_alpha_1.hdf5"


@pytest.fixture
def faulty(wf_dataset):
    """A dataset with an error (NaN frame), a warning (constant frame) and an info-level
    finding, plus a hostile object name (control characters, ':' and ',')."""
    with h5py.File(os.path.join(wf_dataset, TRAIN), "r+") as f:
        f["t0_fields/c"][1, 2] = np.nan
        f["t0_fields/c"][0, 3] = 0.5
        f["t0_fields"].create_dataset("evil\x1b[31m,name:%\n", data=np.zeros(3, np.float32))
    return wf_dataset


def _report(capsys, *args):
    rc = main(["validate", *args])
    return rc, capsys.readouterr()


def test_json_report_matches_schema_and_stdout_has_only_the_report(faulty, capsys):
    rc, out = _report(capsys, faulty, "--format", "json")
    assert rc == 1
    doc = json.loads(out.out)  # stdout is exactly one JSON document
    schema = json.loads(Path(SCHEMAS, "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    codes = {f["code"] for f in doc["findings"]}
    assert {"WF300", "WF301", "WF106"} <= codes
    assert doc["summary"]["errors"] == sum(f["severity"] == "error" for f in doc["findings"])
    assert sorted(doc["validated"]) == sorted(str(p) for p in Path(faulty).rglob("*.hdf5"))
    nan = next(f for f in doc["findings"] if f["code"] == "WF300")
    assert nan["object"] == "/t0_fields/c" and nan["region"]["trajectory"] == [1, 1]


def test_sarif_report_validates_against_sarif_2_1_0(faulty, tmp_path, capsys):
    schema_path = os.path.join(SCHEMAS, "sarif-schema-2.1.0.json")
    assert os.path.isfile(schema_path), "the SARIF 2.1.0 schema must be vendored"
    out = tmp_path / "r.sarif"
    rc, _ = _report(capsys, faulty, "--format", "sarif", "--output", str(out))
    assert rc == 1
    doc = json.loads(out.read_text())
    schema = json.loads(Path(schema_path).read_text())
    jsonschema.Draft4Validator(schema).validate(doc)
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for res in run["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        # GitHub code scanning wants a region on every result: line 1 (no line applies)
        assert res["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert any(r["ruleId"] == "WF300" and r["level"] == "error" for r in run["results"])


def test_junit_report_parses_and_counts_failures(faulty, tmp_path, capsys):
    out = tmp_path / "r.xml"
    _rc, _ = _report(capsys, faulty, "--format", "junit", "--output", str(out))
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    failures = root.findall(".//failure")
    assert int(root.get("failures")) == len(failures) >= 1
    assert any("WF300" in tc.get("name") for tc in root.iter("testcase")
               if tc.find("failure") is not None)
    # warnings are below --fail-on error: test cases without a failure
    assert any("WF301" in tc.get("name") and tc.find("failure") is None
               for tc in root.iter("testcase"))


GH = re.compile(r"^::(error|warning|notice) file=[^,:\n]*,title=[^,:\n]*::[^\r\n]*$")


def test_github_annotations_follow_workflow_command_syntax(faulty, capsys):
    _rc, out = _report(capsys, faulty, "--format", "github")
    lines = out.out.splitlines()
    assert lines and all(GH.match(line) for line in lines), lines
    assert any(line.startswith("::error ") and "WF300" in line for line in lines)
    assert all("\x1b" not in line for line in lines)


def test_several_formats_each_to_its_own_output(faulty, tmp_path, capsys):
    j, s = tmp_path / "r.json", tmp_path / "r.sarif"
    rc, out = _report(capsys, faulty, "--format", "json", "--output", str(j),
                      "--format", "sarif", "--output", str(s), "--format", "text")
    assert rc == 1
    assert json.loads(j.read_text())["schema_version"] == "1.0"
    assert json.loads(s.read_text())["version"] == "2.1.0"
    assert "WF300" in out.out and out.out.rstrip().splitlines()[-1].startswith("6 file(s)")


def test_text_report_escapes_control_characters(faulty, capsys):
    _rc, out = _report(capsys, faulty)
    assert "\x1b" not in out.out
    assert "evil\\x1b[31m" in out.out


def test_clean_junit_has_one_suite_per_file(wf_dataset, tmp_path, capsys):
    """No findings: still one <testsuite> per file validated, each one passing case."""
    out = tmp_path / "r.xml"
    rc, _ = _report(capsys, wf_dataset, "--format", "junit", "--output", str(out))
    root = ET.parse(out).getroot()
    suites = root.findall("testsuite")
    files = sorted(str(p) for p in Path(wf_dataset).rglob("*.hdf5"))
    assert rc == 0 and root.get("failures") == "0" and root.get("tests") == str(len(files))
    assert sorted(s.get("name") for s in suites) == files and len(files) == 6
    assert all(len(s.findall("testcase")) == 1 and s.get("tests") == "1" for s in suites)


def test_junit_files_without_findings_keep_their_suite(faulty, tmp_path, capsys):
    out = tmp_path / "r.xml"
    _report(capsys, faulty, "--format", "junit", "--output", str(out))
    suites = {s.get("name"): s for s in ET.parse(out).getroot().findall("testsuite")}
    files = [str(p) for p in Path(faulty).rglob("*.hdf5")]
    assert set(files) <= set(suites)
    clean = [f for f in files if not f.endswith(TRAIN)]
    assert clean and all([tc.get("name") for tc in suites[f].findall("testcase")]
                         == ["all checks"] for f in clean)
