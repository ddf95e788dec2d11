#!/usr/bin/env bash
# Usage: mpi_runs/run_local.sh CONFIG.yaml [RANKS] [RANKS_PER_RUN] [OUT]
# RANKS_PER_RUN empty or left out: the config's ranks_per_run, else 1.
set -euo pipefail
CONFIG=${1:?config yaml}; P=${2:-$(nproc)}; R=${3:-}; OUT=${4:-wellforge_out}
export OMP_NUM_THREADS=1 NUMEXPR_MAX_THREADS=1
EXTRA=()
[ "$(id -u)" = 0 ] && EXTRA+=(--allow-run-as-root)
[ "$P" -gt "$(nproc)" ] && EXTRA+=(--oversubscribe)
exec mpirun "${EXTRA[@]}" -n "$P" wellforge generate "$CONFIG" ${R:+--ranks-per-run "$R"} \
    --out "$OUT" --no-progress
