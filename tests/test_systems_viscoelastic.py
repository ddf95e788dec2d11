"""viscoelastic_instability: the laminar FENE-P state (analytic, and a fixed point of the
discretised system), the Newtonian limit's linear stability against Orszag (1971), and a
conformation tensor that stays symmetric positive definite in the tiny dataset."""

import h5py
import numpy as np
import pytest
from wellforge.generators.registry import get_system
from wellforge.generators.solver import build
from wellforge.generators.system import BuildContext
from wellforge.generators.systems.viscoelastic_instability import Laminar
from wellforge.schema.dataset import SPLITS, split_files

NAME = "viscoelastic_instability"
WELL = dict(Wi=50.0, beta=0.9, Lmax=70.0)  # the Well's parameters


def test_laminar_state_at_the_wells_parameters():
    """The laminar FENE-P profile at constant flux 4/3 (Wi = 50, beta = 0.9, Lmax = 70):
    the values of an independent quadrature of the same balance (to ~1e-6), and the
    closed forms of the limits: Newtonian (beta = 1) U = 1 - y^2 with G = 2; Oldroyd-B
    (Lmax -> inf) the same U with c_xx = 1 + 2 Wi^2 U'^2, c_xy = Wi U'."""
    lam = Laminar(**WELL)
    assert lam.G == pytest.approx(1.91648, abs=2e-5)
    assert lam.velocity(0.0) == pytest.approx(0.99589, abs=2e-5)
    assert lam.shear(1.0) == pytest.approx(-2.01835, abs=2e-5)
    wall = {k: float(v) for k, v in lam.conformation(np.array(1.0)).items()}
    assert wall["c_xx"] == pytest.approx(2475.14, rel=1e-5)
    assert wall["c_xy"] == pytest.approx(-24.755, rel=1e-4)
    assert wall["c_yy"] == pytest.approx(1 / 2.01906, rel=1e-5) == wall["c_zz"]
    y = np.linspace(-1, 1, 41)
    # the local balance: c_yy f = 1, the C equations' xx and xy rows, the momentum balance
    c = lam.conformation(y)
    f = 1 / c["c_yy"]
    tr = c["c_xx"] + c["c_yy"] + c["c_zz"]
    assert np.allclose(f, 70.0**2 / (70.0**2 + 3 - tr), rtol=1e-12)
    s = lam.shear(y)
    assert np.allclose((f * c["c_xx"] - 1) / 50, 2 * s * c["c_xy"], rtol=1e-10, atol=1e-12)
    assert np.allclose(0.9 * s + 0.1 * f * c["c_xy"] / 50, -lam.G * y, atol=1e-12)
    newton = Laminar(Wi=50.0, beta=1.0, Lmax=70.0)
    assert newton.G == pytest.approx(2.0, rel=1e-12)
    assert np.allclose(newton.velocity(y), 1 - y**2, atol=1e-12)
    oldroyd = Laminar(Wi=5.0, beta=0.5, Lmax=1e7)
    assert np.allclose(oldroyd.velocity(y), 1 - y**2, atol=1e-9)
    cb = oldroyd.conformation(y)
    assert np.allclose(cb["c_xx"], 1 + 2 * 25 * (2 * y) ** 2, rtol=1e-8)
    assert np.allclose(cb["c_xy"], 5 * (-2 * y), atol=1e-8)


def _stepper(params, ic, resolution, options=None):
    system = get_system(NAME)
    ctx = BuildContext(params=params, ic=ic, resolution=resolution, seed=0,
                       options={**system.options, **(options or {})})
    return build(system, ctx)


def _state(stepper):
    out = {}
    for f in stepper.solver.state:
        if f.name in ("u", "c_xx", "c_xy", "c_yy", "c_zz", "G"):
            f.change_scales(1)
            out[f.name] = np.array(f["g"], dtype=np.float64)
    return out


