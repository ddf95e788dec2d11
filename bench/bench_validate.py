"""Benchmark ``wellforge validate`` (L0-L3, L0-L4) on a ~2 GB synthetic Well file.

Compares, on the same file with a warm page cache, each in a fresh process:

- ``read_whole``   h5py: every dataset read once into one numpy array (``dset[()]``)
- ``read_blocks``  h5py: every dataset read once, one trajectory-block at a time into new
                   numpy arrays (what a plain streaming reader does)
- ``read_direct``  h5py: every dataset read once into one reused buffer (``read_direct``),
                   the fastest way h5py offers
- ``validate``     ``wellforge validate FILE --level 3`` (L0-L3; one streaming pass)
- ``validate_serial``  the same in one thread
- ``validate_h5dread``  the same with the raw-chunk fast path off (every read via H5Dread)
- ``validate_l4``  ``wellforge validate FILE --level 4``: L0-L4 without a card (the generic
                   physics checks: periodic seam, no-slip walls from the BC metadata)
- ``validate_l4_serial``  the same in one thread
- ``validate_l4_card``  the same with a system card declaring every invariant the data
                   keep (conserved mean, non-negativity, divergence-free velocity on the
                   Fourier x Chebyshev grid, symmetric positive-definite tensor, walls)
- ``validate_l4_card_1thread``  the same with the physics checks in one thread
- ``validate_l4_card_stride4``  the same with the divergence on every 4th frame
- ``well_loop``    the Well's ``check_thewell_data.py`` logic: a frame-by-frame loop with a
                   NaN, constant and mean computation per frame and component

and reports wall time, CPU time (user + system) and peak RSS (``resource.getrusage``,
self and children). The ``*_serial`` variants turn the streaming pass's read-ahead thread
off (``limits.prefetch = 0``): everything in one thread, as the plain reads.

    python bench/bench_validate.py [--size-gb 2] [--file /tmp/wf_bench.hdf5] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def make_file(path: str, size_gb: float) -> None:
    from wellforge.schema.synthetic import frame, grids
    from wellforge.schema.writer import WellWriter

    nx, ny, n_traj = 512, 256, 8
    per_step = nx * ny * 4 * (1 + 2 + 4)  # c, velocity, T (float32)
    n_time = max(4, round(size_gb * 2**30 / per_step / n_traj))
    x, y = grids(nx, ny)
    t = 0.05 * np.arange(n_time)
    with WellWriter(path, "bench", n_traj, t, time_units="s") as w:
        w.add_dimension("x", x, units="m")
        w.add_dimension("y", y, units="m")
        w.add_parameter("alpha", 1.0)
        w.add_field("c", order=0, units="1")
        w.add_field("velocity", order=1, units="m/s")
        w.add_field("T", order=2, units="Pa")
        w.add_boundary_condition("x", "PERIODIC")
        w.add_boundary_condition("y", "WALL", variant="noslip")
        for i in range(n_traj):
            for k in range(n_time):
                w.write_frame(i, k, frame(x, y, t[k], 1.0 + 0.1 * i))


def _datasets(f):
    out = []
    f.visititems(lambda n, o: out.append(o) if hasattr(o, "dtype") else None)
    return out


def task_read_whole(path):
    import h5py

    with h5py.File(path, "r") as f:
        for d in _datasets(f):
            d[()]


def task_read_blocks(path):
    import h5py

    with h5py.File(path, "r") as f:
        for d in _datasets(f):
            if d.ndim >= 3:
                step = max(1, (16 << 20) // (int(np.prod(d.shape[2:])) * 4))
                for i in range(d.shape[0]):
                    for t0 in range(0, d.shape[1], step):
                        d[i, t0:t0 + step]
            else:
                d[()]


def task_read_direct(path):
    import h5py

    with h5py.File(path, "r") as f:
        for d in _datasets(f):
            if d.ndim >= 3:
                step = max(1, (16 << 20) // (int(np.prod(d.shape[2:])) * 4))
                buf = np.empty((step, *d.shape[2:]), dtype=d.dtype)
                for i in range(d.shape[0]):
                    for t0 in range(0, d.shape[1], step):
                        n = min(step, d.shape[1] - t0)
                        d.read_direct(buf[:n], np.s_[i, t0:t0 + n])
            else:
                d[()]


def _validate(path, level: int, limits: dict | None = None, card: str | None = None):
    """``wellforge validate FILE --level L`` with ``[validate.limits]`` and a card."""
    import tempfile

    from wellforge.cli import main

    tmp = []
    args = ["validate", path, "--level", str(level), "--format", "json", "--output", os.devnull]
    try:
        if limits:
            with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as fh:
                fh.write("[validate.limits]\n" + "".join(f"{k} = {v}\n"
                                                         for k, v in limits.items()))
            tmp.append(fh.name)
            args += ["--config", fh.name]
        if card:
            with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
                fh.write(card)
            tmp.append(fh.name)
            args += ["--card", fh.name]
        rc = main(args)
    finally:
        for name in tmp:
            os.remove(name)
    if rc != 0:
        raise SystemExit(f"validate returned {rc}")


def task_validate(path):
    _validate(path, 3)


def task_validate_serial(path):
    """L0-L3 in one thread (no read-ahead)."""
    _validate(path, 3, {"prefetch": 0})


def task_validate_h5dread(path):
    """The same validation without the raw-chunk fast path (every read via H5Dread),
    as for compressed or differently chunked files."""
    _validate(path, 3, {"direct_chunks": 0})


def task_validate_l4(path):
    _validate(path, 4)


def task_validate_l4_serial(path):
    """L0-L4 in one thread (no read-ahead)."""
    _validate(path, 4, {"prefetch": 0})


BENCH_CARD = """
name: bench
title: the synthetic benchmark fields (wellforge.schema.synthetic)
time_units: s
fields:
  - {name: c, order: 0, units: "1"}
  - {name: velocity, order: 1, units: m/s}
  - {name: T, order: 2, units: Pa}
parameters:
  - {name: alpha, units: "1"}
axes:
  - {name: x, kind: fourier, bounds: [0, 2], units: m, bc: PERIODIC}
  - {name: y, kind: chebyshev, bounds: [0, 1], units: m, bc: WALL, bc_variant: noslip}
invariants:
  - {kind: conserved_mean, field: c, tolerance: 1.0e-6}
  - {kind: non_negative, field: c, tolerance: 0}
  - {kind: divergence_free, field: velocity, tolerance: 1.0e-4}
  - {kind: symmetric, field: T, tolerance: 1.0e-6}
  - {kind: positive_definite, field: T, tolerance: 1.0e-6}
"""


def task_validate_l4_card(path, stride: int = 1):
    _validate(path, 4, {"derivative_stride": stride}, BENCH_CARD)


def task_validate_l4_card_1thread(path):
    """The same with the physics checks in one thread (limits.physics_threads = 1)."""
    _validate(path, 4, {"physics_threads": 1}, BENCH_CARD)


def task_validate_l4_card_stride4(path):
    """The same, with the divergence on every 4th frame (limits.derivative_stride)."""
    task_validate_l4_card(path, stride=4)


def task_well_loop(path):
    """The per-frame logic of the Well's scripts/check_thewell_data.py."""
    import h5py

    with h5py.File(path, "r") as f:
        n_dims = int(f.attrs["n_spatial_dims"])
        for g in ("t0_fields", "t1_fields", "t2_fields"):
            for name in f[g]:
                d = f[g][name]
                space = d.shape[2:2 + n_dims]
                means = {}
                for traj in range(d.shape[0]):
                    for t in range(d.shape[1]):
                        arrays = d[traj, t, ...].reshape(*space, -1)
                        arrays = np.moveaxis(arrays, -1, 0)
                        for dim, a in enumerate(arrays):
                            if np.isnan(a).any():
                                continue
                            if np.all(a == a.item(0)) and t > 0:
                                continue
                            means.setdefault((traj, dim), []).append(np.nanmean(a))
                for vals in means.values():
                    m, s = np.mean(vals), np.std(vals)
                    [v for v in vals if np.sqrt((v - m) ** 2) >= 5 * s]


