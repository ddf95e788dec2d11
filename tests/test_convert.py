"""``wellforge convert``: output of a plain Dedalus script (file handler, gather and virtual
modes) becomes the file the generator writes for the same run; non-uniform write times are
refused unless interpolation is asked for (and recorded)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from wellforge.cli import main
from wellforge.generators.registry import get_system
from wellforge.generators.run import RunSpec
from wellforge.generators.runner import run_trajectory

from .spec_rules import assert_spec_rules

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMEXPR_MAX_THREADS": "1",
       "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
       "OMPI_MCA_rmaps_base_oversubscribe": "1"}

# A plain Dedalus 3 script: the Dedalus example's Rayleigh–Bénard equations (as in
# wellforge's rayleigh_benard module), its seeded IC, and file handlers. argv: output
# directory, step (> 0 fixed; < 0 jittered around |step|), sim_dt, stop time, max_writes.
SCRIPT = r'''
import sys
import numpy as np
import dedalus.public as d3
from dedalus.tools.config import config
config["transforms-fftw"]["PLANNING_RIGOR"] = "estimate"  # the FFT plans wellforge uses

out, step, sim_dt, stop, max_writes = sys.argv[1], *map(float, sys.argv[2:5]), int(sys.argv[5])
Lx, Lz, Nx, Nz = 4, 1, 64, 16
Rayleigh, Prandtl = 1e6, 1.0
coords = d3.CartesianCoordinates("x", "y")
dist = d3.Distributor(coords, dtype=np.float64)
xbasis = d3.RealFourier(coords["x"], size=Nx, bounds=(0, Lx), dealias=3/2)
ybasis = d3.ChebyshevT(coords["y"], size=Nz, bounds=(0, Lz), dealias=3/2)
p = dist.Field(name="p", bases=(xbasis, ybasis))
b = dist.Field(name="b", bases=(xbasis, ybasis))
u = dist.VectorField(coords, name="u", bases=(xbasis, ybasis))
tau_p = dist.Field(name="tau_p")
tau_b1 = dist.Field(name="tau_b1", bases=xbasis)
tau_b2 = dist.Field(name="tau_b2", bases=xbasis)
tau_u1 = dist.VectorField(coords, name="tau_u1", bases=xbasis)
tau_u2 = dist.VectorField(coords, name="tau_u2", bases=xbasis)
Ly = Lz
kappa = (Rayleigh * Prandtl) ** (-1 / 2)
nu = (Rayleigh / Prandtl) ** (-1 / 2)
x, y = dist.local_grids(xbasis, ybasis)
ex, ey = coords.unit_vector_fields(dist)
lift_basis = ybasis.derivative_basis(1)
lift = lambda A: d3.Lift(A, lift_basis, -1)
grad_u = d3.grad(u) + ey * lift(tau_u1)
grad_b = d3.grad(b) + ey * lift(tau_b1)
problem = d3.IVP([p, b, u, tau_p, tau_b1, tau_b2, tau_u1, tau_u2], namespace=locals())
problem.add_equation("trace(grad_u) + tau_p = 0")
problem.add_equation("dt(b) - kappa*div(grad_b) + lift(tau_b2) = - u@grad(b)")
problem.add_equation("dt(u) - nu*div(grad_u) + grad(p) - b*ey + lift(tau_u2) = - u@grad(u)")
problem.add_equation("b(y=0) = Ly")
problem.add_equation("u(y=0) = 0")
problem.add_equation("b(y=Ly) = 0")
problem.add_equation("u(y=Ly) = 0")
problem.add_equation("integ(p) = 0")
solver = problem.build_solver(d3.RK222)
solver.stop_sim_time = stop
b.fill_random("g", seed=1234, distribution="normal", scale=1e-3)
b["g"] *= y * (Lz - y)
b["g"] += Lz - y
for mode in ("gather", "virtual"):
    h = solver.evaluator.add_file_handler(f"{out}/{mode}", sim_dt=sim_dt,
                                          max_writes=max_writes, parallel=mode)
    h.add_task(b, name="b")
    h.add_task(p, name="pressure")
    h.add_task(u, name="velocity")
rng = np.random.default_rng(0)
while solver.proceed:  # handlers write at the start of a step: one step past the last write
    solver.step(step if step > 0 else -step * (0.6 + 0.8 * rng.random()))
'''
PARAMS = ["--param", "Rayleigh=1e6", "--param", "Prandtl=1"]
RB = ["--system", "rayleigh_benard", *PARAMS, "--field", "b=buoyancy"]


def run_script(tmp, name, *args, ranks=1):
    script = tmp / "rb_plain.py"
    script.write_text(SCRIPT)
    out = tmp / name
    cmd = [sys.executable, str(script), str(out), *map(str, args)]
    if ranks > 1:
        cmd = ["mpirun", "-n", str(ranks), *cmd]
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Fixed dt = 1/8 dividing sim_dt = 1/4: writes land on k/4 exactly; 12 writes in
    3 sets of at most 5."""
    return run_script(tmp_path_factory.mktemp("plain"), "fixed", 0.125, 0.25, 2.875, 5)


