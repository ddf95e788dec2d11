"""The documentation runs as written.

Every fenced shell and Python block of the user-facing documents is run, in order, one
document per test, in a fresh directory that holds links to the repository's top-level
folders (so ``mpi_runs/configs/...`` resolves, and what a block writes stays out of the
repository). A block the shell cannot run here is marked in the Markdown, on the line
right before it, with one of (several may follow each other):

- ``<!-- docs-test: skip REASON -->``: not run (``sbatch``, ``git clone``, an install);
- ``<!-- docs-test: replace "OLD" "NEW" -->``: run with OLD replaced by NEW (a Well-size
  command mapped to the tiny preset, a placeholder filled in);
- ``<!-- docs-test: write PATH -->``: the block is the content of a file: written there;
- ``<!-- docs-test: output -->``: the block shows what the block before it prints: each of
  its lines must appear in that output (whitespace and ``...`` aside);
- ``<!-- docs-test: exit N -->``: the block's last command exits N (default 0);
- ``<!-- docs-test: needs CMD -->``: run only where CMD is on the PATH (``jq``);
- ``<!-- docs-test: setup COMMAND -->``: run COMMAND first (the data a block takes as
  the reader's own, e.g. a dataset to validate).

Blocks in other languages (yaml, toml, json, text) are not run unless written to a file.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from wellforge.cli import main

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
SHELL = ("", "bash", "sh", "shell", "console")
KINDS = ("skip", "replace", "write", "output", "exit", "needs", "setup")
MARK = re.compile(r"<!--\s*docs-test:\s*(\w+)\s*(.*?)\s*-->")


@dataclass
class Block:
    doc: str
    line: int
    lang: str
    text: str
    marks: list[tuple[str, str]] = field(default_factory=list)

    def mark(self, kind: str) -> list[str]:
        return [arg for k, arg in self.marks if k == kind]

    @property
    def where(self) -> str:
        return f"{os.path.relpath(self.doc, ROOT)}:{self.line}"


def blocks(path: str) -> list[Block]:
    out, marks, lines = [], [], open(path).read().splitlines()
    i = 0
    while i < len(lines):
        m = MARK.search(lines[i])
        if m:
            marks.append((m.group(1), m.group(2)))
        elif lines[i].startswith("```"):
            lang = lines[i][3:].strip().lower()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append(Block(path, i + 1, lang, "\n".join(lines[i + 1:j]) + "\n", marks))
            marks, i = [], j
        elif lines[i].strip():
            marks = []  # a marker belongs to the block right after it
        i += 1
    return out


def _replace(text: str, args: list[str]) -> str:
    for a in args:
        old, new = shlex.split(a)
        assert old in text, f"docs-test replace: {old!r} not in the block"
        text = text.replace(old, new)
    return text


def _norm(s: str) -> str:
    return " ".join(s.replace("...", " ").split())


def run_document(doc: str, workdir, env) -> None:
    for name in os.listdir(ROOT):
        if not name.startswith(".") and not os.path.exists(workdir / name):
            os.symlink(os.path.join(ROOT, name), workdir / name)
    last = ""
    for b in blocks(doc):
        if b.mark("skip") or any(shutil.which(c) is None for c in b.mark("needs")):
            continue
        text = _replace(b.text, b.mark("replace"))
        for cmd in b.mark("setup"):
            r = subprocess.run(["bash", "-e", "-c", cmd], cwd=workdir, env=env,
                               capture_output=True, text=True, timeout=1200)
            assert r.returncode == 0, f"{b.where}: setup {cmd!r}:\n{r.stderr[-3000:]}"
        if b.mark("output"):
            missing = [line for line in text.splitlines()
                       if _norm(line) and _norm(line) not in _norm(last)]
            assert not missing, f"{b.where}: not in the output of the block before: {missing}"
            continue
        for path in b.mark("write"):
            p = workdir / path
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        if b.mark("write") or (b.lang not in SHELL and b.lang != "python"):
            continue
        cmd = (["bash", "-e", "-o", "pipefail", "-c", text] if b.lang in SHELL
               else [sys.executable, "-c", text])
        r = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                           timeout=1200)
        last = r.stdout + r.stderr
        want = int((b.mark("exit") or ["0"])[0])
        assert r.returncode == want, (f"{b.where}: exit {r.returncode} (expected {want}):\n"
                                      f"{text}\n--- output:\n{last[-4000:]}")
        assert "Traceback" not in last, f"{b.where}:\n{last[-4000:]}"


def _env():
    return {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
            "OMP_NUM_THREADS": "1", "NUMEXPR_MAX_THREADS": "1",
            "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            "OMPI_MCA_rmaps_base_oversubscribe": "1", "MPLBACKEND": "Agg"}


DOCS = ["README.md", "docs/tutorial.md", "docs/plugins.md", "mpi_runs/README.md",
        "validate/README.md", "examples/advection_diffusion/README.md"]


def test_every_runnable_block_is_marked_or_runs():
    """Each document has blocks, and every marker names a known action."""
    for d in DOCS:
        bs = blocks(os.path.join(ROOT, d))
        assert bs, d
        for b in bs:
            for kind, _ in b.marks:
                assert kind in KINDS, (b.where, kind)


@pytest.mark.parametrize("doc", DOCS)
def test_document_runs_as_written(doc, tmp_path):
    installed = _dists()
    try:
        run_document(os.path.join(ROOT, doc), tmp_path, _env())
    finally:  # a document may pip install a plugin: leave the venv as it was
        for dist in _dists() - installed:
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", dist],
                           capture_output=True)


def test_the_scaffolds_readme_runs_as_written(tmp_path):
    plugin = tmp_path / "heat_docs"
    assert main(["new-system", "heat_docs", "--out", str(plugin)]) == 0
    installed = _dists()
    try:
        env = _env()
        for b in blocks(str(plugin / "README.md")):
            if b.lang not in SHELL or b.mark("skip"):
                continue
            r = subprocess.run(["bash", "-e", "-c", b.text], cwd=plugin, env=env,
                               capture_output=True, text=True, timeout=1200)
            assert r.returncode == 0, f"{b.where}:\n{b.text}\n{(r.stdout + r.stderr)[-4000:]}"
    finally:
        for dist in _dists() - installed:
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", dist],
                           capture_output=True)


def _dists() -> set[str]:
    from importlib import metadata

    return {d.metadata["Name"] for d in metadata.distributions()}
