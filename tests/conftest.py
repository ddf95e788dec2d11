"""Shared fixtures. Validator tests: a clean synthetic dataset built once per session
(``schema.synthetic.write_dataset``) and copied fresh for each test that mutates it.
Generator tests: each system's ``tiny`` dataset, generated once per session (``tiny``)."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
# `wellforge validate` result caches of this session: never the user's (this covers
# session fixtures and the environments tests build at import; each test gets its own)
os.environ["WELLFORGE_CACHE_DIR"] = tempfile.mkdtemp(prefix="wf-test-cache-")


@pytest.fixture(autouse=True)
def _private_result_cache(tmp_path_factory, monkeypatch):
    """Each test its own ``wellforge validate`` result cache (never the user's, never a
    result another test left)."""
    monkeypatch.setenv("WELLFORGE_CACHE_DIR", str(tmp_path_factory.mktemp("wf-cache")))


@pytest.fixture(scope="session")
def clean_dataset_template(tmp_path_factory):
    from wellforge.schema.synthetic import write_dataset

    root = tmp_path_factory.mktemp("wf_clean") / "synthetic"
    write_dataset(str(root))
    return str(root)


@pytest.fixture
def wf_dataset(clean_dataset_template, tmp_path):
    """A private copy of the clean dataset: ``<tmp>/synthetic``."""
    dst = tmp_path / "synthetic"
    shutil.copytree(clean_dataset_template, dst)
    return str(dst)


class TinyDatasets:
    """``tiny(name)``: the path of system ``name``'s tiny dataset, generated on first use
    (``wellforge generate NAME --preset tiny`` into ``tiny.out``). Read it; copy it first
    to change it."""

    def __init__(self, out):
        self.out = out
        self._done: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self._done:
            from wellforge.cli import main

            assert main(["generate", name, "--preset", "tiny", "--out", str(self.out),
                         "--no-progress"]) == 0, name
            self._done[name] = str(self.out / name)
        return self._done[name]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return TinyDatasets(tmp_path_factory.mktemp("tiny"))