@pytest.fixture(scope="module")
def jittered(tmp_path_factory):
    """Steps of 0.03 … 0.07: writes at the first step past each k/4."""
    return run_script(tmp_path_factory.mktemp("jit"), "jit", -0.05, 0.25, 1.6, 100)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generator's file for the same run: RB tiny grid, the same IC (noise_seed 1234);
    a CFL initial and maximal step of 1/8 (the flow stays slow) makes it step exactly as
    the script does."""
    base = type(get_system("rayleigh_benard"))

    class FixedStep(base):
        def build(self, ctx):
            setup = super().build(ctx)
            setup.cfl = dataclasses.replace(setup.cfl, initial_dt=0.125, max_dt=0.125)
            return setup

    system = FixedStep()
    spec = RunSpec(run_id="same", index=0, system=system.name, dataset_name=system.name,
                   params={"Rayleigh": 1e6, "Prandtl": 1.0},
                   ic={"ic": "consistent", "dT": 1.0, "noise": 1e-3, "noise_seed": 1234},
                   seed=5, resolution=(64, 16), stored_resolution=(64, 16), t_start=0.0,
                   dt_out=0.25, n_frames=12)
    path = str(tmp_path_factory.mktemp("gen") / "gen.hdf5")
    result = run_trajectory(system, spec, path, progress=False)
    assert result.status == "done" and result.dt_min == result.dt_max == 0.125
    return path


@pytest.fixture(scope="module")
def converted(plain, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("conv") / "rb.hdf5")
    assert main(["convert", str(plain / "gather"), *RB, "--out", out]) == 0
    return out


def objects(f: h5py.File) -> dict:
    found = {}
    f.visititems(lambda name, obj: found.__setitem__(name, obj))
    return found


def attrs(obj) -> dict:
    return {k: np.asarray(v).tolist() for k, v in obj.attrs.items()}


def drop_x_nyquist(a: np.ndarray) -> np.ndarray:
    c = np.fft.rfft(a, axis=0)
    c[-1] = 0
    return np.fft.irfft(c, n=a.shape[0], axis=0)


def test_converted_file_equals_the_generators(converted, generated):
    """Same objects, attributes, shapes, dtypes and chunks; coordinates, times, parameters
    and BCs bitwise; field data equal to float32 precision. The one known difference:
    the generator stores frame 0 from the IC's grid values, which still hold the x-Nyquist
    mode of the noise that Dedalus drops at the first transform; the file handler stores
    the projected state. With that mode removed, frame 0 agrees too."""
    with h5py.File(converted) as c, h5py.File(generated) as g:
        oc, og = objects(c), objects(g)
        keep = lambda names: {n for n in names if not n.startswith("provenance")}  # noqa: E731
        assert keep(oc) == keep(og)
        assert attrs(c) == attrs(g)
        for name in sorted(keep(og)):
            a, b = oc[name], og[name]
            assert attrs(a) == attrs(b), name
            if not isinstance(b, h5py.Dataset):
                continue
            assert (a.shape, a.dtype, a.chunks) == (b.shape, b.dtype, b.chunks), name
            x, y = a[()].astype(np.float64), b[()].astype(np.float64)
            if not name.endswith(("_fields/buoyancy", "_fields/pressure", "_fields/velocity")):
                assert np.array_equal(x, y), name
                continue
            scale = np.abs(y).max()
            assert np.max(np.abs(x[:, 1:] - y[:, 1:])) <= 1e-6 * scale, name
            assert np.max(np.abs(x[0, 0] - drop_x_nyquist(y[0, 0]))) <= 1e-6 * scale, name
        assert c["provenance"].attrs["generator"] == "wellforge convert"
    assert_spec_rules(converted)
    assert main(["validate", converted]) == 0


def read_tasks(handler_dir) -> dict[str, np.ndarray]:
    """The script's own arrays, straight from its set files."""
    out: dict[str, list] = {}
    sets = sorted(os.listdir(handler_dir))
    sets = sorted((f for f in sets if f.endswith(".h5")), key=lambda f: int(f[:-3].split("_s")[-1]))
    for fn in sets:
        with h5py.File(os.path.join(handler_dir, fn)) as f:
            for k in f["tasks"]:
                out.setdefault(k, []).append(f["tasks"][k][()])
    return {k: np.concatenate(v) for k, v in out.items()}


