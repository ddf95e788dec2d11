"""The worker pool (validate.pool): workers persist across files, and a crash, a hang or
a file that needs more than the memory bound is refused alone, the others validated."""

from __future__ import annotations

import os
import signal
import time

from wellforge.validate.pool import run_pool


def _pid_of(kind: str) -> tuple[str, int]:
    if kind == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "hang":
        time.sleep(60)
    if kind == "hog":
        blob = bytearray(2 << 30)  # 2 GiB: over the bound below
        return kind, len(blob)
    return kind, os.getpid()


def _lost(i, why):
    return ("lost", why)


def test_workers_persist_across_files():
    res = run_pool(_pid_of, [("ok",)] * 12, _lost, jobs=2)
    pids = {pid for _, pid in res}
    assert all(k == "ok" for k, _ in res)
    assert len(pids) <= 2 and os.getpid() not in pids  # two workers did twelve files


def test_a_crash_a_hang_and_a_memory_hog_are_refused_alone():
    tasks = [("ok",), ("crash",), ("ok",), ("hang",), ("ok",), ("hog",), ("ok",)]
    t0 = time.monotonic()
    res = run_pool(_pid_of, tasks, _lost, jobs=2, timeout=2, memory_bytes=256 << 20)
    assert time.monotonic() - t0 < 20
    assert res[1][0] == "lost" and "SIGSEGV" in res[1][1]
    assert res[3][0] == "lost" and "timed out after 2 s" in res[3][1]
    assert res[5][0] == "lost" and "memory bound (256 MiB" in res[5][1]
    assert [r[0] for r in res[::2]] == ["ok"] * 4  # every other file was validated
