"""Reading files a user wrote (configs, cards): one-line errors, never a traceback."""

from __future__ import annotations

import os

from wellforge.errors import ConfigError


def read_yaml(path: str | os.PathLike, kind: str):
    """Parsed YAML of ``path``; a missing file or malformed YAML is a ``ConfigError``
    naming the file, the line and the problem (``kind``: 'config', 'card', ...)."""
    import yaml

    path = os.fspath(path)
    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {kind} file") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} malformed YAML ({getattr(e, 'problem', e)})") from None
