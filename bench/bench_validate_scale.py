"""Benchmark ``wellforge validate`` at the Well's scale (issue 15): the cost per file, the
result cache, and the bytes read over HTTP per level.

Every run is a fresh process (``python -m wellforge.cli validate ...``), timed from
outside: wall time, and CPU time (user + system of the process and its workers). Runs of
the two validators alternate (A B A B) so that a change of the machine's load hits both.

- ``one file``: one small file end to end, ``--level 0`` and ``--level 5``;
- ``N files -j 1 / -j 2``: a directory of N small files (the dataset checks across them
  included), ``--no-cache``; the marginal cost of a file is (T(N) - T(1)) / (N - 1);
- ``cached rerun``: the same directory with ``--cache``: the run that fills the cache, then
  reruns on the unchanged tree;
- ``remote``: one data file served by a loopback HTTP server with range requests; the
  bytes it sent per level;
- ``big file``: a ~0.4 GiB file, ``--level 5 --no-cache`` against a fresh-process raw read
  of every dataset (``bench_validate.py``'s ``read_direct``).

``--baseline DIR``: the tree of another wellforge (``git archive REV | tar -x -C DIR``)
is measured beside this one, run from its sources with the installed editable finder
set aside.

    python bench/bench_validate_scale.py [--files 1000] [--baseline /tmp/base] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: runs ``wellforge`` from a source tree laid out as installed (argv[1]), ahead of the
#: editable install's finder
BOOT = ("import sys; sys.meta_path[:] = [m for m in sys.meta_path if 'editable' not in "
        "getattr(m, '__module__', '')]; sys.path.insert(0, sys.argv.pop(1)); "
        "from wellforge.cli import main; sys.argv[0] = 'wellforge'; sys.exit(main())")


def site_of(tree: str, out: str) -> str:
    """The package layout of ``pyproject.toml``'s package-dir, as copies under ``out``."""
    site = os.path.join(out, "site")
    if not os.path.isdir(site):
        pkg = os.path.join(site, "wellforge")
        shutil.copytree(os.path.join(tree, "wellforge"), pkg)
        for sub in ("schema", "generators", "validate"):
            shutil.copytree(os.path.join(tree, sub), os.path.join(pkg, sub))
    return site


class Validator:
    def __init__(self, label: str, site: str | None):
        self.label, self.site = label, site

    def argv(self, *args) -> list[str]:
        if self.site is None:
            return [sys.executable, "-m", "wellforge.cli", *args]
        return [sys.executable, "-c", BOOT, self.site, *args]


def env() -> dict:
    # as installed: byte-code caches allowed (this sandbox sets PYTHONDONTWRITEBYTECODE,
    # which recompiles every module at every start); kept out of the source tree
    e = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    e.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "wf-bench-pyc"))
    e["OMP_NUM_THREADS"] = "1"
    return e


