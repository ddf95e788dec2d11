"""stats.yaml equals the Well's statistics computed independently on whole arrays."""

import os

import h5py
import numpy as np
import pytest
import yaml

from wellforge.schema.dataset import split_files
from wellforge.schema.stats import Moments, compute_stats, dump_stats
from wellforge.schema.synthetic import write_dataset


def well_reference(files, path):
    """The Well's compute_statistics.py algorithm, written out on whole float64 arrays."""
    per = []
    for fn in files:
        with h5py.File(fn, "r") as f:
            x = f[path][()].astype(np.float64)
        order = {"t0": 0, "t1": 1, "t2": 2}[path[:2]]
        axes = tuple(range(x.ndim - order))
        d = x[:, 1:] - x[:, :-1]
        per.append(((x.size // (x.shape[-1] ** order if order else 1)), x.mean(axes), x.var(axes),
                    d.size // (d.shape[-1] ** order if order else 1), d.mean(axes), d.var(axes)))
    def mix(cnt, mu, var):
        w = np.array(cnt, float) / sum(cnt)
        mean = sum(wi * m for wi, m in zip(w, mu))
        ex2 = sum(wi * (v + m**2) for wi, m, v in zip(w, mu, var))
        return mean, np.sqrt(ex2 - mean**2), np.sqrt(ex2)
    a = mix([p[0] for p in per], [p[1] for p in per], [p[2] for p in per])
    b = mix([p[3] for p in per], [p[4] for p in per], [p[5] for p in per])
    return dict(zip(("mean", "std", "rms", "mean_delta", "std_delta", "rms_delta"), a + b))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(str(tmp_path_factory.mktemp("st") / "synthetic"), n_time=7)


@pytest.mark.parametrize("name,path", [("c", "t0_fields/c"), ("velocity", "t1_fields/velocity"),
                                       ("T", "t2_fields/T")])
def test_stats_match_independent_computation(dataset, name, path):
    train = split_files(dataset, "train")
    ours = compute_stats(train)
    ref = well_reference(train, path)
    for key, value in ref.items():
        np.testing.assert_allclose(np.asarray(ours[key][name]), value, rtol=1e-9, atol=1e-12)


def test_stats_yaml_format(dataset):
    text = open(os.path.join(dataset, "stats.yaml")).read()
    data = yaml.safe_load(text)
    assert list(data) == sorted(data) == ["mean", "mean_delta", "rms", "rms_delta", "std", "std_delta"]
    assert isinstance(data["mean"]["c"], float)
    assert len(data["mean"]["velocity"]) == 2 and len(data["mean"]["T"]) == 2
    assert all(len(row) == 2 for row in data["mean"]["T"])
    # floats written as %.4E
    assert "E+" in text or "E-" in text
    for line in text.splitlines():
        tok = line.split()[-1]
        if tok[0].isdigit() or tok[0] == "-" and tok[1:2].isdigit():
            assert len(tok.lstrip("-").split("E")[0]) == 6, line


def test_moments_blockwise_equal_whole():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(50, 7, 3))
    m = Moments()
    for i in range(0, 50, 7):
        m.add(x[i:i + 7], order=1)
    np.testing.assert_allclose(m.mean, x.reshape(-1, 3).mean(0), rtol=1e-12)
    np.testing.assert_allclose(m.var, x.reshape(-1, 3).var(0), rtol=1e-12)


def test_dump_known_array():
    text = dump_stats({"mean": {"a": 0.370851}, "std": {"a": [1.0, 2.5e-5]}})
    assert "a: 3.7085E-01" in text and "- 1.0000E+00" in text and "- 2.5000E-05" in text
