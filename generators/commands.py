"""CLI: ``wellforge systems``, ``generate``, ``pack``, ``plan``, ``status``, ``clean``.

Heavy imports (Dedalus, mpi4py) happen inside the run functions so that other commands
start fast.
"""

from __future__ import annotations

import json
import os
import sys

from wellforge.errors import ConfigError

HELP = {
    "systems": "list the systems wellforge can generate",
    "generate": "generate a dataset: SYSTEM [--preset tiny|well] [--set k=v] or CONFIG.yaml",
    "pack": "pack finished runs of OUT/<name> into the dataset files again and finalize",
    "plan": "show runs, grouping and estimated core-hours, memory and disk before generating",
    "status": "where a sweep stands: done, running, failed and pending runs, core-hours",
    "clean": "remove the work directory of a packed dataset that validates",
}


def add_systems_arguments(p):
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run_systems(args) -> int:
    from .registry import available, get_system

    rows = []
    for name, target in sorted(available().items()):
        try:
            s = get_system(name)
        except Exception as e:  # a broken plugin must not hide the other systems
            rows.append({"name": name, "error": f"{target}: {type(e).__name__}: {e}"})
            continue
        rows.append({"name": name, "title": s.card.title,
                     "parameters": [p.name for p in s.card.parameters],
                     "presets": list(s.presets),
                     "fields": [f.name for f in s.card.fields]})
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        w = max(len(r["name"]) for r in rows) + 2
        for r in rows:
            if "error" in r:
                print(f"{r['name']:<{w}}failed to load: {r['error']}")
                continue
            print(f"{r['name']:<{w}}{r['title']}")
            print(f"{'':<{w}}parameters: {', '.join(r['parameters']) or 'none'}; presets: "
                  f"{', '.join(r['presets'])}; fields: {', '.join(r['fields'])}")
    return 0


def add_generate_arguments(p):
    p.add_argument("target", help="a system name (see 'wellforge systems') or a config YAML")
    p.add_argument("--preset", help="base settings of the system (tiny, well); default tiny "
                   "when a system name is given")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter, IC parameter, time key (dt_out, n_frames, start),"
                   " resolution, stored_resolution, seed or system option; repeatable; "
                   "comma lists sweep")
    p.add_argument("--out", default="wellforge_out", help="output directory (default "
                   "./wellforge_out); the dataset goes to OUT/<dataset_name>")
    p.add_argument("--ranks-per-run", type=int, default=None,
                   help="MPI ranks per simulation (default: the config's ranks_per_run, else "
                   "1: one run per rank)")
    p.add_argument("--well-compat", action="store_true",
                   help="reproduce the Well's released naming (shear_flow's 'Rayleigh')")
    p.add_argument("--retry-failed", action="store_true", help="rerun runs that failed before")
    p.add_argument("--rerun-changed", action="store_true",
                   help="the system's code changed since the finished runs in OUT were made: "
                   "discard them and redo every run")
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="K",
                   help="checkpoint each run every K stored frames; a rerun continues "
                   "interrupted runs from their last checkpoint (default: off)")
    p.add_argument("--slice", default="0/1", metavar="I/N",
                   help="take only runs with index %% N == I (one task of a job array; then "
                   "'wellforge pack' once all tasks are done)")


def load_plan(target: str, preset: str | None, sets: list[str], well_compat: bool = False):
    from .config import build_plan, load_yaml, merge_config
    from .registry import get_system

    is_file = target.endswith((".yaml", ".yml")) or os.path.sep in target
    if is_file:
        cfg = load_yaml(target)
        if "system" not in cfg:
            raise ConfigError(f"{target}: missing key 'system' (see 'wellforge systems')")
        system = get_system(str(cfg["system"]))
    else:
        system = get_system(target)
        cfg = {}
        preset = preset or "tiny"
    if well_compat:
        cfg["well_compat"] = True
    merged = merge_config(system, preset, cfg, sets)
    return build_plan(system, merged)


def run_generate(args) -> int:
    from .engine import require_solvers

    require_solvers("wellforge generate")
    from mpi4py import MPI

    from .pipeline import generate
    from .schedule import ranks_per_run

    world = MPI.COMM_WORLD
    slice_ = parse_slice(args.slice)
    every = check_checkpoint_every(args.checkpoint_every)
    plan = load_plan(args.target, args.preset, args.sets, args.well_compat)
    rpr, source = ranks_per_run(args.ranks_per_run, plan.config)
    if world.rank == 0:
        n_cells, n_files = len(plan.files()), len({(r.split, r.file_key) for r in plan.runs})
        print(f"wellforge generate: {plan.system.name}: {len(plan.runs)} runs of {n_cells} "
              f"parameter set{'s' * (n_cells != 1)} in {n_files} file{'s' * (n_files != 1)}, "
              f"{world.size} ranks, {rpr} per run ({source}) -> "
              f"{os.path.join(args.out, plan.dataset_name)}", file=sys.stderr)
        _note_splits(plan)
    summary = generate(plan, args.out, comm=world, ranks_per_run=rpr,
                       progress=not (args.no_progress or getattr(args, "quiet", False)),
                       retry_failed=args.retry_failed, slice_=slice_, checkpoint_every=every,
                       rerun_changed=args.rerun_changed)
    code = 0
    if world.rank == 0:
        code = report(summary)
    return world.bcast(code, root=0)


