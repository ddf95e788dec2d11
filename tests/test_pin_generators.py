"""Pins for generators/config.py, resample.py, the OutputClock and pack.py
(tests/MUTATION.md): every config threshold from both sides, exact file names and splits,
run seeds unique across the whole sweep, grid rules with the case that breaks them.

Expected values are closed forms, brute-force references or literals.
"""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest

from wellforge.errors import ConfigError
from wellforge.generators import config as cf
from wellforge.generators import resample as rs
from wellforge.generators.registry import get_system
from wellforge.generators.clock import OutputClock
from wellforge.schema import grids
from wellforge.schema.grids import Axis


@pytest.fixture(scope="module")
def sf():
    return get_system("shear_flow")


def base(**kw):
    cfg = {"resolution": [16, 32], "time": {"dt_out": 0.5, "n_frames": 3},
           "parameters": {"Reynolds": [1e4], "Schmidt": [1.0]},
           "initial_conditions": {"realization": [0, 1, 2]}}
    cfg.update(kw)
    return cfg


def plan(sf, **kw):
    return cf.build_plan(sf, cf.merge_config(sf, None, base(**kw), None))


# -- thresholds from both sides ----------------------------------------------------------

@pytest.mark.parametrize("n,ok", [(4, True), (2, False), (6, True), (5, False), (14, False),
                                  (0, False), (-4, False), (30, True), (8.0, True),
                                  (8.5, False), ("16", True), (True, False)])
def test_smallest_and_fft_friendly_resolution(sf, n, ok):
    cfg = base(resolution=[16, n])
    if ok:
        p = cf.build_plan(sf, cfg)
        assert p.config["resolution"] == [16, int(float(n))]
        assert p.runs[0].resolution == (16, int(float(n)))
        assert isinstance(p.runs[0].resolution[1], int)
    else:
        with pytest.raises(ConfigError, match=r"resolution\.y: "):
            cf.build_plan(sf, cfg)


def test_resolution_length_and_message(sf):
    with pytest.raises(ConfigError, match=r"^resolution: expected 2 sizes \(x, y\), given \[16\]$"):
        cf.build_plan(sf, base(resolution=[16]))
    with pytest.raises(ConfigError, match=r"^resolution\.y: 5 is not FFT-friendly; use an even "
                       r"size >= 4 of the form 2\^a 3\^b 5\^c \(e\.g\. 64, 96, 128\)$"):
        cf.build_plan(sf, base(resolution=[16, 5]))
    with pytest.raises(ConfigError, match=r"^stored_resolution\.x: 7 is not"):
        cf.build_plan(sf, base(stored_resolution=[7, 32]))
    p = cf.build_plan(sf, base(stored_resolution=[8, 16]))
    assert p.config["stored_resolution"] == [8, 16] and p.runs[0].stored_resolution == (8, 16)
    assert cf.build_plan(sf, base()).config["stored_resolution"] == [16, 32]


def test_fft_friendly_literals():
    assert [n for n in range(1, 40) if cf.fft_friendly(n)] == [
        1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 24, 25, 27, 30, 32, 36]


@pytest.mark.parametrize("total,ok", [(1.0, True), (1.0 + 5e-10, True), (1.0 - 5e-10, True),
                                      (1.0 + 2e-9, False), (1.0 - 2e-9, False)])
def test_split_fractions_tolerance(sf, total, ok):
    splits = {"train": total - 0.2, "valid": 0.1, "test": 0.1}
    if ok:
        assert plan(sf, splits=splits).config["splits"] == splits
    else:
        with pytest.raises(ConfigError, match="^splits: fractions must be >= 0 and add up to 1"):
            plan(sf, splits=splits)


@pytest.mark.parametrize("splits", [{"train": 1.2, "valid": -0.1, "test": -0.1},
                                    {"train": 0.8, "valid": 0.1, "test": 0.1, "x": 0.0},
                                    {"train": 0.0, "valid": 0.0, "test": 0.0}, {},
                                    ["train"], "tset"])
def test_split_fractions_rejected(sf, splits):
    with pytest.raises(ConfigError, match="^splits: "):
        plan(sf, splits=splits)


@pytest.mark.parametrize("splits, got", [
    ({"train": 1.0, "valid": 0.0, "test": 0.0}, {"train": 3}),
    ({"train": 1.0}, {"train": 3}),
    ("train", {"train": 3}),
    ({"train": 0.8, "valid": 0.2}, {"train": 2, "valid": 1}),
    ({"valid": 0.5, "test": 0.5}, {"valid": 2, "test": 1}),
])
def test_splits_may_leave_splits_out(sf, splits, got):
    """A split left out (or 0) gets no trajectories: a one-split dataset for a quick run."""
    p = plan(sf, splits=splits)
    counts = {}
    for r in p.runs:
        counts[r.split] = counts.get(r.split, 0) + 1
    assert counts == got


@pytest.mark.parametrize("n_ic,ok", [(3, True), (2, False), (1, False), (4, True)])
def test_exactly_three_trajectories_per_parameter_set(sf, n_ic, ok):
    ics = {"realization": list(range(n_ic))}
    if ok:
        p = plan(sf, initial_conditions=ics)
        assert len(p.runs) == n_ic
        assert sorted(r.split for r in p.runs)[:2] == ["test", "train"] or n_ic > 3
        assert {r.split for r in p.runs} == {"train", "valid", "test"}
    else:
        with pytest.raises(ConfigError, match=rf"^initial_conditions: {n_ic} per parameter set; "
                           r"need >= 3 so that train, valid, test each get one \(add initial "
                           r"conditions, .*splits: \{train: 1\.0\} for a one-split dataset\)$"):
            plan(sf, initial_conditions=ics)


@pytest.mark.parametrize("n_frames,ok", [(2, True), (1, False), (0, False), (2.0, True),
                                         (2.5, False)])
def test_n_frames_boundary(sf, n_frames, ok):
    if ok:
        p = plan(sf, time={"dt_out": 0.5, "n_frames": n_frames})
        assert p.runs[0].n_frames == 2 and p.config["time"] == {"start": 0.0, "dt_out": 0.5,
                                                                   "n_frames": 2}
    else:
        with pytest.raises(ConfigError, match=r"^time\.n_frames: "):
            plan(sf, time={"dt_out": 0.5, "n_frames": n_frames})