def test_laminar_state_is_a_fixed_point_of_the_discretised_system():
    """The analytic laminar state (epsilon = 0, the Well's Re, Wi, beta, Lmax) stays where it
    is under the discretised system: after 20 steps the rate of change of every unknown is
    below 1e-8 of its scale per unit time (U/h), and the flux constraint returns the
    analytic pressure gradient G."""
    params = dict(Re=1000.0, epsilon=0.0, **WELL)
    st = _stepper(params, {"ic": "laminar", "amplitude": 0.0}, (4, 64))
    before = _state(st)
    n, dt = 20, 1e-3
    for _ in range(n):
        st.solver.step(dt)
    after = _state(st)
    for name in ("u", "c_xx", "c_xy", "c_yy", "c_zz"):
        rate = np.max(np.abs(after[name] - before[name])) / (n * dt)
        assert rate <= 1e-8 * np.max(np.abs(before[name])), (name, rate)
    lam = Laminar(**WELL)
    assert after["G"].ravel()[0] == pytest.approx(lam.G, rel=1e-8)
    # and the state is the analytic profile at the grid points
    y = st.solver.state[0].domain.bases[1].global_grid(st.solver.dist, 1).ravel()
    assert np.allclose(after["u"][0][0], lam.velocity(y), atol=1e-10)
    assert np.allclose(after["c_xx"][0], lam.conformation(y)["c_xx"], rtol=1e-9)


def test_laminar_state_with_polymer_diffusion_is_nearly_fixed():
    """With epsilon > 0 the analytic (epsilon = 0) state is not exact: the C equations
    change it at the rate epsilon * C'' in the interior (and not at all on the walls, where
    epsilon = 0): measured against that scale."""
    params = dict(Re=1000.0, epsilon=1e-4, **WELL)
    st = _stepper(params, {"ic": "laminar", "amplitude": 0.0}, (4, 64))
    before = _state(st)
    n, dt = 10, 1e-3
    for _ in range(n):
        st.solver.step(dt)
    after = _state(st)
    lam = Laminar(**WELL)
    y = np.linspace(-1, 1, 2001)
    cxx = lam.conformation(y)["c_xx"]
    curvature = np.max(np.abs(np.gradient(np.gradient(cxx, y), y)))
    rate = np.max(np.abs(after["c_xx"] - before["c_xx"])) / (n * dt)
    assert 0.05 * 1e-4 * curvature < rate < 2 * 1e-4 * curvature


# -- the Newtonian limit: Orr–Sommerfeld in primitive variables ---------------------------

ORSZAG_RE, ORSZAG_ALPHA = 5772.22, 1.02056


def least_stable(Re, alpha, N=96, mode=False):
    """Eigenvalue of largest real part of the system's momentum equations at beta = 1,
    linearised about its laminar state (U = 1 - y^2 from ``Laminar``) for perturbations
    ∝ exp(i alpha x + s t): Re (s u + U i alpha u + v U' e_x) + grad p = lap u,
    div u = 0, u(±1) = 0 — a Dedalus EVP in the system's first-order tau form."""
    import dedalus.public as d3

    lam = Laminar(Wi=1.0, beta=1.0, Lmax=70.0)
    coord = d3.Coordinate("y")
    dist = d3.Distributor(coord, dtype=np.complex128)
    yb = d3.ChebyshevT(coord, size=N, bounds=(-1, 1))
    u, v, p = (dist.Field(name=n, bases=yb) for n in ("u", "v", "p"))
    taus = [dist.Field(name=f"tau{i}") for i in range(4)]
    tau_u1, tau_u2, tau_v1, tau_v2 = taus
    s = dist.Field(name="s")
    U, dU = dist.Field(bases=yb), dist.Field(bases=yb)
    (y,) = dist.local_grids(yb)
    U["g"], dU["g"] = lam.velocity(y), lam.shear(y)
    dy = lambda A: d3.Differentiate(A, coord)  # noqa: E731
    lift = lambda A: d3.Lift(A, yb.derivative_basis(1), -1)  # noqa: E731
    a = alpha
    uy, vy = dy(u) + lift(tau_u1), dy(v) + lift(tau_v1)
    problem = d3.EVP([u, v, p, *taus], eigenvalue=s, namespace=locals())
    problem.add_equation("1j*a*u + vy = 0")
    problem.add_equation("Re*(s*u + 1j*a*U*u + v*dU) + 1j*a*p + a**2*u - dy(uy) "
                         "+ lift(tau_u2) = 0")
    problem.add_equation("Re*(s*v + 1j*a*U*v) + dy(p) + a**2*v - dy(vy) + lift(tau_v2) = 0")
    problem.add_equation("u(y=-1) = 0")
    problem.add_equation("u(y=1) = 0")
    problem.add_equation("v(y=-1) = 0")
    problem.add_equation("v(y=1) = 0")
    solver = problem.build_solver()
    solver.solve_dense(solver.subproblems[0])
    ev = np.where(np.isfinite(solver.eigenvalues) & (np.abs(solver.eigenvalues) < 1e3),
                  solver.eigenvalues, -np.inf)
    k = int(np.argmax(ev.real))
    if not mode:
        return ev[k]
    solver.set_state(k, solver.subsystems[0])
    u.change_scales(1), v.change_scales(1)
    return ev[k], np.array(u["g"]), np.array(v["g"])