def _note_splits(plan) -> None:
    from .pipeline import plan_splits

    used = plan_splits(plan)
    if len(used) < 3:
        print(f"note: this dataset has only the split(s) {', '.join(used)}; the Well's "
              "loader and tools expect train, valid and test", file=sys.stderr)


def check_checkpoint_every(k: int) -> int:
    if k < 0:
        raise ConfigError(f"--checkpoint-every {k}: must be >= 0 (0 = off)")
    return k


def parse_slice(text: str) -> tuple[int, int]:
    i, _, n = text.partition("/")
    try:
        i, n = int(i), int(n)
    except ValueError:
        raise ConfigError(f"--slice {text!r}: expected I/N with integers, e.g. 3/16") from None
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--slice {text!r}: need 0 <= I < N")
    return i, n


def report(summary) -> int:
    n_done = len(summary.done) + len(summary.skipped)
    print(f"dataset: {summary.dataset}")
    others = len(summary.done) - len(summary.ran)
    print(f"runs: {n_done} done ({len(summary.skipped)} from before"
          + (f", {others} by another job" if others > 0 and summary.ran else "") + "), "
          f"{len(summary.failed)} failed; {len(summary.files)} data files")
    for rid, why in summary.failed.items():
        print(f"  FAILED {rid}: {why}")
    if summary.pending:
        running = (f", {len(summary.running)} of them running in another job"
                   if summary.running else "")
        print(f"{len(summary.pending)} runs pending{running} (other --slice tasks or jobs): "
              f"nothing packed; run 'wellforge pack {summary.dataset}' once every task is "
              "done ('wellforge status' shows where the sweep stands)")
    elif not summary.files:
        print(f"no dataset written: split {', '.join(summary.empty)} would be empty (its "
              "runs failed)")
    return 0 if summary.ok else 1


def add_pack_arguments(p):
    p.add_argument("dataset", help="OUT/<dataset_name> of an earlier 'wellforge generate'")


def run_pack(args) -> int:
    from .pipeline import collect
    from .workdir import WorkDir

    work = WorkDir.of_dataset(args.dataset)
    return report(collect(plan_of(work), work, before=set()))


def plan_of(work):
    """The plan a work directory was made from (its manifest's resolved config)."""
    from .config import build_plan
    from .registry import get_system

    cfg = work.read_manifest()["config"]
    return build_plan(get_system(cfg["system"]), cfg)


def add_plan_arguments(p):
    p.add_argument("target", help="a system name or a config YAML (as for generate)")
    p.add_argument("--preset", help="as for generate")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--ranks", type=int, default=1, help="MPI ranks you intend to use")
    p.add_argument("--ranks-per-run", type=int, default=None,
                   help="as for generate (default: the config's ranks_per_run, else 1)")
    p.add_argument("--calibrate-steps", type=int, default=20,
                   help="time steps of the calibration run (0: no calibration)")
    p.add_argument("--developed", action="store_true",
                   help="steps per run from the developed flow: a coarse run of each "
                   "parameter cell, its velocity carried to the full grid's CFL")
    p.add_argument("--coarsen", type=int, default=4, metavar="F",
                   help="with --developed: F times fewer points per axis (default 4)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run_plan(args) -> int:
    from .planning import estimate
    from .schedule import check_layout, ranks_per_run

    plan = load_plan(args.target, args.preset, args.sets)
    rpr, source = ranks_per_run(args.ranks_per_run, plan.config)
    check_layout(args.ranks, rpr, plan.runs[0].resolution)
    if args.calibrate_steps > 0:
        from .engine import require_solvers

        require_solvers("wellforge plan --calibrate-steps N (0: counts and disk only)")
    if args.coarsen < 1:
        raise ConfigError(f"--coarsen {args.coarsen}: must be >= 1")
    if args.developed and args.calibrate_steps <= 0:
        raise ConfigError("--developed needs a calibration (--calibrate-steps > 0) for the "
                          "time per step")
    est = estimate(plan, args.ranks, rpr, args.calibrate_steps, developed=args.developed,
                   coarsen=args.coarsen)
    est["ranks_per_run_source"] = source
    est.update({k: plan.config[k] for k in ("design", "holdout") if k in plan.config})
    if args.json:
        print(json.dumps(est, indent=1))
        return 0
    print(f"system {plan.system.name} -> dataset {plan.dataset_name}")
    print(f"runs: {est['runs']} ({est['files']} parameter sets × {est['ics_per_file']} ICs); "
          f"splits train/valid/test: {est['splits']['train']}/{est['splits']['valid']}/"
          f"{est['splits']['test']} trajectories")
    print(f"grouping: {args.ranks} ranks = {est['groups']} groups × {rpr} ranks per run "
          f"({source}); {est['rounds']} rounds of runs")
    for what, d in plan.config.get("design", {}).items():
        print(f"design of the {what.replace('_', ' ')}: {d['method']}, {d['n']} points, "
              f"seed {d.get('seed', 0)}, over " + ", ".join(
                  f"{k} [{r['low']:g}, {r['high']:g}]{' (log)' if r.get('scale') == 'log' else ''}"
                  for k, r in d["ranges"].items()))
    held = plan.config.get("holdout")
    if held:
        print(f"hold-out: {len(held['cells'])} parameter set(s), all their trajectories in "
              f"{held['split']}: " + "; ".join(
                  ", ".join(f"{k}={v:g}" for k, v in c.items()) for c in held["cells"]))
    print(f"resolution: simulated {est['resolution']}, stored {est['stored_resolution']}, "
          f"{est['n_frames']} frames every {est['dt_out']}")
    gib = est["disk_bytes"] / 2**30
    print(f"disk: {gib:.3g} GiB of data, and as much again for the run shards in the work "
          f"directory until 'wellforge clean' (peak {2 * gib:.3g} GiB)")
    lead = est["leader_frame_bytes"] / 2**20
    cal = est.get("calibration")
    print(f"memory: the group leader gathers each frame: {lead:.3g} MiB beyond its share"
          + (f"; the solver about {est['rank_mib']:.0f} MiB per rank ({cal['rss_mib']:.0f} "
             f"MiB on 1 rank, split over {rpr})" if cal else ""))
    if cal:
        step = ("fixed step: the system has no velocity" if cal["fixed_dt"] else
                "lower bound: the calibration ran at max_dt" if cal["at_max_dt"] else "")
        print(f"calibration ({cal['steps']} steps, 1 rank): {cal['s_per_step'] * 1e3:.3g} ms/step, "
              f"build {cal['build_s']:.3g} s, dt {cal['dt']:.3g}, peak memory "
              f"{cal['rss_mib']:.0f} MiB per rank")
        for c in est.get("forecast", []):
            if c["steps"] is None:
                print(f"  {c['cell']}: {c['how']}"
                      + (f" ({c['reason']}); the calibration's steps are kept"
                         if "reason" in c else ""))
            else:
                print(f"  {c['cell']}: {c['steps']} steps ({c['how']}"
                      + (f", coarse {c['coarse_resolution']}, dt {c['dt_min']:.3g} at the "
                         "smallest" if "dt_min" in c else "") + ")")
        sp = est["steps_per_run"]
        rng = f"{sp['min']}" if sp["min"] == sp["max"] else f"{sp['min']} to {sp['max']}"
        bound = step if est["lower_bound"] or cal["fixed_dt"] else (
            "developed flow" if args.developed else "")
        print(f"estimate: {rng} steps per run, {est['core_hours']:.3g} core-hours, "
              f"{est['wall_hours']:.3g} h wall on {args.ranks} ranks"
              f"{f' ({bound})' if bound else ''}")
    return 0


def add_status_arguments(p):
    p.add_argument("out", help="the --out of 'wellforge generate', or OUT/<dataset_name>")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run_status(args) -> int:
    from .status import render, sweep_status
    from .workdir import WorkDir

    reports = [sweep_status(w, plan_of(w)) for w in WorkDir.find(args.out)]
    if args.json:
        print(json.dumps(reports if len(reports) > 1 else reports[0], indent=1))
    else:
        print("\n\n".join(render(r) for r in reports))
    return 0


def add_clean_arguments(p):
    p.add_argument("dataset", help="OUT/<dataset_name> of an earlier 'wellforge generate'")


def run_clean(args) -> int:
    from .status import clean
    from .workdir import WorkDir

    work = WorkDir.of_dataset(args.dataset)
    freed = clean(work, plan_of(work), _validate_exit_code)
    print(f"removed {work.root} ({freed / 2**20:.1f} MiB); the dataset {work.dataset} stays")
    return 0


def _validate_exit_code(dataset: str) -> tuple[int, str]:
    """``wellforge validate DATASET``'s exit code with the default options, and its first
    finding at or above the failing severity."""
    from wellforge.validate.config import build_options
    from wellforge.validate.runner import validate

    opts, _ = build_options({}, None)
    report = validate([dataset], opts)
    worst = next((f for f in report.findings if f.severity >= opts.fail_on), None)
    return report.exit_code(opts.fail_on), (f"{worst.code} {worst.message}" if worst else "")