def test_converted_data_are_the_scripts_arrays(converted, plain):
    """convert adds nothing: the stored data are the handler's arrays (velocity components
    moved last) cast to float32, bit for bit; times are the handler's sim_time."""
    raw = read_tasks(plain / "gather")
    with h5py.File(converted) as f:
        assert np.array_equal(f["t0_fields/buoyancy"][0], raw["b"].astype(np.float32))
        assert np.array_equal(f["t0_fields/pressure"][0], raw["pressure"].astype(np.float32))
        assert np.array_equal(f["t1_fields/velocity"][0],
                              np.moveaxis(raw["velocity"], 1, -1).astype(np.float32))
        np.testing.assert_array_equal(f["dimensions/time"][()], np.arange(12) * 0.25)
        prov = f["provenance"]
        src = json.loads(prov.attrs["source"])
        assert src["sets"] == [[1, 2, 3]] and src["writes"] == [12] and src["mode"] == "gather"
        assert src["tasks"] == {"buoyancy": "b", "pressure": "pressure", "velocity": "velocity"}
        assert json.loads(prov.attrs["time_resampling"])["method"] == "select"


def test_virtual_mode_gives_the_same_file(plain, converted, tmp_path):
    out = str(tmp_path / "virtual.hdf5")
    assert main(["convert", str(plain / "virtual"), *RB, "--out", out]) == 0
    with h5py.File(out) as v, h5py.File(converted) as g:
        for name in ("t0_fields/buoyancy", "t0_fields/pressure", "t1_fields/velocity"):
            assert np.array_equal(v[name][()], g[name][()])
        assert json.loads(v["provenance"].attrs["source"])["mode"] == "virtual"