def test_newtonian_limit_least_stable_mode_brackets_orszag():
    """beta = 1: the channel's least stable mode at alpha = 1.02056 decays at Re_c (1 - 0.5 %)
    and grows at Re_c (1 + 0.5 %), Re_c = 5772.22 (Orszag 1971), with phase speed
    c = 0.26400; in the system's 2π box (alpha = 1) the mode is still stable at Re_c."""
    below = least_stable(ORSZAG_RE * 0.995, ORSZAG_ALPHA)
    above = least_stable(ORSZAG_RE * 1.005, ORSZAG_ALPHA)
    assert below.real < 0 < above.real
    at = least_stable(ORSZAG_RE, ORSZAG_ALPHA)
    assert abs(at.real) < 0.1 * min(-below.real, above.real)
    assert -at.imag / ORSZAG_ALPHA == pytest.approx(0.26400, abs=2e-5)
    assert least_stable(ORSZAG_RE, 1.0).real < 0  # the 2π box's alpha = 1: Re_c 5814.8
    # Orszag's eigenvalue at Re = 10^4, alpha = 1: c = 0.23752649 + 0.00373967 i
    c = 1j * least_stable(1e4, 1.0) / 1.0
    assert c.real == pytest.approx(0.23752649, abs=1e-7)
    assert c.imag == pytest.approx(0.00373967, abs=1e-7)


def test_system_grows_the_unstable_mode_at_its_eigenvalue():
    """The system itself (beta = 1, Re = 10^4, its 2π box: alpha = 1), started from the
    laminar state plus 1e-6 of the least stable eigenmode of ``least_stable`` (on the same
    Chebyshev grid), grows its perturbation energy at 2 Re(s) = 2 × 0.00373967 (1 %)."""
    s, uh, vh = least_stable(1e4, 1.0, N=64, mode=True)
    st = _stepper(dict(Re=1e4, Wi=1.0, beta=1.0, epsilon=0.0, Lmax=70.0),
                  {"ic": "laminar", "amplitude": 0.0}, (8, 64))
    u = next(f for f in st.solver.state if f.name == "u")
    u.change_scales(1)
    x = u.domain.bases[0].global_grid(st.solver.dist, 1).reshape(-1, 1)
    scale = 1e-6 / np.max(np.abs(uh))
    u["g"][0] += scale * np.real(uh[None, :] * np.exp(1j * x))
    u["g"][1] += scale * np.real(vh[None, :] * np.exp(1j * x))

    def energy():
        u.change_scales(1)
        du = u["g"] - u["g"].mean(axis=1, keepdims=True)
        return float(np.sum(du**2))

    e0, T, dt = energy(), 10.0, 0.02
    for _ in range(int(round(T / dt))):
        st.solver.step(dt)
    rate = np.log(energy() / e0) / (2 * T)
    assert rate == pytest.approx(s.real, rel=1e-2)