TASKS = {"read_whole": task_read_whole, "read_blocks": task_read_blocks,
         "read_direct": task_read_direct, "validate": task_validate,
         "validate_serial": task_validate_serial, "validate_h5dread": task_validate_h5dread,
         "validate_l4": task_validate_l4, "validate_l4_serial": task_validate_l4_serial,
         "validate_l4_card": task_validate_l4_card,
         "validate_l4_card_1thread": task_validate_l4_card_1thread,
         "validate_l4_card_stride4": task_validate_l4_card_stride4, "well_loop": task_well_loop}


def measure(task: str, path: str) -> dict:
    """Run one task in a fresh process; wall time and peak RSS (self and children)."""
    # as installed: byte-code caches allowed (some sandboxes set PYTHONDONTWRITEBYTECODE,
    # which recompiles every module at every start)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, __file__, "--run-task", task, "--file", path],
                         capture_output=True, text=True, check=False,
                         env={**env, "OMP_NUM_THREADS": "1"})
    if out.returncode != 0:
        raise SystemExit(f"{task} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cpu() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    return sum(r.ru_utime + r.ru_stime for r in (
        resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))


def run_task(task: str, path: str) -> None:
    c0 = _cpu()
    t0 = time.perf_counter()
    TASKS[task](path)
    wall = time.perf_counter() - t0
    cpu = _cpu() - c0
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"task": task, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss / 1024}))


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-gb", type=float, default=2.0)
    ap.add_argument("--file", default="/tmp/wf_bench.hdf5")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the file afterwards")
    ap.add_argument("--tasks", help="comma-separated subset of the tasks (read_blocks, "
                    "read_whole and read_direct always run: the ratios need them)")
    ap.add_argument("--run-task", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_task:
        run_task(args.run_task, args.file)
        return
    if not os.path.exists(args.file):
        t0 = time.perf_counter()
        make_file(args.file, args.size_gb)
        print(f"wrote {args.file} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    size = os.path.getsize(args.file)
    measure("read_direct", args.file)  # warm the page cache
    chosen = [t for t in TASKS if not args.tasks or t in args.tasks.split(",")
              or t in ("read_blocks", "read_whole", "read_direct")]
    results: dict[str, list[dict]] = {k: [] for k in chosen}
    for _ in range(args.repeat):
        for task in chosen:
            if task == "well_loop" and results[task]:
                continue  # slow; once is enough
            results[task].append(measure(task, args.file))
    best = {k: min(v, key=lambda r: r["wall_s"]) for k, v in results.items() if v}
    rows = []
    for k, r in best.items():
        rows.append(f"| {k} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | "
                    f"{size / r['wall_s'] / 1e9:.2f} | "
                    f"{r['peak_rss_mb']:.0f} | {r['wall_s'] / best['read_blocks']['wall_s']:.2f} | "
                    f"{r['wall_s'] / best['read_whole']['wall_s']:.2f} | "
                    f"{r['wall_s'] / best['read_direct']['wall_s']:.2f} |")
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"date: {time.strftime('%Y-%m-%d')}; file: {size / 1e9:.2f} GB; best of "
          f"{args.repeat} (well_loop: 1), warm page cache, OMP_NUM_THREADS=1")
    print("| task | wall s | CPU s | GB/s | peak RSS MB | / read_blocks | / read_whole | "
          "/ read_direct |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if not args.keep:
        os.remove(args.file)


if __name__ == "__main__":
    main()