@pytest.mark.parametrize("time,msg", [
    ({"dt_out": 0.0, "n_frames": 3}, r"^time\.dt_out: must be > 0, given 0\.0$"),
    ({"dt_out": -1, "n_frames": 3}, r"^time\.dt_out: must be > 0"),
    ({"dt_out": "x", "n_frames": 3}, r"^time\.dt_out: expected a number, given 'x'$"),
    ({"dt_out": float("inf"), "n_frames": 3}, r"^time\.dt_out: expected a finite number"),
    ({"n_frames": 3}, r"^time: needs dt_out and n_frames$"),
    ({"dt_out": 1}, r"^time: needs dt_out and n_frames$"),
    ({"dt_out": 1, "n_frames": 3, "stop": 1}, r"^time\.stop: unknown key; allowed: start, "
     r"dt_out, n_frames, spinup$"),
    ({"dt_out": 1, "n_frames": 3, "spinup": -1}, r"^time\.spinup: must be >= 0"),
    ([1, 2], r"^time: expected a mapping"),
    ({"dt_out": 1, "n_frames": 3, "start": "a"}, r"^time\.start: expected a number"),
])
def test_time_keys(sf, time, msg):
    with pytest.raises(ConfigError, match=msg):
        plan(sf, time=time)


def test_time_start_and_tiny_dt(sf):
    p = plan(sf, time={"start": -1.5, "dt_out": 1e-300, "n_frames": 2})
    assert p.runs[0].t_start == -1.5 and p.runs[0].dt_out == 1e-300


@pytest.mark.parametrize("seed,ok", [(0, True), (-1, False), (3, True), (1.5, False)])
def test_seed_boundary(sf, seed, ok):
    if ok:
        assert plan(sf, seed=seed).config["seed"] == seed
    else:
        with pytest.raises(ConfigError, match="^seed: "):
            plan(sf, seed=seed)


def test_expected_runs(sf):
    assert len(plan(sf, expected_runs=3).runs) == 3
    assert len(plan(sf, expected_runs=None).runs) == 3
    with pytest.raises(ConfigError, match=r"^expected_runs: the sweep expands to 3 runs \(1 "
                       r"parameter sets × 3 initial conditions\), not 4$"):
        plan(sf, expected_runs=4)
    with pytest.raises(ConfigError, match="^missing config key 'time'"):
        cf.build_plan(sf, {k: v for k, v in base().items() if k != "time"})
    for key in ("resolution", "parameters"):
        with pytest.raises(ConfigError, match=f"^missing config key '{key}'"):
            cf.build_plan(sf, {k: v for k, v in base().items() if k != key})


def test_parameter_ranges_from_both_sides(sf):
    assert plan(sf, parameters={"Reynolds": [1.0, 1e7], "Schmidt": [1e-3, 1e3]})
    for bad, msg in (({"Reynolds": [0.999], "Schmidt": [1.0]},
                      r"^parameters\.Reynolds: 0\.999 is out of range \[1, 1e\+07\]$"),
                     ({"Reynolds": [1.1e7], "Schmidt": [1.0]}, r"^parameters\.Reynolds: "),
                     ({"Reynolds": [1e4]}, r"^parameters: missing Schmidt$"),
                     ({"Reynolds": [1e4], "Schmidt": [1.0], "Mach": [1]},
                      r"^parameters: unknown parameter 'Mach'; allowed: Reynolds, Schmidt$")):
        with pytest.raises(ConfigError, match=msg):
            plan(sf, parameters=bad)
    with pytest.raises(ConfigError, match=r"^initial_conditions\.ic: 'x' is not one of "
                       r"default, taylor_green$"):
        plan(sf, initial_conditions={"ic": ["x", "default", "default"], "realization": [0]})
    # an open bound (realization >= 0, no upper bound) was a TypeError formatting None
    with pytest.raises(ConfigError, match=r"^initial_conditions\.realization: -1 is out of "
                       r"range \[0, inf\]$"):
        plan(sf, initial_conditions={"realization": [-1, 0, 1]})
    p = plan(sf, initial_conditions={"n_shear": [2, 16, 4], "realization": [0]}, expected_runs=3)
    assert [r.ic["n_shear"] for r in p.runs] == [2, 16, 4]


def test_options_and_dataset_name(sf):
    with pytest.raises(ConfigError, match=r"^options\.nope: unknown option; allowed: "):
        plan(sf, options={"nope": 1})
    for bad in ("a-b", "", 3, "a b"):
        if bad == "":
            assert plan(sf, dataset_name=bad).dataset_name == "shear_flow"  # falsy: default
            continue
        with pytest.raises(ConfigError, match="^dataset_name: "):
            plan(sf, dataset_name=bad)
    assert plan(sf, dataset_name="my_set2").dataset_name == "my_set2"


# -- names, seeds and splits ---------------------------------------------------------------

def test_file_names_exact(sf):
    p = plan(sf, parameters={"product": {"Reynolds": [1e4, 5e4], "Schmidt": [0.5, 2.0]}})
    keys = list(p.files())
    assert keys == ["shear_flow_Reynolds_1e4_Schmidt_5e-1", "shear_flow_Reynolds_1e4_Schmidt_2e0",
                    "shear_flow_Reynolds_5e4_Schmidt_5e-1", "shear_flow_Reynolds_5e4_Schmidt_2e0"]
    assert all(len(v) == 3 for v in p.files().values())
    w = plan(sf, well_compat=True)
    assert list(w.files()) == ["shear_flow_Rayleigh_1e4_Schmidt_1e0"]
    assert w.runs[0].param_names == {"Reynolds": "Rayleigh"}
    assert plan(sf).runs[0].param_names == {}


def test_format_value_literals():
    cases = {1e4: "1e4", 5e-1: "5e-1", 1.0: "1e0", 0.0: "0", -0.0: "0", 1.25e-3: "1.25e-3",
             -2.0: "-2e0", 123456.0: "1.23456e5", 0.1: "1e-1", 1234567.0: "1.234567e6"}
    for v, want in cases.items():
        assert cf.format_value(v) == want, v


def test_run_seeds_unique_across_the_whole_sweep(sf):
    p = plan(sf, parameters={"product": {"Reynolds": [1e4, 5e4, 1e5], "Schmidt": [1.0, 2.0]}},
             initial_conditions={"realization": list(range(5))})
    assert len(p.runs) == 30
    seeds = [r.seed for r in p.runs]
    assert len(set(seeds)) == 30  # across parameter sets too, not only within a file
    assert len({r.run_id for r in p.runs}) == 30
    assert [r.index for r in p.runs] == list(range(30))
    assert all(len(r.run_id) == 12 and int(r.run_id, 16) >= 0 for r in p.runs)
    assert all(0 <= s < 2**32 for s in seeds)
    # the same config gives the same seeds and ids; another seed gives other ones
    q = plan(sf, parameters={"product": {"Reynolds": [1e4, 5e4, 1e5], "Schmidt": [1.0, 2.0]}},
             initial_conditions={"realization": list(range(5))})
    assert [r.seed for r in q.runs] == seeds and [r.run_id for r in q.runs] == [
        r.run_id for r in p.runs]
    o = plan(sf, parameters={"product": {"Reynolds": [1e4, 5e4, 1e5], "Schmidt": [1.0, 2.0]}},
             initial_conditions={"realization": list(range(5))}, seed=1)
    assert not set(r.seed for r in o.runs) & set(seeds)
    # the seed is numpy's SeedSequence(seed).spawn_key=(index,) state (a literal reference)
    ref = [int(np.random.SeedSequence(0, spawn_key=(i,)).generate_state(1)[0])
           for i in range(30)]
    assert seeds == ref