# -- the tiny dataset ---------------------------------------------------------------------

def test_conformation_stays_symmetric_positive_definite(tiny):
    """In every stored frame of every tiny trajectory C_xy = C_yx exactly, det C > 0 and
    tr C > 0 (both eigenvalues positive), c_zz > 0 and tr C + c_zz < Lmax^2 + 3 (f finite)."""
    root = tiny(NAME)
    frames = 0
    for s in SPLITS:
        for p in split_files(root, s):
            with h5py.File(p) as f:
                C = f["t2_fields/C"][()].astype(np.float64)
                czz = f["t0_fields/c_zz"][()].astype(np.float64)
                Lmax = float(f["scalars/Lmax"][()])
            assert np.array_equal(C[..., 0, 1], C[..., 1, 0])
            det = C[..., 0, 0] * C[..., 1, 1] - C[..., 0, 1] ** 2
            tr = C[..., 0, 0] + C[..., 1, 1]
            assert det.min() > 0 and tr.min() > 0 and czz.min() > 0
            assert (tr + czz).max() < Lmax**2 + 3
            frames += C.shape[0] * C.shape[1]
    assert frames >= 3 * 8


# -- the state a trajectory ends in ---------------------------------------------------------

def _frames(amplitudes, nx=16, ny=12, phase_speed=0.3, times=None):
    """Velocity frames: the laminar profile plus an x-dependent wave of the given
    amplitudes travelling at ``phase_speed``."""
    from wellforge.generators.systems.viscoelastic_instability import FlowState

    times = np.arange(len(amplitudes), dtype=float) if times is None else times
    x = np.linspace(0, 2 * np.pi, nx, endpoint=False)[:, None]
    y = np.linspace(-1, 1, ny)[None, :]
    state = FlowState("uniform", times)
    for k, (a, t) in enumerate(zip(amplitudes, times)):
        u = np.zeros((nx, ny, 2))
        u[..., 0] = 1 - y**2 + a * np.cos(x - phase_speed * t) * (1 - y**2)
        u[..., 1] = a * np.sin(x - phase_speed * t) * (1 - y**2) ** 2
        state.update(k, {"velocity": u.astype(np.float32)})
    return state.classify()


def test_flow_state_classification():
    """Laminar (no x-dependence; or a decaying wave), a steady travelling wave (constant
    perturbation energy: the arrowhead's signature) and a wave of irregular amplitude."""
    rng = np.random.default_rng(4)
    assert _frames(np.zeros(10))[0] == "laminar"
    assert _frames(0.1 * np.exp(-0.2 * np.arange(10)))[0] == "laminar"
    state, diag = _frames(np.full(10, 0.1))
    assert state == "steady_arrowhead" and abs(diag["relative_change"]) < 1e-6
    state, diag = _frames(0.1 * (1 + 0.5 * rng.standard_normal(10)))
    assert state == "chaotic" and diag["relative_scatter"] > 0.1
    assert _frames(0.01 * np.exp(0.2 * np.arange(10)))[0] == "chaotic"  # still growing


def test_tiny_trajectories_record_their_flow_state(tiny):
    """At Re = 1000, Wi = 5 the blowing/suction and noise perturbations decay: every tiny
    trajectory is classified laminar, with its diagnostics in the provenance."""
    from wellforge.schema.reader import read_provenance

    states = []
    for s in SPLITS:
        for p in split_files(tiny(NAME), s):
            with h5py.File(p) as f:
                pv = read_provenance(f)
                assert len(pv["flow_state"]) == len(pv["flow_diagnostics"]) == \
                    int(f.attrs["n_trajectories"])
                states += pv["flow_state"]
                assert all(d["relative_change"] < 0 for d in pv["flow_diagnostics"])
    assert states == ["laminar"] * 3


