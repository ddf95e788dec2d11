"""Claims on runs that hold across invocations: leases.

Any number of ``wellforge generate`` commands (a job array, a duplicated job, a requeue
while the first still runs) may work on one output. A group leader takes a run by
creating ``claims/<run_id>.lease`` with ``O_CREAT | O_EXCL`` (atomic on local and shared
filesystems); the file names its owner (host, pid, the process's start time, the job's
token) and its modification time is the lease, renewed by a heartbeat thread while the
run lives. Nothing of a run whose lease is live is touched by anyone else. A claim is
*stale* when its lease expired (no renewal for ``lease_s`` seconds: a crashed or killed
job, a lost node) or, on the owner's own host, when the owner process is gone (at once:
a rerun after ``kill -9`` need not wait). A stale claim is taken over under a lock, so
two takers cannot both win.

The lease length is ``WELLFORGE_LEASE_S`` (default 300 s; renewed every quarter of it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time

DEFAULT_LEASE_S = 300.0


def lease_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get("WELLFORGE_LEASE_S", DEFAULT_LEASE_S)))
    except ValueError:
        return DEFAULT_LEASE_S


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, Linux), None if there is
    no such process or no /proc. With the pid it identifies a process across pid reuse."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(owner: dict) -> bool:
    """Whether the owner process of a claim made on this host still runs."""
    pid = int(owner.get("pid", -1))
    if pid <= 0:
        return False
    start = process_start(pid)
    if start is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return owner.get("start") is None
    return owner.get("start") in (None, start)


@contextlib.contextmanager
def file_lock(path: str):
    """An exclusive advisory lock (``lockf``: POSIX record locks, which NFS and Lustre
    forward to their lock managers) held for the ``with`` block."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class Leases:
    """The claims directory of one work directory, seen by one owner (a group leader)."""

    def __init__(self, directory: str, token: str = "", group: int = 0,
                 lease_s: float | None = None):
        self.dir = directory
        self.lease_s = lease_seconds() if lease_s is None else float(lease_s)
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(),
                      "start": process_start(os.getpid()), "token": token, "group": group}
        self.held: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        os.makedirs(directory, exist_ok=True)

    def path(self, run_id: str) -> str:
        return os.path.join(self.dir, f"{run_id}.lease")

    # -- reading -------------------------------------------------------------------------
    def read(self, run_id: str) -> tuple[dict, float] | None:
        """(owner, age in seconds since the last renewal) of a claim, None if unclaimed."""
        p = self.path(run_id)
        try:
            st = os.stat(p)
            with open(p) as fh:
                owner = json.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):  # being written right now: treat as live
            return {}, 0.0
        return owner, max(0.0, time.time() - st.st_mtime)

    def is_stale(self, owner: dict, age: float) -> bool:
        if age > self.lease_s:
            return True
        return bool(owner) and owner.get("host") == self.owner["host"] and not _alive(owner)

    def live(self, run_id: str) -> dict | None:
        """The owner of a live claim on ``run_id``, else None."""
        got = self.read(run_id)
        if got is None or self.is_stale(*got):
            return None
        return got[0]

    def all_live(self) -> dict[str, dict]:
        out = {}
        for name in os.listdir(self.dir):
            if name.endswith(".lease"):
                owner = self.live(name[:-6])
                if owner is not None:
                    out[name[:-6]] = owner
        return out

    # -- taking and giving back ----------------------------------------------------------
    def _write(self, p: str) -> None:
        body = json.dumps({**self.owner, "since": time.time()}).encode()
        fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            os.write(fd, body)
        finally:
            os.close(fd)

    def acquire(self, run_id: str) -> bool:
        """Claim ``run_id``: True if it is now ours (free, or stale and taken over)."""
        p = self.path(run_id)
        for _ in range(3):
            try:
                self._write(p)
            except FileExistsError:
                pass
            else:
                self.held.add(run_id)
                return True
            with file_lock(os.path.join(self.dir, ".takeover.lock")):
                got = self.read(run_id)  # again under the lock: one taker removes it
                if got is not None:
                    if not self.is_stale(*got):
                        return False
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(p)
            # then an exclusive create again: against a fresh claimer, one of us wins
        return False

    def release(self, run_id: str) -> None:
        """Give a claim back (only if it is still ours)."""
        self.held.discard(run_id)
        got = self.read(run_id)
        if got is not None and got[0].get("pid") == self.owner["pid"] and \
                got[0].get("host") == self.owner["host"]:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path(run_id))

    # -- the heartbeat -------------------------------------------------------------------
    def renew(self) -> None:
        for run_id in list(self.held):
            with contextlib.suppress(FileNotFoundError):
                os.utime(self.path(run_id))

    def start_heartbeat(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="wellforge-lease",
                                            daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 4):
            self.renew()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for run_id in list(self.held):
            self.release(run_id)
