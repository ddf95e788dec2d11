#!/usr/bin/env bash
# PBS/Torque: qsub -l select=4:ncpus=64:mpiprocs=64 -v CONFIG=...,RANKS_PER_RUN=1 mpi_runs/pbs.sh
#PBS -N wellforge
#PBS -l walltime=24:00:00
#PBS -j oe
set -euo pipefail
cd "${PBS_O_WORKDIR:-.}"
export OMP_NUM_THREADS=1 NUMEXPR_MAX_THREADS=1
NP=$(wc -l < "$PBS_NODEFILE")
# Ranks per run: RANKS_PER_RUN if set, else the config's ranks_per_run, else 1.
mpirun -n "$NP" -hostfile "$PBS_NODEFILE" wellforge generate "${CONFIG:?}" \
    ${RANKS_PER_RUN:+--ranks-per-run "$RANKS_PER_RUN"} --out "${OUT:-$PWD/wellforge_out}" --no-progress
