"""The result cache of ``wellforge validate``: a file that has not changed since its last
run, validated by the same validator with the same settings, is not read again.

An entry is one JSON file (``summaries.encode`` of the file's result) named by a key
over two things:

- the file's identity: size, mtime and ctime (ns), inode and device, and a content
  signature (SHA-256 of its first and last ``SIGNATURE_BYTES``: the HDF5 superblock and,
  in a file written by h5py, the metadata at its end); the path the report shows, the
  file's place in its dataset and the reducers the dataset checks want from it;
- the run's identity (``run_key``): wellforge's version and its source files (size and
  mtime of each, so that an edited checkout invalidates), Python, numpy, h5py and HDF5
  versions, the plugin systems installed (name and version of each: their cards are
  checked), the code of every selected rule's check and of the reducers they need, and the effective settings that
  change a file's findings (level, select, ignore, severities, allowed filters, limits,
  the card).

Per-path ignores, the baseline and ``--fail-on`` apply after the cache (to cached and
fresh findings alike) and are not part of the key. A file refused because its worker
died, hung or ran out of memory is not cached (that may not happen again). Entries are
written atomically (a temporary file renamed), so runs may share a cache directory
(Slurm array tasks); a damaged entry is a miss. Nothing is evicted: delete the directory
to empty it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import marshal
import os
import platform
import tempfile

from . import summaries

SIGNATURE_BYTES = 64 << 10
#: environment variable naming the cache directory (default: the user's cache dir)
ENV = "WELLFORGE_CACHE_DIR"


def default_dir() -> str:
    """``$WELLFORGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/wellforge/validate``, else
    ``~/.cache/wellforge/validate``."""
    if os.environ.get(ENV):
        return os.environ[ENV]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "wellforge", "validate")


def _sources_key() -> str:
    """Size and mtime of every source file of the package (cheap: one stat each)."""
    import wellforge.generators
    import wellforge.schema
    import wellforge.validate

    h = hashlib.sha256()
    for mod in (wellforge.validate, wellforge.schema, wellforge.generators):
        top = os.path.dirname(mod.__file__)
        for d, dirs, files in os.walk(top):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".yaml", ".json", ".tmpl")):
                    st = os.stat(os.path.join(d, name))
                    h.update(f"{os.path.relpath(os.path.join(d, name), top)}:{st.st_size}:"
                             f"{st.st_mtime_ns};".encode())
    return h.hexdigest()


def _plugins_key() -> list:
    """The plugin systems (their cards are part of what L2 and L4 check): each entry
    point with its distribution's name and version."""
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group="wellforge.systems"):
        dist = getattr(ep, "dist", None)
        out.append([ep.name, ep.value, getattr(dist, "name", ""), getattr(dist, "version", "")])
    return sorted(out)


def _code_key(fn) -> str:
    fn = getattr(fn, "__func__", fn)  # a staticmethod or classmethod
    code = getattr(fn, "__code__", None)
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__name__)}"
    if code is None:
        return name
    try:
        return hashlib.sha256(marshal.dumps(code)).hexdigest()[:16]
    except ValueError:
        return name


def _reducer_key(name: str) -> str:
    from .stream import REDUCERS

    cls = REDUCERS.get(name)
    if cls is None:
        return ""
    return ",".join(f"{k}={_code_key(v)}" for k, v in sorted(vars(cls).items())
                    if callable(v) or isinstance(v, staticmethod))


def _card_key(card) -> str:
    if card is None:
        return ""
    if hasattr(card, "card"):
        return repr((card.card, sorted(card.aliases.items()), sorted(card.unknown_bounds)))
    return str(card)


def run_key(opts, rules) -> str:
    """The identity of a run's validator and settings (see the module doc)."""
    import h5py
    import numpy

    from wellforge import __version__

    parts = {
        "wellforge": __version__, "sources": _sources_key(),
        "python": platform.python_version(), "numpy": numpy.__version__,
        "h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version,
        "summaries": summaries.FORMAT,
        "rules": [(r.code, r.level, r.severity.label, r.scope, _code_key(r.func))
                  for r in rules],
        "reducers": {n: _reducer_key(n) for n in sorted({n for r in rules for n in r.needs})},
        "level": opts.level, "select": list(opts.select), "ignore": list(opts.ignore),
        "severity": {k: v.label for k, v in sorted(opts.severity.items())},
        "allowed_filters": list(opts.allowed_filters),
        "limits": dataclasses.asdict(opts.limits), "card": _card_key(opts.card),
        "plugins": _plugins_key() if opts.level >= 2 else [],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()


def file_identity(path: str) -> list | None:
    """[size, mtime_ns, ctime_ns, inode, device, signature], or None when unreadable."""
    try:
        st = os.stat(path)
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            h.update(fh.read(SIGNATURE_BYTES))
            if st.st_size > SIGNATURE_BYTES:
                fh.seek(max(SIGNATURE_BYTES, st.st_size - SIGNATURE_BYTES))
                h.update(fh.read(SIGNATURE_BYTES))
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, h.hexdigest()]


class ResultCache:
    """Cached file results under ``root`` for runs of one ``run_key``."""

    def __init__(self, root: str, key: str):
        self.root = root
        self.run = key
        self.hits = self.misses = 0

    def key(self, target, needs) -> str | None:
        ident = file_identity(target.path)
        if ident is None:
            return None
        k = [self.run, ident, os.path.abspath(target.path), target.display, target.logical,
             target.split, list(needs)]
        return hashlib.sha256(json.dumps(k).encode()).hexdigest()

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key + ".json")

    def get(self, key: str | None) -> dict | None:
        if key is None:
            return None
        try:
            with open(self._path(key)) as fh:
                res = summaries.decode(json.load(fh))
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return res

    def put(self, key: str | None, res: dict) -> None:
        if key is None or res.get("lost"):
            return
        path = self._path(key)
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            text = json.dumps(summaries.encode(res))
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError):  # a full disk or read-only cache: no entry
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass
