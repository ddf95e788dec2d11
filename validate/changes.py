"""``--changed-only``: the files that git says changed against a base revision."""

from __future__ import annotations

import os
import subprocess

from wellforge.errors import ConfigError


def changed_files(base: str, cwd: str | None = None) -> set[str]:
    """Real paths of files changed since the merge base of ``base`` and HEAD (committed,
    staged or not), plus untracked files."""
    cwd = cwd or os.getcwd()

    def git(*args) -> str:
        try:
            p = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                               timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ConfigError(f"--changed-only: cannot run git: {e}") from None
        if p.returncode != 0:
            msg = (p.stderr.strip().splitlines() or ["git failed"])[0]
            raise ConfigError(f"--changed-only: git {' '.join(args[:2])}: {msg}")
        return p.stdout

    top = git("rev-parse", "--show-toplevel").strip()
    merge_base = git("merge-base", base, "HEAD").strip() or base
    names = git("diff", "--name-only", "--diff-filter=ACMR", merge_base).splitlines()
    names += git("ls-files", "--others", "--exclude-standard").splitlines()
    return {os.path.realpath(os.path.join(top, n)) for n in names if n}
