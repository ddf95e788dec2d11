"""Bring your own PDE: the example plugin installed through its entry point, the
``new-system`` template, YAML cards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import h5py
import numpy as np
import pytest
import yaml

from wellforge.cli import main
from wellforge.errors import ConfigError
from wellforge.schema.cardfile import card_from_mapping, card_to_mapping, load_card
from wellforge.schema.dataset import SPLITS, split_files
from wellforge.schema.reader import read_provenance

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "advection_diffusion")
DIST = "wellforge-advection-diffusion"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMEXPR_MAX_THREADS": "1"}


def wellforge(*args, **kw) -> subprocess.CompletedProcess:
    """The CLI in a fresh process (sees entry points installed after this one started)."""
    return subprocess.run([sys.executable, "-m", "wellforge.cli", *args], env=ENV,
                          capture_output=True, text=True, **kw)


def _installed() -> bool:
    try:
        metadata.distribution(DIST)
        return True
    except metadata.PackageNotFoundError:
        return False


@pytest.fixture(scope="module")
def example_installed():
    """``pip install -e examples/advection_diffusion`` into the test venv; uninstalled
    afterwards unless it was installed before (the venv is left as it was found)."""
    before = _installed()
    if not before:
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                            "--no-build-isolation", "-e", EXAMPLE], env=ENV,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    yield
    if not before:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", DIST], env=ENV,
                       capture_output=True, text=True)


@pytest.fixture(scope="module")
def example_dataset(example_installed, tmp_path_factory):
    out = tmp_path_factory.mktemp("plugin")
    r = wellforge("generate", "advection_diffusion", "--preset", "tiny", "--out", str(out),
                  "--no-progress")
    assert r.returncode == 0, r.stderr[-2000:]
    return str(out / "advection_diffusion")


def test_installed_plugin_is_listed_with_its_card(example_installed):
    r = wellforge("systems", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert {"shear_flow", "rayleigh_benard"} <= set(rows)  # built-ins still there
    ad = rows["advection_diffusion"]
    assert ad["parameters"] == ["kappa", "vx", "vy"]
    assert ad["fields"] == ["concentration"] and "tiny" in ad["presets"]
    ep = [e for e in metadata.entry_points(group="wellforge.systems")
          if e.name == "advection_diffusion"]
    assert ep and ep[0].value == "wellforge_advection_diffusion.system:AdvectionDiffusion"


def test_plugin_dataset_validates_and_matches_the_exact_solution(example_dataset,
                                                                 monkeypatch):
    assert main(["validate", example_dataset]) == 0
    monkeypatch.syspath_prepend(EXAMPLE)
    from wellforge_advection_diffusion.system import exact_solution

    files = [p for s in SPLITS for p in split_files(example_dataset, s)]
    assert len(files) == 6  # 2 parameter sets × 3 splits
    worst = 0.0
    for p in files:
        with h5py.File(p) as f:
            assert f.attrs["wellforge_system"] == "advection_diffusion"
            c = f["t0_fields/concentration"][()]
            t = f["dimensions/time"][()].astype(np.float64)
            X, Y = np.meshgrid(f["dimensions/x"][()].astype(np.float64),
                               f["dimensions/y"][()].astype(np.float64), indexing="ij")
            prov = f["provenance"]
            seeds, ics = read_provenance(f)["seeds"], json.loads(prov.attrs["ic"])
            params = json.loads(prov.attrs["parameters"])
        for i, (seed, ic) in enumerate(zip(seeds, ics)):
            exact = np.stack([exact_solution(X, Y, tk, params, ic, int(seed)) for tk in t])
            worst = max(worst, float(np.max(np.abs(c[i] - exact))))
    assert worst < 1e-5, worst


def test_plugin_dataset_card_comes_from_the_plugin_card(example_dataset):
    with open(os.path.join(example_dataset, "README.md")) as fh:
        text = fh.read()
    assert "2-D advection-diffusion of a passive scalar" in text
    assert "`kappa`" in text and "`vx`" in text
    if "![concentration](previews/concentration.png)" not in text:  # previews: matplotlib
        pytest.importorskip("matplotlib")
        raise AssertionError("no preview in the dataset card")
    assert os.path.getsize(os.path.join(example_dataset, "previews", "concentration.png")) > 0


def test_broken_plugin_does_not_hide_the_others(monkeypatch, capsys):
    from wellforge.generators import registry

    real = registry.available()
    monkeypatch.setattr(registry, "available",
                        lambda: {**real, "broken": "no_such_module_xyz:Broken"})
    assert main(["systems", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert "No" in rows["broken"]["error"] and "title" in rows["shear_flow"]


# -- new-system ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scaffold(tmp_path_factory):
    out = tmp_path_factory.mktemp("scaffold") / "heat_plugin"
    assert main(["new-system", "heat_plugin", "--out", str(out)]) == 0
    return out


def test_new_system_writes_module_card_test_and_entry_point(scaffold):
    files = sorted(str(p.relative_to(scaffold)) for p in scaffold.rglob("*") if p.is_file())
    assert files == ["README.md", "pyproject.toml", "tests/test_heat_plugin.py",
                     "wellforge_heat_plugin/__init__.py", "wellforge_heat_plugin/card.yaml",
                     "wellforge_heat_plugin/system.py"]
    for p in scaffold.rglob("*"):
        if p.is_file():
            assert "{{" not in p.read_text(), p
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    with open(scaffold / "pyproject.toml", "rb") as fh:
        pp = tomllib.load(fh)
    eps = pp["project"]["entry-points"]["wellforge.systems"]
    assert eps == {"heat_plugin": "wellforge_heat_plugin.system:HeatPlugin"}
    assert "card.yaml" in pp["tool"]["setuptools"]["package-data"]["wellforge_heat_plugin"]
    compile((scaffold / "tests" / "test_heat_plugin.py").read_text(), "test", "exec")


def test_new_system_runs_as_written(scaffold, tmp_path, monkeypatch):
    """The template's system builds, runs through the shared runner and writes a file that
    validates; diffusion conserves the mean and removes variance."""
    monkeypatch.syspath_prepend(str(scaffold))
    from wellforge.generators.run import RunSpec
    from wellforge.generators.runner import run_trajectory
    from wellforge.generators.system import System
    from wellforge_heat_plugin.system import HeatPlugin

    system = HeatPlugin()
    assert isinstance(system, System) and system.card.name == system.name == "heat_plugin"
    tiny = system.presets["tiny"]
    spec = RunSpec(run_id="r0", index=0, system=system.name, dataset_name=system.name,
                   params={"kappa": 1e-2}, ic={"amplitude": 1.0, "filter": 0.25}, seed=7,
                   resolution=tuple(tiny["resolution"]),
                   stored_resolution=tuple(tiny["stored_resolution"]), t_start=0.0,
                   dt_out=tiny["time"]["dt_out"], n_frames=tiny["time"]["n_frames"])
    path = str(tmp_path / "heat.hdf5")
    assert run_trajectory(system, spec, path, progress=False).status == "done"
    assert main(["validate", path]) == 0
    with h5py.File(path) as f:
        c = f["t0_fields/concentration"][0].astype(np.float64)
    assert c.shape == (10, 32, 32) and np.std(c[0]) > 0.01
    mean, var = c.mean(axis=(1, 2)), c.var(axis=(1, 2))
    assert np.max(np.abs(mean - mean[0])) < 1e-6 * np.abs(c).max()
    assert np.all(np.diff(var) < 0)


@pytest.mark.parametrize("args, needle", [
    (["new-system", "shear_flow"], "already exists"),
    (["new-system", "Bad-Name"], "lower case"),
    (["new-system", "ok_name", "--field", "Bad Field"], "--field"),
])
def test_new_system_refuses_bad_names(args, needle, tmp_path, capsys):
    assert main(args + (["--out", str(tmp_path / "x")] if "--out" not in args else [])) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_new_system_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["new-system", "fresh_one", "--out", str(tmp_path)]) == 2
    assert "not an empty directory" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"


# -- YAML cards ------------------------------------------------------------------------

def _builtins():
    from wellforge.generators.registry import BUILTIN

    return sorted(BUILTIN)


@pytest.mark.parametrize("name", _builtins())
def test_builtin_cards_round_trip_through_yaml(name):
    from wellforge.generators.registry import get_system

    card = get_system(name).card
    text = yaml.safe_dump(card_to_mapping(card), sort_keys=False)
    assert card_from_mapping(yaml.safe_load(text)) == card


def _example_card() -> dict:
    with open(os.path.join(EXAMPLE, "wellforge_advection_diffusion", "card.yaml")) as fh:
        return yaml.safe_load(fh)


@pytest.mark.parametrize("edit, needle", [
    (lambda d: d.update(colour="red"), "colour: unknown key"),
    (lambda d: d["fields"][0].update(units="furlongs per bogus"), "fields[0].units"),
    (lambda d: d["fields"][0].update(order=3), "fields[0].order"),
    (lambda d: d["axes"][0].update(kind="Hermite grid"), "axes[0].kind"),
    (lambda d: d["axes"][0].update(bounds=[1.0, 0.0]), "axes[0].bounds"),
    (lambda d: d["parameters"][0].update(low="abc"), "parameters[0].low"),
    (lambda d: d["invariants"][0].update(field="nope"), "invariants[0].field"),
    (lambda d: d.update(grid_type="hexagonal"), "grid_type"),
    (lambda d: d.pop("axes"), "missing key 'axes'"),
])
def test_bad_cards_are_refused_with_the_key(edit, needle):
    d = _example_card()
    edit(d)
    with pytest.raises(ConfigError) as e:
        card_from_mapping(d, where="card.yaml")
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_example_card_loads_numbers_written_without_a_dot(tmp_path):
    d = _example_card()
    d["parameters"][0]["low"] = "1e-5"  # YAML 1.1 reads 1e-5 as a string
    p = tmp_path / "card.yaml"
    p.write_text(yaml.safe_dump(d))
    assert load_card(p).param("kappa").low == 1e-5
