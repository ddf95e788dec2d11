"""The work directory of a generation, ``OUT/.wellforge-<name>/``: every run's state.

- ``manifest.json``: resolved config, its fingerprint, the code identity of the finished
  runs (``identity.code_identity``) and every run (id, seed, split);
- ``shards/<run_id>.hdf5``: finished runs (present = done; ``*.partial`` = in progress or
  interrupted: only the run's claim holder touches it);
- ``failed/<run_id>.json``: runs that failed, with the reason;
- ``events/<run_id>.jsonl``: start / finish / failure events with timing;
- ``claims/<run_id>.lease``: who is running a run now (``leases``);
- ``checkpoints/``: state of interrupted runs (``--checkpoint-every``).

A file's presence is the state: no daemon, nothing to keep in sync, and any node of a
cluster reads the same answer (``wellforge status``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict

from wellforge.schema.writer import atomic_rename

from wellforge.errors import ConfigError

from .identity import changed_parts

SUBDIRS = ("shards", "failed", "events", "claims")


def write_json_atomic(path: str, obj) -> None:
    tmp = f"{path}.{os.getpid()}.partial"  # unique: several jobs may share a work directory
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    atomic_rename(tmp, path)


def read_json(path: str):
    with open(path) as fh:
        return json.load(fh)


class WorkDir:
    """Paths and state of a generation's work directory."""

    def __init__(self, out_dir: str, name: str):
        self.out = out_dir
        self.name = name
        self.root = os.path.join(out_dir, f".wellforge-{name}")
        self.dataset = os.path.join(out_dir, name)
        self.manifest = os.path.join(self.root, "manifest.json")
        self.staged = os.path.join(self.root, "packed")  # data files packed ahead

    @classmethod
    def of_dataset(cls, dataset_dir: str) -> WorkDir:
        """The work directory of ``OUT/<name>``; ConfigError when there is none."""
        root = os.path.abspath(dataset_dir.rstrip("/"))
        work = cls(os.path.dirname(root), os.path.basename(root))
        if not os.path.isfile(work.manifest):
            raise ConfigError(f"{dataset_dir}: not a wellforge output (no {work.manifest}); "
                              "give OUT/<dataset_name> of an earlier 'wellforge generate'")
        return work

    @classmethod
    def find(cls, path: str) -> list[WorkDir]:
        """Work directories named by ``path``: ``OUT/<name>`` or ``OUT`` (all in it)."""
        path = os.path.abspath(path.rstrip("/") or "/")
        if not os.path.isdir(path):
            raise ConfigError(f"{path}: no such directory")
        here = cls(os.path.dirname(path), os.path.basename(path))
        if os.path.isfile(here.manifest):
            return [here]
        if os.path.basename(path).startswith(".wellforge-"):
            w = cls(os.path.dirname(path), os.path.basename(path)[len(".wellforge-"):])
            if os.path.isfile(w.manifest):
                return [w]
        found = [cls(path, d[len(".wellforge-"):]) for d in sorted(os.listdir(path))
                 if d.startswith(".wellforge-")]
        found = [w for w in found if os.path.isfile(w.manifest)]
        if not found:
            raise ConfigError(f"{path}: not a wellforge output (no .wellforge-<name>/"
                              "manifest.json); give the --out of 'wellforge generate' or "
                              "OUT/<dataset_name>")
        return found

    def path(self, kind: str, run_id: str, ext: str) -> str:
        return os.path.join(self.root, kind, f"{run_id}.{ext}")

    def shard(self, run_id: str) -> str:
        return self.path("shards", run_id, "hdf5")

    def failed(self, run_id: str) -> str:
        return self.path("failed", run_id, "json")

    def events(self, run_id: str) -> str:
        return self.path("events", run_id, "jsonl")

    @property
    def claims(self) -> str:
        return os.path.join(self.root, "claims")

    @property
    def checkpoints(self) -> str:
        return os.path.join(self.root, "checkpoints")

    def is_done(self, run_id: str) -> bool:
        return os.path.exists(self.shard(run_id))

    def is_failed(self, run_id: str) -> bool:
        return os.path.exists(self.failed(run_id))

    def done_ids(self) -> set[str]:
        """Run ids with a finished shard (one directory listing)."""
        try:
            names = os.listdir(os.path.join(self.root, "shards"))
        except FileNotFoundError:
            return set()
        return {n[:-5] for n in names if n.endswith(".hdf5")}

    def read_manifest(self) -> dict:
        return read_json(self.manifest)

    def failure(self, run_id: str) -> dict:
        try:
            return read_json(self.failed(run_id))
        except (OSError, ValueError):
            return {}

    def read_events(self, run_id: str) -> list[dict]:
        try:
            with open(self.events(run_id)) as fh:
                return [json.loads(line) for line in fh if line.strip()]
        except (OSError, ValueError):
            return []

    def log_event(self, run_id: str, **event) -> None:
        event = {"time": time.time(), "run_id": run_id, **event}
        with open(self.events(run_id), "a") as fh:
            fh.write(json.dumps(event, default=str) + "\n")

    # -- set-up ----------------------------------------------------------------------------
    def prepare(self, plan, token: str, identity: dict, rerun_changed: bool = False,
                live_claims=None) -> None:
        """Create or reuse the work directory (world rank 0 only).

        Refuses a different config, and finished runs made by other code (the system's
        module or card, or the generator) unless ``rerun_changed``: then every finished
        run, failure record and the packed dataset are removed and redone (refused while
        another job holds live claims here; ``live_claims()`` lists them)."""
        fp = plan.fingerprint()
        old = None
        if os.path.exists(self.manifest):
            old = self.read_manifest()
            if old.get("fingerprint") != fp:
                raise ConfigError(
                    f"{self.root} holds the runs of a different config (fingerprint "
                    f"{old.get('fingerprint', '?')[:12]} vs {fp[:12]}); use another --out or "
                    "remove that directory")
        elif os.path.isdir(self.dataset) and os.listdir(self.dataset):
            raise ConfigError(f"{self.dataset} exists and was not made by this config; use "
                              "another --out or remove it")
        for sub in SUBDIRS:
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        done = self.done_ids() | {n[:-5] for n in os.listdir(os.path.join(self.root, "failed"))
                                  if n.endswith(".json")}
        before = (old or {}).get("code")
        if done and before is not None and before != identity:
            what = ", ".join(changed_parts(before, identity))
            if not rerun_changed:
                raise ConfigError(
                    f"{plan.system.name}: {what} changed since the {len(done)} finished runs "
                    f"in {self.out} were made; rerun them with --rerun-changed, or use a "
                    "new --out")
            live = live_claims() if live_claims is not None else {}
            if live:
                raise ConfigError(f"--rerun-changed: {len(live)} runs in {self.out} are "
                                  "being run by another job now; wait for it or stop it")
            self.discard_runs()
        write_json_atomic(self.manifest, {
            "fingerprint": fp, "config": plan.config, "job": token, "code": identity,
            "runs": [{k: v for k, v in asdict(r).items() if k not in ("options",)}
                     for r in plan.runs]})

    def discard_runs(self) -> None:
        """Remove every run's results and the dataset packed from them."""
        for sub in ("shards", "failed", "events", "checkpoints"):
            shutil.rmtree(os.path.join(self.root, sub), ignore_errors=True)
        for sub in SUBDIRS:
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        if os.path.isdir(self.dataset):
            shutil.rmtree(self.dataset)