# -- per-trajectory time arrays (the Well's viscoelastic files) ----------------------------

@pytest.mark.slow
def test_per_trajectory_time_arrays(tmp_path, capsys):
    """Runs of one file with different spin-ups (IC parameter ``spinup``): the packed file's
    dimensions/time is (n_traj, T), sample-varying, each row that run's exact times; the
    file validates clean, loads in the Well's WellDataset (time grids per sample) and
    passes the Well's formatting rules."""
    import yaml
    from wellforge.cli import main

    from .spec_rules import assert_spec_rules
    from .well_loader import require_well

    cfg = {"system": NAME, "preset": "tiny", "splits": {"train": 1.0, "valid": 0.0, "test": 0.0},
           "time": {"dt_out": 0.5, "n_frames": 4, "spinup": 1.0},
           "initial_conditions": {"zip": {"ic": ["laminar", "laminar"],
                                          "amplitude": [0.01, 0.01], "spinup": [1.0, 2.25]}},
           "expected_runs": 2}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["generate", str(path), "--out", str(tmp_path), "--no-progress"]) == 0
    root = str(tmp_path / NAME)
    (p,) = split_files(root, "train")
    assert_spec_rules(p)
    with h5py.File(p) as f:
        t = f["dimensions/time"]
        assert t.shape == (2, 4) and bool(t.attrs["sample_varying"])
        assert np.allclose(t[()], [1.0 + 0.5 * np.arange(4), 2.25 + 0.5 * np.arange(4)],
                           atol=1e-6)
    capsys.readouterr()
    assert main(["validate", p, "--fail-on", "warning"]) == 0, capsys.readouterr().out
    require_well()
    from the_well.data import WellDataset

    ds = WellDataset(path=root, well_split_name="train", n_steps_input=1, n_steps_output=1,
                     use_normalization=False)
    assert len(ds) == 2 * 3
    for i in (0, 3):
        assert np.allclose(ds[i]["input_time_grid"].numpy(), [0.0])  # normalised per window
    # wellforge info and plot read it: the second trajectory's panels at its own times
    assert main(["info", p]) == 0 and "per trajectory" in capsys.readouterr().out
    from wellforge.schema.plot import render

    for traj, t0 in ((0, "t = 1"), (1, "t = 2.25")):
        fig = render(p, "C", traj=traj, times=[0, -1])
        assert [ax.get_title() for ax in fig.axes[:2]] == [t0, f"t = {float(t0[4:]) + 1.5:g}"]
    png = str(tmp_path / "c.png")
    assert main(["plot", p, "--field", "C", "--traj", "1", "--out", png]) == 0


def test_well_preset_is_the_wells_dataset():
    """The well preset: the Well's single parameter set (the card's well_values), its
    512 × 512 stored grid (y uniform, as the README says), frames every time unit; the
    tiny preset is at reduced Wi and resolution."""
    from wellforge.generators.config import build_plan, merge_config

    system = get_system(NAME)
    plan = build_plan(system, merge_config(system, "well", None, None))
    want = {p.name: p.well_values[0] for p in system.card.parameters}
    assert want == {"Re": 1000.0, "Wi": 50.0, "beta": 0.9, "epsilon": 2e-6, "Lmax": 70.0}
    assert all(r.params == want for r in plan.runs) and len(plan.runs) == 36
    r = plan.runs[0]
    assert r.stored_resolution == (512, 512) and r.dt_out == 1.0
    assert r.options["y_grid"] == "uniform"
    starts = {float(r.times[0]) for r in plan.runs}  # per-trajectory times, as the Well's
    assert len(starts) == 9 and min(starts) >= 100.0
    tiny = build_plan(system, merge_config(system, "tiny", None, None)).runs
    assert all(t.params["Wi"] < want["Wi"] and np.prod(t.resolution) < 512**2 for t in tiny)
