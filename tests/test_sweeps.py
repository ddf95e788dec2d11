"""Sweeps as a cluster runs them: job-array slices and pack, two commands on one output,
leases, edited physics, status and clean, the MPI layout, one-split datasets.

Commands run as a user runs them: the ``wellforge`` executable in a subprocess where
separate invocations matter (concurrency, kill -9, a fresh import of edited code)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import yaml

from wellforge.cli import main
from wellforge.schema.dataset import SPLITS, split_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WF = os.path.join(os.path.dirname(sys.executable), "wellforge")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMEXPR_MAX_THREADS": "1",
       "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
#: rayleigh_benard's parameters, written in the order opposite to the card's (Rayleigh,
#: Prandtl): the file names must not depend on it
RB = ["rayleigh_benard", "--set", "n_frames=4", "--set", "Prandtl=1", "--set",
      "Rayleigh=1e6,1e7", "--set", "spinup=0", "--no-progress"]


def wf(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([WF, *args], env=ENV, capture_output=True, text=True,
                          timeout=kw.pop("timeout", 600), **kw)


def data_files(root) -> list[str]:
    return [p for s in SPLITS for p in split_files(str(root), s)]


def contents(root) -> dict:
    """Every data array of a dataset by (relative path, object)."""
    out = {}
    for p in data_files(root):
        rel = os.path.relpath(p, root)
        with h5py.File(p) as f:
            for g in ("dimensions", "scalars", "t0_fields", "t1_fields", "t2_fields"):
                for n, d in f[g].items():
                    out[(rel, f"{g}/{n}")] = d[()]
    return out


def assert_same_dataset(a, b) -> None:
    ca, cb = contents(a), contents(b)
    assert sorted(ca) == sorted(cb)
    for k in ca:
        np.testing.assert_array_equal(ca[k], cb[k], err_msg=str(k))


@pytest.fixture(scope="module")
def unsliced(tmp_path_factory):
    out = tmp_path_factory.mktemp("unsliced")
    assert main(["generate", *RB, "--out", str(out)]) == 0
    return out / "rayleigh_benard"


# -- job arrays: slices and pack --------------------------------------------------------

def test_slices_then_pack_twice_equal_one_unsliced_run(unsliced, tmp_path, capsys):
    assert main(["generate", *RB, "--out", str(tmp_path), "--slice", "0/2"]) == 0
    out = capsys.readouterr().out
    assert "3 runs pending" in out and "nothing packed" in out
    root = tmp_path / "rayleigh_benard"
    assert data_files(root) == []  # one slice unfinished: nothing packed
    # ... but each file whose runs are all done is packed ahead in the work dir (here each
    # file holds one run: slice 0's three), to be moved in when the whole plan is done
    staged = tmp_path / ".wellforge-rayleigh_benard" / "packed"
    assert len(glob.glob(str(staged / "*" / "*.hdf5"))) == 3
    assert main(["pack", str(root)]) == 0  # the pack job started too early
    assert "3 runs pending" in capsys.readouterr().out and data_files(root) == []
    assert main(["generate", *RB, "--out", str(tmp_path), "--slice", "1/2"]) == 0  # packs
    assert glob.glob(str(staged / "*" / "*.hdf5")) == []  # moved in (and slice 1's packed)
    names = sorted(os.path.relpath(p, root) for p in data_files(root))
    for _ in range(2):  # then the pack job, twice: a pure function of the runs
        assert main(["pack", str(root)]) == 0
    assert sorted(os.path.relpath(p, root) for p in data_files(root)) == names
    assert names == sorted(f"data/{s}/rayleigh_benard_Rayleigh_{ra}_Prandtl_1e0.hdf5"
                           for s in SPLITS for ra in ("1e6", "1e7"))
    assert_same_dataset(unsliced, root)
    from .well_loader import require_well

    require_well()
    from the_well.data import WellDataset

    # 2 parameter files × 1 train trajectory × 3 windows of (1 in, 1 out) in 4 frames
    ds = WellDataset(path=str(root), well_split_name="train", n_steps_input=1,
                     n_steps_output=1, use_normalization=False)
    assert len(ds) == 2 * 1 * 3


def test_pack_removes_files_of_an_older_pack(unsliced, tmp_path):
    out = tmp_path / "o"
    shutil.copytree(unsliced.parent, out)
    root = out / "rayleigh_benard"
    stray = root / "data" / "train" / "rayleigh_benard_Prandtl_1e0_Rayleigh_1e6.hdf5"
    shutil.copy(data_files(root)[0], stray)  # as the old pack named it
    assert main(["pack", str(root)]) == 0
    assert not stray.exists()
    assert_same_dataset(unsliced, root)


# -- duplicates are errors ---------------------------------------------------------------

@pytest.mark.parametrize("dest", ["train/copy.hdf5", "test/leak.hdf5"])
def test_a_trajectory_twice_fails_validate(unsliced, tmp_path, dest, capsys):
    out = tmp_path / "o"
    shutil.copytree(unsliced.parent, out)
    root = out / "rayleigh_benard"
    train = [p for p in data_files(root) if "/train/" in p][0]
    shutil.copy(train, root / "data" / dest)
    assert main(["validate", str(root), "--format", "json"]) == 1
    rep = json.loads(capsys.readouterr().out)
    codes = {(f["code"], f["severity"]) for f in rep["findings"]}
    assert ("WF511" if dest.startswith("train") else "WF510", "error") in codes


def test_the_same_run_regenerated_into_another_split_is_found_by_run_id(unsliced, tmp_path,
                                                                         capsys):
    """Data that differ (a regenerated run is not bitwise equal to a copy once its bytes
    change) but the same run id: still the same trajectory."""
    out = tmp_path / "o"
    shutil.copytree(unsliced.parent, out)
    root = out / "rayleigh_benard"
    train = [p for p in data_files(root) if "/train/" in p][0]
    dup = root / "data" / "valid" / "dup.hdf5"
    shutil.copy(train, dup)
    with h5py.File(dup, "r+") as f:
        for n in f["t0_fields"]:
            f["t0_fields"][n][:, 1:] *= np.float32(1.001)
    assert main(["validate", str(root), "--format", "json", "--select", "WF510"]) == 1
    rep = json.loads(capsys.readouterr().out)
    assert any("same run id" in f["message"] for f in rep["findings"])


# -- plan ---------------------------------------------------------------------------------

def test_plan_reports_the_configs_ranks_per_run(capsys):
    cfg = os.path.join(ROOT, "mpi_runs", "configs", "shear_flow_well.yaml")
    assert main(["plan", cfg, "--ranks", "1024", "--calibrate-steps", "0", "--json"]) == 0
    est = json.loads(capsys.readouterr().out)
    assert est["ranks_per_run"] == 16 and est["groups"] == 64
    assert est["ranks_per_run_source"] == "the config's ranks_per_run"
    assert main(["plan", cfg, "--ranks", "1024", "--ranks-per-run", "8",
                 "--calibrate-steps", "0", "--json"]) == 0
    est = json.loads(capsys.readouterr().out)
    assert est["ranks_per_run"] == 8 and est["groups"] == 128  # the flag wins


def test_the_well_preset_and_the_well_config_give_the_same_runs():
    from wellforge.generators.commands import load_plan

    a = load_plan("rayleigh_benard", "well", [])
    b = load_plan(os.path.join(ROOT, "mpi_runs", "configs", "rayleigh_benard_well.yaml"),
                  None, [])
    assert len(a.runs) == 1750 and [r.run_id for r in a.runs] == [r.run_id for r in b.runs]
    assert {r.ic["ic"] for r in a.runs} == {"well"}


def test_launch_scripts_pass_ranks_per_run_only_when_set():
    for name in ("slurm.sbatch", "slurm_array.sbatch", "pbs.sh", "run_local.sh"):
        text = open(os.path.join(ROOT, "mpi_runs", name)).read()
        assert "--ranks-per-run" in text, name
        assert ":-1}" not in text, name  # no default that would override the config
        r = subprocess.run(["bash", "-n", os.path.join(ROOT, "mpi_runs", name)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


# -- a one-split dataset --------------------------------------------------------------------

def test_one_run_dataset_when_the_splits_say_so(tmp_path, capsys):
    assert main(["generate", "kuramoto_sivashinsky", "--set", "L=22", "--set",
                 "realization=0", "--set", "splits=train", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    cap = capsys.readouterr()
    assert "expect train, valid and test" in cap.err
    files = data_files(tmp_path / "kuramoto_sivashinsky")
    assert len(files) == 1 and "/train/" in files[0]
    with h5py.File(files[0]) as f:
        assert int(f.attrs["n_trajectories"]) == 1
    assert main(["validate", str(tmp_path / "kuramoto_sivashinsky")]) == 0  # WF503: warnings


@pytest.mark.parametrize("splits, needle", [
    ("{train: 0.5, valid: 0.6}", "add up to 1"),
    ("{train: 1.0, tset: 0.0}", "splits: expected fractions"),
    ("{train: -0.1, valid: 1.1}", ">= 0"),
])
def test_bad_splits_are_one_line(splits, needle, tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"system: kuramoto_sivashinsky\npreset: tiny\nsplits: {splits}\n")
    assert main(["generate", str(cfg), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


# -- two commands on one output ----------------------------------------------------------

KS = ["generate", "kuramoto_sivashinsky", "--preset", "tiny", "--set", "n_frames=40",
      "--no-progress"]


@pytest.fixture(scope="module")
def ks_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ks_ref")
    r = wf(*KS, "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    return out / "kuramoto_sivashinsky"


def _events(out, name="kuramoto_sivashinsky"):
    evdir = out / f".wellforge-{name}" / "events"
    ev = {}
    for f in os.listdir(evdir):
        ev[f[:-6]] = [json.loads(line) for line in open(evdir / f)]
    return ev


@pytest.mark.slow
def test_two_commands_at_once_run_every_run_once(ks_reference, tmp_path):
    a = subprocess.Popen([WF, *KS, "--out", str(tmp_path)], env=ENV, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    b = subprocess.Popen([WF, *KS, "--out", str(tmp_path)], env=ENV, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outs = [p.communicate(timeout=600) for p in (a, b)]
    for p, (o, e) in zip((a, b), outs):
        assert "Traceback" not in e, e[-3000:]
        assert p.returncode == 0, e[-3000:]
    ev = _events(tmp_path)
    assert len(ev) == 6
    for rid, events in ev.items():
        kinds = [e["event"] for e in events]
        assert kinds == ["start", "finish"], (rid, kinds)  # each run once, by one command
    assert len({e["pid"] for events in ev.values() for e in events if "pid" in e}) == 2
    assert_same_dataset(ks_reference, tmp_path / "kuramoto_sivashinsky")


@pytest.mark.slow
def test_killing_one_command_leaves_the_others_runs_and_a_rerun_completes(ks_reference,
                                                                          tmp_path):
    shards = tmp_path / ".wellforge-kuramoto_sivashinsky" / "shards"
    claims = tmp_path / ".wellforge-kuramoto_sivashinsky" / "claims"
    a = subprocess.Popen([WF, *KS, "--set", "n_frames=150", "--out", str(tmp_path)], env=ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    b = subprocess.Popen([WF, *KS, "--set", "n_frames=150", "--out", str(tmp_path)], env=ENV,
                         text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    victim = None
    while time.time() < deadline and victim is None:  # A holds a run in progress: kill it
        for name in os.listdir(claims) if claims.exists() else []:
            try:
                owner = json.loads((claims / name).read_text())
            except (OSError, ValueError):
                continue
            if owner.get("pid") == a.pid:
                victim = name[:-6]
        time.sleep(0.02)
    assert victim is not None
    a.send_signal(signal.SIGKILL)
    a.wait()
    out_b, err_b = b.communicate(timeout=600)
    assert b.returncode == 0 and "Traceback" not in err_b, err_b[-3000:]
    ev = _events(tmp_path)
    done_by = {rid: [e["pid"] for e in evs if e["event"] == "start"] for rid, evs in ev.items()}
    b_runs = [rid for rid, pids in done_by.items() if pids[-1] == b.pid]
    assert b_runs and all((shards / f"{rid}.hdf5").exists() for rid in b_runs)
    before = {rid: os.stat(shards / f"{rid}.hdf5").st_mtime_ns for rid in b_runs}
    r = wf(*KS, "--set", "n_frames=150", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr[-2000:]
    assert {rid: os.stat(shards / f"{rid}.hdf5").st_mtime_ns for rid in b_runs} == before
    assert (shards / f"{victim}.hdf5").exists()
    files = data_files(tmp_path / "kuramoto_sivashinsky")
    assert len(files) == 6
    # every run is in the dataset exactly once
    from wellforge.schema.reader import read_provenance

    ids = []
    for p in files:
        with h5py.File(p) as f:
            ids += read_provenance(f)["run_ids"]
    assert len(ids) == len(set(ids)) == 6


def test_a_live_lease_is_not_taken_and_a_dead_one_is(tmp_path, monkeypatch):
    from wellforge.generators.leases import Leases

    mine = Leases(str(tmp_path), token="a", lease_s=60)
    assert mine.acquire("r1")
    other = Leases(str(tmp_path), token="b", lease_s=60)
    assert not other.acquire("r1")  # same host, our process is alive: the lease holds
    # a claim of a process that no longer exists on this host: stale at once
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    with open(mine.path("r2"), "w") as fh:
        json.dump({**mine.owner, "pid": p.pid, "start": "0"}, fh)
    assert other.acquire("r2")
    # a claim from another host: held until its lease expires
    with open(mine.path("r3"), "w") as fh:
        json.dump({**mine.owner, "host": "elsewhere", "pid": 1}, fh)
    assert not other.acquire("r3")
    old = time.time() - 120
    os.utime(mine.path("r3"), (old, old))
    assert other.acquire("r3")
    assert json.loads(open(mine.path("r3")).read())["token"] == "b"
    # the heartbeat renews what is held
    os.utime(mine.path("r1"), (old, old))
    mine.renew()
    assert time.time() - os.stat(mine.path("r1")).st_mtime < 30


# -- the system's code changed ----------------------------------------------------------

@pytest.fixture(scope="module")
def editable_plugin(tmp_path_factory):
    """A ``new-system`` plugin installed with pip, as the tutorial does; uninstalled after."""
    src = tmp_path_factory.mktemp("plugin") / "wobble_pde"
    assert main(["new-system", "wobble_pde", "--out", str(src)]) == 0
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                        "--no-build-isolation", "-e", str(src)], env=ENV, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    yield src
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "wellforge-wobble-pde"],
                   env=ENV, capture_output=True, text=True)


@pytest.mark.slow
def test_plan_runs_for_every_registered_system_and_the_template(editable_plugin):
    r = wf("systems", "--json")
    names = [row["name"] for row in json.loads(r.stdout)]
    assert "wobble_pde" in names and len(names) >= 7
    for name in names:
        r = wf("plan", name, "--preset", "tiny", "--calibrate-steps", "3", "--json")
        assert r.returncode == 0 and "Traceback" not in r.stderr, (name, r.stderr[-2000:])
        cal = json.loads(r.stdout)["calibration"]
        assert cal["steps"] == 3 and cal["s_per_step"] > 0 and cal["steps_per_run"] > 0


@pytest.mark.slow
def test_edited_physics_is_refused_then_rerun(editable_plugin, tmp_path):
    args = ["generate", "wobble_pde", "--preset", "tiny", "--out", str(tmp_path),
            "--no-progress"]
    r = wf(*args)
    assert r.returncode == 0, r.stderr[-2000:]
    shards = tmp_path / ".wellforge-wobble_pde" / "shards"
    before = {f: os.stat(shards / f).st_mtime_ns for f in os.listdir(shards)}
    module = editable_plugin / "wellforge_wobble_pde" / "system.py"
    text = module.read_text()
    assert "dt(c) - kappa*lap(c) = 0" in text
    module.write_text(text.replace("dt(c) - kappa*lap(c) = 0", "dt(c) - 2*kappa*lap(c) = 0"))
    r = wf(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    err = [line for line in r.stderr.splitlines() if "error" in line]
    assert len(err) == 1 and "wobble_pde: the system's module source changed" in err[0]
    assert "--rerun-changed" in err[0]
    assert {f: os.stat(shards / f).st_mtime_ns for f in os.listdir(shards)} == before
    r = wf(*args, "--rerun-changed")
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"{len(before)} done (0 from before)" in r.stdout
    assert all(os.stat(shards / f).st_mtime_ns != t for f, t in before.items())
    r = wf(*args)  # and now it is the finished sweep of this code
    assert r.returncode == 0 and f"{len(before)} from before" in r.stdout


# -- status and clean ----------------------------------------------------------------------

@pytest.mark.slow
def test_status_of_a_running_sweep_then_of_the_finished_one(tmp_path):
    proc = subprocess.Popen([WF, *KS, "--set", "n_frames=120", "--out", str(tmp_path)],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shards = tmp_path / ".wellforge-kuramoto_sivashinsky" / "shards"
    deadline = time.time() + 300
    while time.time() < deadline:
        if shards.exists() and any(f.endswith(".hdf5") for f in os.listdir(shards)):
            break
        time.sleep(0.05)
    r = wf("status", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["runs"] == 6 and 1 <= st["done"] < 6
    assert len(st["running"]) == 1 and st["running"][0]["pid"] == proc.pid
    assert st["done"] + len(st["running"]) + st["pending"] == 6
    assert proc.wait(timeout=600) == 0
    r = wf("status", str(tmp_path / "kuramoto_sivashinsky"))
    assert r.returncode == 0 and "done 6/6" in r.stdout and "up to date" in r.stdout
    st = json.loads(wf("status", str(tmp_path), "--json").stdout)
    assert st["done"] == 6 and st["running"] == [] and st["core_hours_spent"] > 0


def test_clean_removes_the_work_dir_of_a_valid_packed_dataset(ks_reference, tmp_path,
                                                              capsys):
    shutil.copytree(ks_reference.parent, tmp_path / "o")
    root = tmp_path / "o" / "kuramoto_sivashinsky"
    assert main(["clean", str(root)]) == 0
    assert "removed" in capsys.readouterr().out
    assert not (tmp_path / "o" / ".wellforge-kuramoto_sivashinsky").exists()
    assert main(["validate", str(root)]) == 0 and len(data_files(root)) == 6


def _tree(path):
    return sorted((os.path.relpath(os.path.join(d, n), path), os.path.getsize(os.path.join(d, n)))
                  for d, _, ns in os.walk(path) for n in ns)


@pytest.mark.parametrize("case", ["not_wellforge", "unpacked", "failing", "bad_slice"])
def test_bad_input_is_one_line_and_removes_nothing(case, ks_reference, tmp_path, capsys):
    out = tmp_path / "o"
    if case == "not_wellforge":
        out.mkdir()
        (out / "data.txt").write_text("mine")
        cmds = [["status", str(out)], ["clean", str(out)], ["pack", str(out)]]
    elif case == "unpacked":
        assert main([*KS, "--set", "n_frames=4", "--out", str(out), "--slice", "0/2"]) == 0
        cmds = [["clean", str(out / "kuramoto_sivashinsky")]]
    elif case == "failing":
        shutil.copytree(ks_reference.parent, out)
        stats = out / "kuramoto_sivashinsky" / "stats.yaml"
        d = yaml.safe_load(stats.read_text())
        d["mean"]["u"] = 123.0
        stats.write_text(yaml.safe_dump(d))
        cmds = [["clean", str(out / "kuramoto_sivashinsky")]]
    else:
        out.mkdir()
        cmds = [[*KS, "--out", str(out), f"--slice={s}"] for s in ("3", "a/b", "2/2", "-1/2")]
    capsys.readouterr()
    before = _tree(out)
    for cmd in cmds:
        assert main(cmd) == 2, cmd
        err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
        assert len(err) == 1, (cmd, err)
        assert _tree(out) == before, cmd