def test_split_counts_per_file(sf):
    """10 ICs: round(0.1 * 10) = 1 valid, 1 test; 20 ICs with 0.2/0.15: 4 valid, 3 test."""
    p = plan(sf, initial_conditions={"realization": list(range(10))})
    sp = [r.split for r in p.runs]
    assert sp.count("valid") == 1 and sp.count("test") == 1 and sp.count("train") == 8
    p = plan(sf, initial_conditions={"realization": list(range(20))},
             splits={"train": 0.65, "valid": 0.2, "test": 0.15})
    sp = [r.split for r in p.runs]
    assert (sp.count("valid"), sp.count("test"), sp.count("train")) == (4, 3, 13)
    p = plan(sf, parameters={"Reynolds": [1e4, 2e4], "Schmidt": [1.0]},
             initial_conditions={"realization": list(range(4))})
    for key, runs in p.files().items():  # every file gets every split
        assert {r.split for r in runs} == {"train", "valid", "test"}


def test_fingerprint_ignores_scheduling_only(sf):
    a = cf.merge_config(sf, None, base(), None)
    b = cf.merge_config(sf, None, base(ranks_per_run=4), None)
    c = cf.merge_config(sf, None, base(seed=1), None)
    fa, fb, fc = (cf.build_plan(sf, x).fingerprint() for x in (a, b, c))
    assert fa == fb and fa != fc and len(fa) == 40


# -- merge_config and --set ----------------------------------------------------------------

def test_merge_order_preset_file_set(sf):
    cfg = cf.merge_config(sf, "tiny", {"seed": 4}, ["seed=7", "n_frames=5", "Reynolds=1e3,2e3"])
    assert cfg["seed"] == 7 and cfg["time"]["n_frames"] == 5 and cfg["time"]["dt_out"] == 0.1
    assert cfg["preset"] == "tiny" and cfg["system"] == "shear_flow"
    assert "expected_runs" not in cfg  # a --set of a swept name drops the preset's count
    p = cf.build_plan(sf, cfg)
    assert sorted({r.params["Reynolds"] for r in p.runs}) == [1e3, 2e3]
    assert len(p.runs) == 2 * 2 * 3  # (Re x (Re, Sc) zip of 2) x 3 ICs
    cfg = cf.merge_config(sf, "tiny", {"seed": 4}, None)
    assert cfg["expected_runs"] == 6 and cfg["seed"] == 4
    cfg = cf.merge_config(sf, "tiny", {"parameters": {"Reynolds": [1e4], "Schmidt": [1.0]}}, None)
    assert "expected_runs" not in cfg  # the file's sweep replaces the preset's
    cfg = cf.merge_config(sf, None, {"preset": "tiny"}, None)
    assert cfg["preset"] == "tiny" and cfg["resolution"] == [64, 128]
    with pytest.raises(ConfigError, match=r"^unknown config key 'bogus'; allowed: system, "):
        cf.merge_config(sf, None, {"bogus": 1}, None)
    with pytest.raises(ConfigError, match=r"^preset 'huge' not defined for shear_flow; "
                       r"available: tiny, well"):
        cf.merge_config(sf, "huge", None, None)
    with pytest.raises(ConfigError, match=r"^--set 'seed': expected name=value$"):
        cf.merge_config(sf, None, None, ["seed"])
    with pytest.raises(ConfigError, match=r"^--set '=3': expected name=value$"):
        cf.merge_config(sf, None, None, ["=3"])
    with pytest.raises(ConfigError, match=r"^--set nope: unknown name; allowed: Reynolds, "):
        cf.merge_config(sf, None, None, ["nope=1"])
    cfg = cf.merge_config(sf, None, base(), ["width=0.5", "resolution=[8, 16]"])
    assert cfg["initial_conditions"] == {"list": [{"realization": r, "width": 0.5}
                                                  for r in (0, 1, 2)]}
    assert cfg["resolution"] == [8, 16]


def test_parse_value_literals():
    assert cf.parse_value("1e4") == 1e4 and isinstance(cf.parse_value("1e4"), float)
    assert cf.parse_value("3") == 3 and cf.parse_value("abc") == "abc"
    assert cf.parse_value("[1, 2e3]") == [1, 2e3] and cf.parse_value("[]") == []
    assert cf.parse_value("1,2") == [1, 2] and cf.parse_value(" 5e-1 ") == 0.5
    assert cf.parse_value("true") is True
    with pytest.raises(ConfigError, match=r"^--set: cannot parse value '\[a'$"):
        cf.parse_value("x,[a")


def test_expand_sweep_forms():
    assert cf.expand_sweep("k", None) == [{}]
    assert cf.expand_sweep("k", {"a": [1, 2], "b": 3}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]
    assert cf.expand_sweep("k", {"product": {"a": [1, 2], "b": [3, 4]}}) == [
        {"a": 1, "b": 3}, {"a": 1, "b": 4}, {"a": 2, "b": 3}, {"a": 2, "b": 4}]
    assert cf.expand_sweep("k", {"zip": {"a": [1, 2], "b": [3, 4]}}) == [
        {"a": 1, "b": 3}, {"a": 2, "b": 4}]
    assert cf.expand_sweep("k", {"list": [{"a": 1}, {"b": 2}]}) == [{"a": 1}, {"b": 2}]
    for bad, msg in (([1], r"^k: expected a mapping"),
                     ({"zip": {"a": [1, 2], "b": [3]}}, r"^k\.zip: all lists must have the "
                      r"same length, given a: 2, b: 1$"),
                     ({"zip": {}, "list": []}, r"^k: use exactly one of product, zip, list, sample "
                      r"\(given zip, list\)$"),
                     ({"zip": {}, "a": 1}, r"^k: use exactly one of"),
                     ({"list": [1]}, r"^k\.list: expected a list of mappings$"),
                     ({"list": {"a": 1}}, r"^k\.list: expected a list of mappings$"),
                     ({"product": [1]}, r"^k\.product: expected a mapping name: \[values\]$")):
        with pytest.raises(ConfigError, match=msg):
            cf.expand_sweep("k", bad)


