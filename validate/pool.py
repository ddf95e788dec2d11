"""A pool of worker processes that validate files one after another.

Workers are forked once per run from the parent (which has imported the checks, the
cards and what they import), so a file costs its checks and one message each way, not
a fork and the lazy imports. The isolation that matters is kept per file:

- a crash (the HDF5 library on a malformed file) ends only that worker: its file is
  refused (``lost``), a fresh worker is forked for the files left;
- a watchdog (``timeout`` seconds per file) kills a worker that hangs on a file, which
  is refused the same way;
- a memory bound (``memory_bytes`` of address space on top of what the worker holds
  when it starts, ``RLIMIT_AS``): a file that needs more gets a MemoryError inside its
  worker, is refused, and the worker is replaced.

``run_pool(work, tasks, lost, ...)`` returns ``work(*task)`` for every task, in order;
``lost(i, why)`` makes the result of a task whose worker died, hung or ran out of memory.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: default memory bound of a worker: this share of the physical memory, split among the
#: workers, at least MIN_MEMORY
MEMORY_SHARE = 0.5
MIN_MEMORY = 1 << 30


def default_memory(jobs: int) -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
    return max(MIN_MEMORY, int(total * MEMORY_SHARE) // max(1, jobs))


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _bound_memory(extra: int) -> None:
    if extra <= 0:
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = _vm_bytes() + extra
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft == resource.RLIM_INFINITY or want < soft:
            resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: no bound
        pass


OUT_OF_MEMORY = "memory"


def _worker(conn, work: Callable, memory_bytes: int) -> None:
    import faulthandler
    import gc

    gc.freeze()  # what the parent made stays out of the collector: no copy-on-write scans
    faulthandler.disable()  # a crash is reported by the parent as a refusal of the file
    for var in ("HDF5_VDS_PREFIX", "HDF5_EXT_PREFIX"):
        os.environ.pop(var, None)
    _bound_memory(memory_bytes)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        i, task = msg
        try:
            res = ("ok", work(*task))
        except MemoryError:
            res = (OUT_OF_MEMORY, None)
        try:
            conn.send((i, *res))
        except MemoryError:
            conn.send((i, OUT_OF_MEMORY, None))
        if res[0] == OUT_OF_MEMORY:
            return  # a fresh worker for the next file


@dataclass
class _Slot:
    proc: mp.Process
    conn: mp.connection.Connection
    task: int | None = None
    started: float = 0.0


def _died(proc) -> str:
    proc.join(5)
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


def run_pool(work: Callable, tasks: Sequence[tuple], lost: Callable[[int, str], object], *,
             jobs: int = 1, timeout: float = 0.0, memory_bytes: int = 0) -> list:
    """``work(*task)`` for each task in ``jobs`` forked workers (see the module doc)."""
    ctx = mp.get_context("fork")
    results: list = [None] * len(tasks)
    pending = list(range(len(tasks)))[::-1]  # popped from the end: in order
    slots: list[_Slot] = []

    def spawn() -> _Slot:
        a, b = ctx.Pipe(duplex=True)
        p = ctx.Process(target=_worker, args=(b, work, memory_bytes), daemon=True)
        p.start()
        b.close()
        return _Slot(p, a)

    def retire(s: _Slot, kill: bool) -> None:
        if kill:
            s.proc.kill()
        s.proc.join(5)
        s.conn.close()
        slots.remove(s)

    try:
        for _ in range(min(max(1, jobs), len(tasks))):
            slots.append(spawn())
        while pending or any(s.task is not None for s in slots):
            for s in list(slots):
                if s.task is None and pending:
                    i = pending.pop()
                    s.conn.send((i, tasks[i]))
                    s.task, s.started = i, time.monotonic()
            busy = {s.conn: s for s in slots if s.task is not None}
            wait = 0.5
            if timeout:
                now = time.monotonic()
                wait = max(0.01, min(wait, min(s.started + timeout - now
                                               for s in busy.values())))
            for conn in mp.connection.wait(list(busy), timeout=wait):
                s = busy[conn]
                i = s.task
                try:
                    j, status, res = conn.recv()
                except (EOFError, OSError):
                    results[i] = lost(i, f"the validator's process for this file died "
                                         f"({_died(s.proc)}) while reading it")
                    retire(s, kill=False)
                    if pending:
                        slots.append(spawn())
                    continue
                s.task = None
                if status == OUT_OF_MEMORY:
                    mib = memory_bytes >> 20
                    results[j] = lost(j, f"validating this file needed more than the memory "
                                         f"bound ({mib} MiB, limits.memory_bytes)")
                    retire(s, kill=False)
                    if pending:
                        slots.append(spawn())
                else:
                    results[j] = res
            if timeout:
                now = time.monotonic()
                for s in list(slots):
                    if s.task is not None and now - s.started > timeout:
                        results[s.task] = lost(s.task, f"validation timed out after "
                                                       f"{timeout:g} s")
                        retire(s, kill=True)
                        if pending:
                            slots.append(spawn())
    finally:
        for s in list(slots):
            try:
                s.conn.send(None)
            except OSError:
                pass
        for s in list(slots):
            s.proc.join(2)
            if s.proc.is_alive():
                s.proc.kill()
                s.proc.join(2)
            s.conn.close()
    return results