def test_virtual_mode_with_a_missing_process_file_is_refused(plain, tmp_path, capsys):
    """A virtual dataset whose source file is gone reads as empty or fill values: refused."""
    broken = tmp_path / "virtual"
    shutil.copytree(plain / "virtual", broken)
    os.remove(broken / "virtual_s2" / "virtual_s2_p0.h5")
    out = tmp_path / "x.hdf5"
    assert main(["convert", str(broken), *RB, "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "virtual_s2_p0.h5" in err and "missing" in err and err.count("\n") == 1
    assert not out.exists() and not os.path.exists(str(out) + ".partial")


@pytest.mark.mpi
def test_two_rank_virtual_output_matches_one_rank(tmp_path, converted):
    """Virtual mode's real case: each rank writes its own part, the virtual file joins
    them. The 2-rank run equals the 1-rank run to float32 precision."""
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun not available")
    two = run_script(tmp_path, "two", 0.125, 0.25, 2.875, 5, ranks=2)
    assert os.path.exists(two / "virtual" / "virtual_s1" / "virtual_s1_p1.h5")
    out = str(tmp_path / "two.hdf5")
    assert main(["convert", str(two / "virtual"), *RB, "--out", out]) == 0
    with h5py.File(out) as v, h5py.File(converted) as g:
        for name in ("t0_fields/buoyancy", "t1_fields/velocity"):
            a, b = v[name][()].astype(np.float64), g[name][()].astype(np.float64)
            assert np.max(np.abs(a - b)) <= 1e-6 * np.abs(b).max(), name


def test_non_uniform_times_are_refused(jittered, tmp_path, capsys):
    out = tmp_path / "j.hdf5"
    assert main(["convert", str(jittered / "gather"), *RB, "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "not uniform" in err and "--interpolate-time" in err and err.count("\n") == 1
    assert not out.exists()


def test_interpolation_on_request_is_linear_and_recorded(jittered, tmp_path):
    out = str(tmp_path / "ji.hdf5")
    assert main(["convert", str(jittered / "gather"), *RB, "--out", out,
                 "--interpolate-time", "linear", "--dt-out", "0.25"]) == 0
    raw = read_tasks(jittered / "gather")
    with h5py.File(jittered / "gather" / "gather_s1.h5") as f:
        t_src = f["scales/sim_time"][()]
    with h5py.File(out) as f:
        t = f["dimensions/time"][()].astype(np.float64)
        b = f["t0_fields/buoyancy"][0].astype(np.float64)
        rec = json.loads(f["provenance"].attrs["time_resampling"])
        assert "linear interpolation" in f["provenance"].attrs["output_times"]
    np.testing.assert_allclose(t, 0.25 * np.arange(t.size), atol=1e-7)
    assert t.size == int(t_src[-1] // 0.25) + 1 >= 6  # every k/4 inside the written span
    assert rec["method"] == "linear" and rec["dt_out"] == 0.25
    assert rec["source_max_deviation"][0] > 1e-3  # the jitter that caused it, recorded
    for i, j in [(0, 0), (17, 3), (40, 8), (63, 15)]:
        want = np.interp(t, t_src, raw["b"][:, i, j])
        np.testing.assert_allclose(b[:, i, j], want, rtol=0, atol=2e-7)


def test_thinning_picks_whole_frames(plain, converted, tmp_path):
    out = str(tmp_path / "thin.hdf5")
    assert main(["convert", str(plain / "gather"), *RB, "--out", out, "--dt-out", "0.5"]) == 0
    with h5py.File(out) as f, h5py.File(converted) as g:
        assert np.array_equal(f["t0_fields/buoyancy"][()], g["t0_fields/buoyancy"][:, ::2])
        np.testing.assert_array_equal(f["dimensions/time"][()], 0.5 * np.arange(6))
        assert json.loads(f["provenance"].attrs["time_resampling"])["every"] == 2


def test_resampled_to_a_uniform_grid_with_the_walls(plain, tmp_path):
    """Chebyshev y interpolated onto 8 points including both walls: once the solver has
    imposed the BCs (frames >= 1; the IC's damped noise is not zero at the walls), b takes
    its BC values there (b = 1 at y = 0, b = 0 at y = 1), and the file validates."""
    out = str(tmp_path / "uniform.hdf5")
    assert main(["convert", str(plain / "gather"), *RB, "--out", out,
                 "--stored-resolution", "32,8", "--option", "y_grid=uniform"]) == 0
    with h5py.File(out) as f:
        np.testing.assert_allclose(f["dimensions/y"][()], np.linspace(0, 1, 8), atol=1e-7)
        b = f["t0_fields/buoyancy"][0]
        assert b.shape == (12, 32, 8)
        assert np.max(np.abs(b[1:, :, 0] - 1)) < 1e-5 and np.max(np.abs(b[1:, :, -1])) < 1e-5
        assert np.max(np.abs(b[0, :, 0] - 1)) < 1e-3  # IC noise amplitude
    assert main(["validate", out]) == 0


@pytest.mark.parametrize("args, code, needle", [
    (["--system", "rayleigh_benard", "--param", "Rayleigh=1e6", "--field", "b=buoyancy"], 2,
     "missing --param for Prandtl"),
    (["--system", "rayleigh_benard", *PARAMS], 2, "no task for card field(s) buoyancy"),
    (["--system", "shear_flow", "--param", "Reynolds=1e4", "--param", "Schmidt=1",
      "--only", "velocity"], 2, "not the card's fourier grid"),
    ([*RB, "--dt-out", "0.3"], 2, "do not pick whole frames"),
    ([*RB, "--param", "Rayleigh=-5"], 2, "out of the card's range"),
    ([*RB, "--only", "vorticity"], 2, "--only vorticity"),
])
def test_user_errors_are_one_line(plain, tmp_path, capsys, args, code, needle):
    out = tmp_path / "e.hdf5"
    assert main(["convert", str(plain / "gather"), *args, "--out", str(out)]) == code
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err
    assert not out.exists()


def test_card_file_instead_of_a_system(plain, tmp_path, converted):
    """--card with a YAML card (here the rayleigh_benard card written out) gives the same
    data and declarations."""
    import yaml

    from wellforge.schema.cardfile import card_to_mapping

    card = tmp_path / "rb.yaml"
    card.write_text(yaml.safe_dump(card_to_mapping(get_system("rayleigh_benard").card)))
    out = str(tmp_path / "card.hdf5")
    assert main(["convert", str(plain / "gather"), "--card", str(card), *PARAMS,
                 "--field", "b=buoyancy", "--out", out]) == 0
    with h5py.File(out) as f, h5py.File(converted) as g:
        assert attrs(f) == attrs(g)
        assert np.array_equal(f["t1_fields/velocity"][()], g["t1_fields/velocity"][()])