def test_as_number_literals():
    assert cf._as_number("k", "2.5") == 2.5 and cf._as_number("k", 3, integer=True) == 3
    assert isinstance(cf._as_number("k", 3.0, integer=True), int)
    with pytest.raises(ConfigError, match=r"^k: expected an integer, given 3\.5$"):
        cf._as_number("k", 3.5, integer=True)
    with pytest.raises(ConfigError, match=r"^k: must be > 0, given 0$"):
        cf._as_number("k", 0, positive=True)
    assert cf._as_number("k", 1e-300, positive=True) == 1e-300
    with pytest.raises(ConfigError, match=r"^k: expected a finite number, given True$"):
        cf._as_number("k", True)
    with pytest.raises(ConfigError, match=r"^k: expected a finite number, given nan$"):
        cf._as_number("k", float("nan"))
    with pytest.raises(ConfigError, match=r"^k: expected a finite number, given None$"):
        cf._as_number("k", None)


def test_load_yaml(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping with at least 'system'"):
        cf.load_yaml(str(p))
    p.write_text("system: shear_flow\n")
    assert cf.load_yaml(str(p)) == {"system": "shear_flow"}


# -- resampling: the Nyquist mode, grids at the simulated size, walls ----------------------

def test_downsampling_drops_the_nyquist_mode_of_the_stored_grid():
    """From 16 to 8 points: modes 0..3 kept; mode 4 (the stored grid's Nyquist) and
    above dropped, as Dedalus's RealFourier does. The reference is the literal mode sum."""
    N, n = 16, 8
    x, xs = 2 * np.pi * np.arange(N) / N, 2 * np.pi * np.arange(n) / n
    f = 1 + np.cos(x) + 2 * np.sin(3 * x) + 5 * np.cos(4 * x) + 7 * np.cos(8 * x)
    out = rs.fourier_resample(f, 0, n)
    np.testing.assert_allclose(out, 1 + np.cos(xs) + 2 * np.sin(3 * xs), atol=1e-13)
    # upsampling 8 -> 16: the source's Nyquist mode is dropped as well
    g = 1 + np.cos(xs) + 3 * np.cos(4 * xs)
    np.testing.assert_allclose(rs.fourier_resample(g, 0, N), 1 + np.cos(x), atol=1e-13)
    # odd stored sizes: 16 -> 9 keeps modes 0..3 only ((min // 2) = 4 modes)
    np.testing.assert_allclose(rs.fourier_resample(1 + 2 * np.sin(3 * x) + np.cos(4 * x), 0, 9),
                               1 + 2 * np.sin(3 * 2 * np.pi * np.arange(9) / 9), atol=1e-13)
    same = rs.fourier_resample(f, 0, N)
    assert same is f  # the same size is the identity (no copy, Nyquist kept)


def test_fourier_resample_along_another_axis():
    N, n = 12, 6
    x = 2 * np.pi * np.arange(N) / N
    a = np.stack([np.sin(x), 2 + np.cos(2 * x)])  # (2, 12)
    out = rs.fourier_resample(a, 1, n)
    xs = 2 * np.pi * np.arange(n) / n
    np.testing.assert_allclose(out, np.stack([np.sin(xs), 2 + np.cos(2 * xs)]), atol=1e-13)


def test_uniform_chebyshev_grid_at_the_simulated_size():
    """A uniform stored grid of the same size as the simulated Chebyshev grid is not the
    identity: the data are interpolated onto equispaced points including both walls."""
    ax = Axis("y", "chebyshev", (-1.0, 3.0), 9)
    y = grids.chebyshev_nodes(9, -1.0, 3.0)
    p = lambda s: s**8 - 2 * s**3 + s - 4  # noqa: E731 - degree 8 = N - 1
    r = rs.Resampler((ax,), (9,), {"y": "uniform"})
    assert not r.identity
    np.testing.assert_allclose(r(p(y)), p(np.linspace(-1.0, 3.0, 9)), rtol=1e-11, atol=1e-9)
    same = rs.Resampler((ax,), (9,), {})
    assert same.identity and same(p(y)) is not None
    np.testing.assert_array_equal(same(p(y)), p(y))
    down = rs.Resampler((ax,), (6,), {})
    assert not down.identity
    q = lambda s: s**5 - s  # noqa: E731
    np.testing.assert_allclose(down(q(y)), q(grids.chebyshev_nodes(6, -1.0, 3.0)), atol=1e-10)


def test_chebyshev_nodes_and_stored_grids_literals():
    n = 4
    want = (1 - np.cos(np.pi * np.array([0.5, 1.5, 2.5, 3.5]) / 4)) / 2 * 2.0 + 1.0
    np.testing.assert_allclose(grids.chebyshev_nodes(n, 1.0, 3.0), want, rtol=1e-15)
    ax = Axis("y", "chebyshev", (1.0, 3.0), 4)
    np.testing.assert_array_equal(rs.stored_grid(ax, 5, "uniform"), [1.0, 1.5, 2.0, 2.5, 3.0])
    np.testing.assert_allclose(rs.stored_grid(ax, 4, "chebyshev"), want, rtol=1e-15)
    np.testing.assert_allclose(rs.stored_grid(ax, 4, None), want, rtol=1e-15)
    fx = Axis("x", "fourier", (-1.0, 1.0), 4)
    np.testing.assert_array_equal(rs.stored_grid(fx, 4), [-1.0, -0.5, 0.0, 0.5])
    th = Axis("theta", "gauss", (0.0, np.pi), 4)
    np.testing.assert_allclose(rs.stored_grid(th, 4), np.pi - (np.arange(4) + 0.5) * np.pi / 4)
    np.testing.assert_allclose(rs.stored_grid(th, 4, "equiangular"),
                               [7 * np.pi / 8, 5 * np.pi / 8, 3 * np.pi / 8, np.pi / 8])
    np.testing.assert_allclose(rs.stored_grid(th, 3, "gauss"),
                               np.arccos([-np.sqrt(0.6), 0.0, np.sqrt(0.6)]), rtol=1e-14)
    for a, mode in ((ax, "gauss"), (th, "uniform"), (Axis("z", "other", (0, 1), 4), None)):
        with pytest.raises(ValueError, match=f"axis {a.name}: unknown grid kind/mode "
                           f"{a.kind}/{mode}"):
            rs.stored_grid(a, 4, mode)


def test_chebyshev_walls_and_interior_rows():
    """The interpolation matrix reaches both walls (not grid points) exactly for
    polynomials, and rows at nodes are exact unit rows."""
    y = grids.chebyshev_nodes(7, 0.0, 2.0)
    M = grids.chebyshev_interp_matrix(7, np.r_[0.0, y[2], 2.0], (0.0, 2.0))
    f = lambda s: (s - 0.3) ** 6  # noqa: E731
    np.testing.assert_allclose(M @ f(y), [f(0.0), f(y[2]), f(2.0)], rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(M[1], np.eye(7)[2])
    np.testing.assert_allclose(M.sum(axis=1), 1.0, rtol=1e-14)


def test_barycentric_matrix_exact_rows_and_weights():
    x = np.array([0.0, 1.0, 3.0])
    lam = np.array([1 / 3, -1 / 2, 1 / 6])  # 1 / prod(x_j - x_k)
    M = grids.barycentric_matrix(x, [1.0, 2.0], lam)
    np.testing.assert_array_equal(M[0], [0.0, 1.0, 0.0])
    # the quadratic through (0, a), (1, b), (3, c) at 2: Lagrange weights -1/3, 1, 1/3
    np.testing.assert_allclose(M[1], [-1 / 3, 1.0, 1 / 3], rtol=1e-14)
    assert grids.barycentric_matrix(x, 2.0, lam).shape == (1, 3)


def test_sphere_resampling_of_band_limited_fields():
    """Scalar Y_1^1-like and Y_2^0-like fields from Gauss colatitudes to the equiangular
    grid, with an azimuth downsampled from 8 to 4: the closed forms at the targets."""
    nphi, nth = 8, 6
    phi = 2 * np.pi * np.arange(nphi) / nphi
    th = grids.gauss_colatitudes(nth, ascending=False)
    P, T = np.meshgrid(phi, th, indexing="ij")
    f = lambda P, T: 1 + np.sin(T) * np.cos(P) + (3 * np.cos(T) ** 2 - 1)  # noqa: E731
    axes = (Axis("phi", "fourier", (0, 2 * np.pi), nphi),
            Axis("theta", "gauss", (0, np.pi), nth))
    r = rs.Resampler(axes, (4, 5), {})
    out = r(f(P, T))
    ps = 2 * np.pi * np.arange(4) / 4
    ts = grids.equiangular_colatitudes(5, ascending=False)
    Ps, Ts = np.meshgrid(ps, ts, indexing="ij")
    np.testing.assert_allclose(out, f(Ps, Ts), atol=1e-12)
    # a vector's components flip the parity (m + rank): m = 1 components are cosine
    # polynomials in theta, m = 0 ones sine polynomials; order=[1, 0] stores (theta, phi)
    # and swaps the components alike
    g = lambda P, T: np.cos(T) * np.cos(P) + np.sin(T)  # noqa: E731
    h = lambda P, T: np.cos(2 * T) * np.sin(P)  # noqa: E731
    u = np.stack([g(P, T), h(P, T)], axis=-1)
    outu = rs.Resampler(axes, (8, 5), {}, order=[1, 0])(u)
    P8, T5 = np.meshgrid(phi, ts, indexing="ij")
    want = np.stack([h(P8, T5), g(P8, T5)], axis=-1).transpose(1, 0, 2)
    assert outu.shape == (5, 8, 2)
    np.testing.assert_allclose(outu, want, atol=1e-12)


def test_resampler_rejects_bad_orders_and_sphere_axes():
    a = (Axis("x", "fourier", (0, 1), 8), Axis("y", "fourier", (0, 1), 8))
    with pytest.raises(ValueError, match=r"^order \[0, 0\] is not a permutation of the 2 axes$"):
        rs.Resampler(a, (8, 8), {}, order=[0, 0])
    with pytest.raises(ValueError, match="gauss colatitude axis must follow its fourier"):
        rs.Resampler((Axis("t", "gauss", (0, np.pi), 4),), (4,), {})
    with pytest.raises(ValueError, match="gauss colatitude axis must follow"):
        rs.Resampler((Axis("y", "chebyshev", (0, 1), 4), Axis("t", "gauss", (0, 3), 4)),
                     (4, 4), {})
    r = rs.Resampler(a, (8, 8), {}, order=[1, 0])
    assert not r.identity
    d = np.arange(64.0).reshape(8, 8)
    np.testing.assert_array_equal(r(d), d.T)
    v = np.stack([d, -d], axis=-1)
    np.testing.assert_array_equal(r(v), np.stack([-d.T, d.T], axis=-1))  # components too
    assert rs.Resampler(a, (8, 8), {}).identity
    assert not rs.Resampler(a, (8, 4), {}).identity


# -- the output clock ------------------------------------------------------------------------

def test_output_clock_zero_threshold_recuts_on_any_cfl_drop():
    c = OutputClock(np.array([0.0, 1.0]))
    assert c._cut(1.0, 0.25) == 4 and c._cut(1.0, 0.3) == 4 and c._cut(1.0, 1.0) == 1
    assert c._cut(1.0, 1.0 / 3) == 3  # a CFL step that divides the interval: no extra step
    assert c._cut(1e-3, 1.0) == 1
    dt, lands = c.step(0.0, 0.25)
    assert dt == 0.25 and not lands
    dt, lands = c.step(0.25, 0.2)  # the CFL target dropped below the step: re-cut the rest
    assert dt == pytest.approx(0.75 / 4) and not lands
    assert not c.done
    t = 0.25 + dt
    for _ in range(3):
        dt, lands = c.step(t, 0.2)
        t += dt
    assert lands and abs(t - 1.0) < 1e-14
    c.k += 1
    assert c.done


def test_output_clock_threshold_from_both_sides():
    """threshold 0.5: a CFL step 40 % above the current one keeps it; 60 % above (and
    fewer steps reaching the output) re-cuts."""
    for grow, recut in ((1.4, False), (1.6, True)):
        c = OutputClock(np.array([0.0, 1.0]), threshold=0.5)
        dt0, _ = c.step(0.0, 0.1)
        assert dt0 == pytest.approx(0.1)
        dt1, _ = c.step(0.1, 0.1 * grow)
        assert (dt1 != dt0) == recut
        if recut:
            assert dt1 == pytest.approx(0.9 / c._cut(0.9, 0.16))
    c = OutputClock(np.array([0.0, 1.0]), threshold=0.5)
    c.step(0.0, 0.1)
    assert c.step(0.1, 0.1 / 1.4)[0] == pytest.approx(0.1)  # dropped 29 %: kept (hysteresis)
    c = OutputClock(np.array([0.0, 1.0]), threshold=0.5)
    c.step(0.0, 0.1)
    assert c.step(0.1, 0.1 / 1.6)[0] < 0.1 / 1.6 * (1 + 1e-12)  # dropped 38 %: re-cut


def test_output_clock_new_interval_keeps_the_step_only_within_the_threshold():
    times = np.array([0.0, 1.0, 2.0])
    c = OutputClock(times, threshold=0.2)
    for k in range(4):
        dt, lands = c.step(k * 0.25, 0.25)
    assert lands and dt == 0.25
    c.k = 2
    # next interval, CFL target 0.3 (best cut 4 steps): the same 4 x 0.25 is kept
    assert c.step(1.0, 0.3)[0] == 0.25
    c = OutputClock(times, threshold=0.2)
    for k in range(4):
        c.step(k * 0.25, 0.25)
    c.k = 2
    # CFL target 0.5: the best cut is 2 steps; 4 > 2 * 1.2: re-cut to 0.5
    assert c.step(1.0, 0.5)[0] == 0.5


# -- packing: exact names, order, idempotence --------------------------------------------------

def _shard(path, run_id, seed, value):
    from wellforge.schema.writer import WellWriter

    with WellWriter(str(path), "pk", 1, np.array([0.0, 0.5, 1.0]), time_units="s") as w:
        w.add_dimension("x", np.arange(4) / 4, units="m")
        w.add_dimension("y", np.linspace(0, 1, 3), units="m")
        w.add_parameter("Reynolds", 100.0)
        w.add_field("c", units="K")
        w.add_field("u", order=1, units="m/s")
        w.add_boundary_condition("x", "PERIODIC")
        w.add_boundary_condition("y", "WALL", variant="noslip", fields=("u",),
                                 values={"u": (0, 0)})
        w.set_root_attrs(wellforge_system="pk_sys")
        w.set_provenance({"run_ids": [run_id], "seeds": [seed], "wall_s": [1.5],
                          "solver": "dedalus"})
        for k in range(3):
            w.write_frame(0, k, {"c": np.full((4, 3), value + k), "u": np.zeros((4, 3, 2))})
    return str(path)


def test_pack_names_order_provenance_and_idempotence(tmp_path):
    from wellforge.generators.pack import pack, packed_run_ids
    from wellforge.schema.reader import read_provenance

    s = [_shard(tmp_path / f"s{i}.hdf5", f"id{i}", 10 + i, 100.0 * i) for i in range(3)]
    root = tmp_path / "ds"
    out = pack({("valid", "pk_Reynolds_1e2"): [("id2", s[2]), ("id0", s[0])],
                ("train", "pk_Reynolds_1e2"): [("id1", s[1])]}, str(root))
    assert out == [str(root / "data" / "train" / "pk_Reynolds_1e2.hdf5"),
                   str(root / "data" / "valid" / "pk_Reynolds_1e2.hdf5")]
    v = out[1]
    with h5py.File(v) as f:
        assert f.attrs["n_trajectories"] == 2 and f.attrs["wellforge_system"] == "pk_sys"
        assert f["t0_fields/c"][:, :, 0, 0].tolist() == [[200, 201, 202], [0, 1, 2]]
        assert f["dimensions/x"].attrs["units"] == "m" and f["dimensions/time"].attrs[
            "units"] == "s"
        assert f["scalars/Reynolds"][()] == 100.0 and f["t1_fields/u"].attrs["units"] == "m/s"
        assert sorted(f["boundary_conditions"]) == ["x_periodic", "y_wall_noslip"]
        g = f["boundary_conditions/y_wall_noslip"]
        assert list(g.attrs["associated_fields"]) == ["u"]
        assert json.loads(g.attrs["wellforge_values"]) == {"u": [0, 0]} and "values" not in g
        assert "wellforge_values" not in f["boundary_conditions/x_periodic"].attrs
        p = read_provenance(f)
    assert p["run_ids"] == ["id2", "id0"] and p["seeds"] == [12, 10]
    assert p["wall_s"] == [1.5, 1.5] and p["packed_from"] == 2 and p["solver"] == "dedalus"
    assert "stationary" not in p  # empty per-trajectory lists are left out
    assert packed_run_ids(v) == ["id2", "id0"]
    assert packed_run_ids(str(tmp_path / "missing.hdf5")) is None
    mtime = os.stat(v).st_mtime_ns
    again = pack({("valid", "pk_Reynolds_1e2"): [("id2", s[2]), ("id0", s[0])]}, str(root))
    assert again == [v] and os.stat(v).st_mtime_ns == mtime  # same run ids: kept
    pack({("valid", "pk_Reynolds_1e2"): [("id0", s[0]), ("id2", s[2])]}, str(root))
    assert packed_run_ids(v) == ["id0", "id2"]  # other order: rewritten
    with h5py.File(v) as f:
        assert f["t0_fields/c"][:, 0, 0, 0].tolist() == [0, 200]
    assert sorted(os.listdir(root / "data" / "valid")) == ["pk_Reynolds_1e2.hdf5"]


def _interval(c, t0, dt_cfl):
    """Step the clock through one output interval at a constant CFL target."""
    t, dts = t0, []
    while True:
        dt, lands = c.step(t, dt_cfl)
        dts.append(dt)
        t += dt
        if lands:
            c.k += 1
            return dts


def test_output_clock_keeps_the_step_within_the_hysteresis():
    """threshold 0.5: after 4 x 0.25, an interval whose best cut is 3 steps (CFL 0.34)
    keeps 4 x 0.25 (4 <= 3 x 1.5); one whose CFL is 0.2 (below the step) does not."""
    c = OutputClock(np.array([0.0, 1.0, 2.0, 3.0]), threshold=0.5)
    assert _interval(c, 0.0, 0.25) == [0.25] * 4
    assert _interval(c, 1.0, 0.34) == [0.25] * 4
    assert _interval(c, 2.0, 0.2) == [0.2] * 5
    # at the boundary: 4 <= 3 x (1 + 1/3) keeps the step
    c = OutputClock(np.array([0.0, 1.0, 2.0]), threshold=1 / 3)
    _interval(c, 0.0, 0.25)
    assert _interval(c, 1.0, 0.34) == [0.25] * 4
    # without hysteresis the best cut is taken
    c = OutputClock(np.array([0.0, 1.0, 2.0]), threshold=0.0)
    _interval(c, 0.0, 0.25)
    assert _interval(c, 1.0, 0.34) == [1 / 3] * 3


def test_output_clock_step_reuse_needs_the_same_interval_length():
    c = OutputClock(np.array([0.0, 1.0, 3.0]), threshold=0.5)
    assert _interval(c, 0.0, 0.25) == [0.25] * 4
    dts = _interval(c, 1.0, 0.25)  # twice as long: 8 steps, not the old 4
    assert dts == [0.25] * 8


def test_output_clock_returns_to_the_first_float_of_a_cut():
    """A cut into n steps reuses the float of an earlier cut into n when it still cuts
    the interval to 1e-12 of its length (the stored times' round-off), else r / n."""
    r = 1e4
    times = np.array([0.0, r, 2 * r, 3 * r + 1e-9, 3 * r + 1e-9 + 5e3])
    c = OutputClock(times)
    assert _interval(c, 0.0, r / 4) == [2500.0] * 4
    assert _interval(c, r, r / 8) == [1250.0] * 8
    third = _interval(c, 2 * r, r / 4 * (1 + 1e-13))  # 4 steps again, 1e-9 longer
    assert third == [2500.0] * 4  # the same float as before, bit for bit
    fourth = _interval(c, times[3], 2500.0)  # 5000 long: 2 steps, not 4 of the old float
    assert len(fourth) == 2 and fourth[0] == pytest.approx(2500.0, rel=1e-12)


def test_output_clock_recut_needs_more_than_the_threshold():
    """threshold 0.5, step 0.25: a CFL target of exactly 0.375 (= 1.5 x) keeps the step;
    above it, with fewer steps reaching the output, the rest is re-cut."""
    c = OutputClock(np.array([0.0, 1.0]), threshold=0.5)
    assert c.step(0.0, 0.25) == (0.25, False)
    assert c.step(0.25, 0.375) == (0.25, False)
    c = OutputClock(np.array([0.0, 1.0]), threshold=0.5)
    c.step(0.0, 0.25)
    assert c.step(0.25, 0.38) == (0.375, False)


# -- survivors of the first mutation run ----------------------------------------------------

def test_resolved_config_and_runs_exact(sf):
    p = plan(sf, ranks_per_run=2, well_compat=False)
    import wellforge

    assert p.config == {
        "system": "shear_flow", "dataset_name": "shear_flow", "resolution": [16, 32],
        "stored_resolution": [16, 32], "time": {"start": 0.0, "dt_out": 0.5, "n_frames": 3},
        "parameters": {"list": [{"Reynolds": 1e4, "Schmidt": 1.0}]},
        "initial_conditions": {"list": [{"realization": 0}, {"realization": 1},
                                        {"realization": 2}]},
        "splits": {"train": 0.8, "valid": 0.1, "test": 0.1}, "seed": 0, "options": {},
        "well_compat": False, "ranks_per_run": 2, "wellforge_version": wellforge.__version__}
    r = p.runs[0]
    assert (r.system, r.dataset_name, r.options, r.file_key) == (
        "shear_flow", "shear_flow", {}, "shear_flow_Reynolds_1e4_Schmidt_1e0")
    # every IC parameter is named, defaults included (provenance)
    assert r.ic == {"ic": "default", "n_shear": 2, "n_blobs": 2, "width": 1.0,
                    "amplitude": 1.0, "perturbation": 0.1, "realization": 0}
    assert plan(sf).config["ranks_per_run"] is None


def test_run_ids_depend_on_params_ic_and_seed(sf):
    a = plan(sf)
    ids = [r.run_id for r in a.runs]
    assert [r.run_id for r in plan(sf).runs] == ids  # deterministic
    assert [r.split for r in plan(sf).runs] == [r.split for r in a.runs]
    other_param = plan(sf, parameters={"Reynolds": [2e4], "Schmidt": [1.0]})
    other_ic = plan(sf, initial_conditions={"realization": [0, 1, 2], "width": [0.5]})
    other_seed = plan(sf, seed=1)
    for q in (other_param, other_ic, other_seed):
        assert all(x.run_id != y for x, y in zip(q.runs, ids))
    # the order of names in the config does not change ids or the fingerprint
    swapped = plan(sf, initial_conditions={"width": [1.0], "realization": [0, 1, 2]})
    same = plan(sf, initial_conditions={"realization": [0, 1, 2], "width": [1.0]})
    assert [r.run_id for r in swapped.runs] == [r.run_id for r in same.runs]
    assert swapped.fingerprint() == same.fingerprint()


def test_more_config_messages(sf):
    with pytest.raises(ConfigError, match=r"^resolution\.y: must be > 0, given 0$"):
        cf.build_plan(sf, base(resolution=[16, 0]))
    with pytest.raises(ConfigError, match=r"^time\.n_frames: must be > 0, given 0$"):
        plan(sf, time={"dt_out": 0.5, "n_frames": 0})
    with pytest.raises(ConfigError, match=r"^expected_runs: expected an integer, given 3\.5$"):
        plan(sf, expected_runs=3.5)
    with pytest.raises(ConfigError, match=r"^expected_runs: expected a number, given 'x'$"):
        plan(sf, expected_runs="x")
    with pytest.raises(ConfigError, match=r"^splits\.valid: expected a number, given 'x'$"):
        plan(sf, splits={"train": 0.8, "valid": "x", "test": 0.1})
    with pytest.raises(ConfigError, match=r"^splits: expected fractions for some of train, "
                       r"valid, test, e\.g\. \{train: 0\.8, valid: 0\.1, test: 0\.1\}; "
                       r"given \{'trian': 1\.0\}$"):
        plan(sf, splits={"trian": 1.0})
    with pytest.raises(ConfigError, match=r"^splits: fractions must be >= 0 and add up to 1, "
                       r"given train: 0\.9, valid: 0\.1, test: 0\.1$"):
        plan(sf, splits={"train": 0.9, "valid": 0.1, "test": 0.1})
    with pytest.raises(ConfigError, match=r"^parameters: missing Reynolds, Schmidt$"):
        plan(sf, parameters={})
    with pytest.raises(ConfigError, match=r"^parameters\.Reynolds: expected a number, "
                       r"given 'x'$"):
        plan(sf, parameters={"Reynolds": ["x"], "Schmidt": [1.0]})
    with pytest.raises(ConfigError, match=r"^initial_conditions\.zip: all lists must have "):
        plan(sf, initial_conditions={"zip": {"realization": [0, 1, 2], "width": [1.0]}})
    with pytest.raises(ConfigError, match=r"^missing config key 'time' \(or choose a "
                       r"--preset: tiny, well\)$"):
        cf.build_plan(sf, {k: v for k, v in base().items() if k != "time"})
    with pytest.raises(ConfigError, match=r"^options\.nope: unknown option; allowed: none$"):
        plan(sf, options={"nope": 1})
    for bad in ("_", "__"):
        with pytest.raises(ConfigError, match="^dataset_name: "):
            plan(sf, dataset_name=bad)
    # a choice parameter is checked, and so is every name after it
    with pytest.raises(ConfigError, match=r"^initial_conditions\.n_shear: 99 is out of range"):
        plan(sf, initial_conditions={"ic": ["default"], "n_shear": [99],
                                     "realization": [0, 1, 2]})
    with pytest.raises(ConfigError, match=r"^k\.a: 6 is out of range \[-inf, 5\]$"):
        cf._check_named("k", {"a": 6}, {"a": (None, 5, None)})
    c = {"a": "2"}
    cf._check_named("k", c, {"a": (0, None, None), "b": (None, None, ("x",))})
    assert c == {"a": 2.0}


def test_system_checks_and_options():
    kf = get_system("kolmogorov_flow")
    with pytest.raises(ConfigError, match=r"^parameters\.n_forcing: 4\.5 is not an integer"):
        cf.build_plan(kf, {"resolution": [16, 16], "time": {"dt_out": 0.5, "n_frames": 2},
                           "parameters": {"Reynolds": [40.0], "n_forcing": [4.5]},
                           "initial_conditions": {"realization": [0, 1, 2]}})
    rb = get_system("rayleigh_benard")
    cfg = cf.merge_config(rb, "tiny", None, ["y_grid=uniform"])
    p = cf.build_plan(rb, cfg)
    assert p.config["options"] == {"y_grid": "uniform"}
    assert all(r.options == {"y_grid": "uniform"} for r in p.runs)
    with pytest.raises(ConfigError, match=r"^options\.y_grid: 'wobbly' is not one of "
                       r"chebyshev, uniform$"):
        cf.build_plan(rb, cf.merge_config(rb, "tiny", None, ["y_grid=wobbly"]))
    with pytest.raises(ConfigError, match=r"^options\.z: unknown option; allowed: y_grid$"):
        cf.build_plan(rb, cf.merge_config(rb, "tiny", {"options": {"z": 1}}, None))


def test_merge_config_keys_and_sets(sf):
    cfg = cf.merge_config(sf, None, base(), ["dataset_name=a=b", "realization=0,1,2,3"])
    assert cfg["dataset_name"] == "a=b"
    assert cfg["initial_conditions"] == {"list": [{"realization": r} for r in range(4)]}
    assert set(cfg) == {"system", "preset", "resolution", "time", "parameters",
                        "initial_conditions", "options", "dataset_name"}
    cfg = cf.merge_config(sf, None, {}, ["n_frames=3"])
    assert cfg["time"] == {"n_frames": 3} and cfg["options"] == {}
    cfg = cf.merge_config(sf, None, {"options": None}, None)
    assert cfg["options"] == {}
    with pytest.raises(ConfigError, match=r"^parameters\.zip: all lists must have"):
        cf.merge_config(sf, None, {"parameters": {"zip": {"Reynolds": [1, 2], "Schmidt": [1]}}},
                        ["Reynolds=3"])
    preset_before = repr(sf.presets["tiny"])
    cf.merge_config(sf, "tiny", None, ["n_frames=4", "Reynolds=1e3"])
    assert repr(sf.presets["tiny"]) == preset_before  # the preset itself is never changed


def test_parse_value_and_load_yaml_messages(tmp_path):
    assert cf.parse_value("[Xa, b]") == ["Xa", "b"]
    with pytest.raises(ConfigError, match=r"no such config file$"):
        cf.load_yaml(str(tmp_path / "none.yaml"))


def test_pack_variants_grid_units_and_skips(tmp_path):
    from wellforge.generators.pack import pack, packed_run_ids
    from wellforge.schema.writer import WellWriter

    def shard(path, rid, grid="equiangular"):
        with WellWriter(str(path), "pk", 1, np.array([0.0, 1.0]), grid_type=grid) as w:
            w.add_dimension("x", np.arange(4) / 4)
            w.add_parameter("Re", 3.0, units="m")
            w.add_field("c")
            w.add_boundary_condition("x", "WALL", variant="no_slip_zero", fields=("c",))
            w.set_provenance({"run_ids": [rid]})
            for k in range(2):
                w.write_frame(0, k, {"c": np.zeros(4)})
        return str(path)

    a, b = shard(tmp_path / "a.hdf5", "ra"), shard(tmp_path / "b.hdf5", "rb")
    root = tmp_path / "ds"
    pack({("test", "k1"): [("ra", a)]}, str(root))
    out = pack({("test", "k1"): [("ra", a)], ("test", "k2"): [("rb", b)]}, str(root))
    assert out == [str(root / "data/test/k1.hdf5"), str(root / "data/test/k2.hdf5")]
    assert os.path.exists(out[1])  # a file kept up to date does not stop the others
    with h5py.File(out[1]) as f:
        assert f.attrs["grid_type"] == "equiangular"
        assert f["scalars/Re"].attrs["units"] == "m"
        assert list(f["boundary_conditions"]) == ["x_wall_no_slip_zero"]
    with h5py.File(a, "r+") as f:
        del f["provenance"]
    assert packed_run_ids(a) == []


def test_sphere_resampling_to_an_odd_azimuth_count_and_gauss_colatitudes():
    nphi, nth = 8, 6
    phi = 2 * np.pi * np.arange(nphi) / nphi
    th = grids.gauss_colatitudes(nth, ascending=False)
    P, T = np.meshgrid(phi, th, indexing="ij")
    f = lambda P, T: 1 + np.sin(T) * np.cos(P) + np.cos(T)  # noqa: E731
    axes = (Axis("phi", "fourier", (0, 2 * np.pi), nphi),
            Axis("theta", "gauss", (0, np.pi), nth))
    out = rs.Resampler(axes, (5, 4), {"theta": "gauss"})(f(P, T))
    ps, ts = 2 * np.pi * np.arange(5) / 5, grids.gauss_colatitudes(4, ascending=False)
    assert out.shape == (5, 4)
    np.testing.assert_allclose(out, f(*np.meshgrid(ps, ts, indexing="ij")), atol=1e-12)


def test_last_config_and_clock_survivors(sf):
    # run ids and the fingerprint do not depend on the order parameters are named in
    a = plan(sf, parameters={"Reynolds": [1e4], "Schmidt": [1.0]})
    b = plan(sf, parameters={"Schmidt": [1.0], "Reynolds": [1e4]})
    assert [r.run_id for r in a.runs] == [r.run_id for r in b.runs]
    assert a.fingerprint() == b.fingerprint()
    # a value left open (None) is skipped, the names after it are still checked
    with pytest.raises(ConfigError, match=r"^initial_conditions\.n_shear: 99 is out of range"):
        plan(sf, initial_conditions={"amplitude": [None], "n_shear": [99],
                                     "realization": [0, 1, 2]})
    ps = get_system("planetswe")
    with pytest.raises(ConfigError, match=r"^options\.z: unknown option; allowed: forcing, "
                       r"hyperviscosity, theta_grid$"):
        cf.build_plan(ps, cf.merge_config(ps, "tiny", {"options": {"z": 1}}, None))
    # a cached cut is reused only for an interval it still cuts
    c = OutputClock(np.array([0.0, 1e4, 1.5e4]))
    assert _interval(c, 0.0, 2500.0) == [2500.0] * 4
    assert _interval(c, 1e4, 1250.0) == [1250.0] * 4  # n = 4 again, half as long


def test_output_clock_keeps_a_cut_across_round_off_of_long_intervals():
    """Intervals of 1e4 that differ by 1e-9 (round-off of the stored times) are the same
    interval: with hysteresis the old cut (4 x 2500) is kept although 3 steps would do."""
    c = OutputClock(np.array([0.0, 1e4, 2e4 + 1e-9]), threshold=0.5)
    assert _interval(c, 0.0, 2500.0) == [2500.0] * 4
    assert _interval(c, 1e4, 3400.0) == [2500.0] * 4
