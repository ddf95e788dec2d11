"""Shared fixtures. Validator tests: a clean synthetic dataset built once per session
(``schema.synthetic.write_dataset``) and copied fresh for each test that mutates it."""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


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