def timed(argv: list[str], ok=(0, 1)) -> tuple[float, float, str]:
    """(wall s, CPU s, stdout) of one fresh process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True, env=env(), check=False)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in ok:
        raise SystemExit(f"{' '.join(argv[:6])} ... exit {p.returncode}:\n{p.stderr[-2000:]}")
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), p.stdout


def small_files(d: str, n: int) -> list[str]:
    """``n`` files of ~365 KB (2 trajectories x 12 frames of 32 x 16, 7 components)."""
    from wellforge.schema.synthetic import write_file

    os.makedirs(d, exist_ok=True)
    out = []
    for i in range(n):
        p = os.path.join(d, f"small_{i:04d}.hdf5")
        if not os.path.exists(p):
            write_file(p, n_traj=2, n_time=12, nx=32, ny=16, param=1.0 + 0.37 * i)
        out.append(p)
    return out


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def bench_files(vals, work: str, n_files: int, n_base: int, repeat: int) -> list[str]:
    files = small_files(os.path.join(work, "small"), n_files)
    sub = os.path.join(work, f"small{n_base}")
    if not os.path.isdir(sub):
        os.makedirs(sub)
        for p in files[:n_base]:
            os.link(p, os.path.join(sub, os.path.basename(p)))
    rows = []
    one = files[0]
    res: dict = {}
    for v in vals:  # compile the byte-code caches first
        timed(v.argv("validate", one, *_nc(v)))
    for _ in range(repeat):
        for v in vals:
            for lv in (0, 5):
                res.setdefault((v.label, "one", lv), []).append(
                    timed(v.argv("validate", one, "--level", str(lv), *_nc(v)))[:2])
    for v in vals:
        for lv in (0, 5):
            w = statistics.median(x[0] for x in res[(v.label, "one", lv)])
            c = statistics.median(x[1] for x in res[(v.label, "one", lv)])
            rows.append(f"| {v.label} | one small file, `--level {lv}` | 1 | {w:.3f} | "
                        f"{c:.3f} | | {load()} |")
    for jobs in (1, 2):
        for _ in range(max(1, repeat // 2)):
            for v in vals:
                for n, d in ((n_base, sub), (n_files, os.path.join(work, "small"))):
                    if v.site is not None and n != n_base:
                        continue  # the baseline on the smaller set only (0.2 s a file)
                    res.setdefault((v.label, jobs, n), []).append(
                        timed(v.argv("validate", d, "-j", str(jobs), *_nc(v)))[:2])
        for v in vals:
            one5 = statistics.median(x[0] for x in res[(v.label, "one", 5)])
            for n in (n_base, n_files):
                if (v.label, jobs, n) not in res:
                    continue
                w = min(x[0] for x in res[(v.label, jobs, n)])
                c = min(x[1] for x in res[(v.label, jobs, n)])
                marg = (w - one5) / (n - 1) * 1000  # against one file end to end
                rows.append(f"| {v.label} | {n} files, `-j {jobs}` | {n} | {w:.2f} | {c:.2f} | "
                            f"{marg:.1f} | {load()} |")
    return rows


def _nc(v: Validator) -> list[str]:
    return [] if v.site is not None else ["--no-cache"]


def bench_cache(work: str, n_files: int) -> list[str]:
    d = os.path.join(work, "small")
    cache = os.path.join(work, "cache")
    shutil.rmtree(cache, ignore_errors=True)
    v = Validator("this", None)
    rows = []
    reports = []
    for k, what in enumerate(("fills the cache", "unchanged rerun", "unchanged rerun")):
        w, c, out = timed(v.argv("validate", d, "--cache", cache, "--format", "json"))
        reports.append(json.loads(out)["findings"])
        rows.append(f"| {n_files} files, `--cache`: {what} | {w:.2f} | {c:.2f} | "
                    f"{w / n_files * 1000:.1f} | {load()} |")
    assert reports[0] == reports[1] == reports[2]
    return rows


def bench_remote(work: str) -> list[str]:
    sys.path.insert(0, ROOT)
    from http.server import ThreadingHTTPServer

    from tests.test_validate_remote import RangeHandler
    from wellforge.schema.synthetic import write_file

    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    path = os.path.join(www, "data.hdf5")
    if not os.path.exists(path):  # 2 x 60 frames of 256 x 128, 7 components: 63 MB
        write_file(path, n_traj=2, n_time=60, nx=256, ny=128)
    size = os.path.getsize(path)
    srv = ThreadingHTTPServer(("127.0.0.1", 0),
                              lambda *a, **k: RangeHandler(*a, directory=www, **k))
    srv.sent = srv.requests = 0
    srv.paths = set()
    srv.ranges = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/data.hdf5"
    v = Validator("this", None)
    rows = []
    try:
        for lv in range(6):
            srv.sent = srv.requests = 0
            w, c, _ = timed(v.argv("validate", url, "--level", str(lv), "--no-cache"))
            rows.append(f"| {lv} | {srv.sent:,} | {100 * srv.sent / size:.2f} % | "
                        f"{srv.requests} | {w:.2f} | {load()} |")
    finally:
        srv.shutdown()
        srv.server_close()
    return rows + ["", f"file: {size:,} bytes (2 trajectories x 60 frames of 256 x 128)"]


def bench_big(work: str, size_gb: float, repeat: int) -> list[str]:
    sys.path.insert(0, HERE)
    import bench_validate

    path = os.path.join(work, "big.hdf5")
    if not os.path.exists(path):
        bench_validate.make_file(path, size_gb)
    read = [sys.executable, os.path.join(HERE, "bench_validate.py"), "--run-task",
            "read_direct", "--file", path]
    val = Validator("this", None).argv("validate", path, "--level", "5", "--no-cache")
    timed(read)  # warm the page cache
    pairs = [(timed(read)[:2], timed(val)[:2]) for _ in range(repeat)]
    ratios = sorted(b[0] / a[0] for a, b in pairs)
    cpu = sorted(b[1] / a[1] for a, b in pairs)
    rows = [f"| {a[0]:.2f} | {a[1]:.2f} | {b[0]:.2f} | {b[1]:.2f} | {b[0] / a[0]:.2f} | "
            f"{b[1] / a[1]:.2f} |" for a, b in pairs]
    return [f"file: {os.path.getsize(path) / 2**30:.2f} GiB; validate / read: wall "
            f"{ratios[0]:.2f}–{ratios[-1]:.2f} (median {statistics.median(ratios):.2f}), CPU "
            f"{cpu[0]:.2f}–{cpu[-1]:.2f} (median {statistics.median(cpu):.2f}); load {load()}",
            "", "| read wall s | read CPU s | validate L0–L5 wall s | validate CPU s | wall "
            "ratio | CPU ratio |", "|---|---|---|---|---|---|"] + rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--base-files", type=int, default=200,
                    help="files of the smaller set (the baseline runs on this one only)")
    ap.add_argument("--baseline", metavar="DIR", help="another wellforge's source tree")
    ap.add_argument("--repeat", type=int, default=4)
    ap.add_argument("--size-gb", type=float, default=0.39)
    ap.add_argument("--only", help="comma-separated: files,cache,remote,big")
    ap.add_argument("--keep", metavar="DIR", help="work here and keep the files")
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="wf-scale-")
    only = set((args.only or "files,cache,remote,big").split(","))
    vals = [Validator("this", None)]
    if args.baseline:
        vals.append(Validator("baseline", site_of(args.baseline, work)))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M')}")
    try:
        if "files" in only:
            print("| validator | run | files | wall s | CPU s | marginal ms/file | load |")
            print("|---|---|---|---|---|---|---|")
            print("\n".join(bench_files(vals, work, args.files, args.base_files,
                                        args.repeat)), flush=True)
        if "cache" in only:
            print("\n| run | wall s | CPU s | ms/file | load |\n|---|---|---|---|---|")
            print("\n".join(bench_cache(work, args.files)), flush=True)
        if "remote" in only:
            print("\n| level | bytes sent | of the file | requests | wall s | load |")
            print("|---|---|---|---|---|---|")
            print("\n".join(bench_remote(work)), flush=True)
        if "big" in only:
            print()
            print("\n".join(bench_big(work, args.size_gb, args.repeat)), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
