#!/usr/bin/env bash
# Install everything wellforge needs into ./.venv (idempotent).
#
#   scripts/install.sh            core + generate + test extras
#   WELLFORGE_EXTRAS=generate,test,well scripts/install.sh
#
# (Only checking files? 'pip install wellforge' needs no MPI, FFTW or compiler.)
#
# On a Debian/Ubuntu machine as root, missing system libraries (Open MPI, FFTW with
# MPI) are installed with apt-get. Elsewhere (a cluster with modules) point the
# variables below at the module paths; the script says what is missing instead of
# failing inside a compiler:
#   MPI_PATH (or MPI_INCLUDE_PATH + MPI_LIBRARY_PATH), FFTW_PATH (or FFTW_LIBRARY_PATH),
#   CC (an MPI C compiler wrapper, default mpicc), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${WELLFORGE_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
EXTRAS=${WELLFORGE_EXTRAS:-generate,test}
DEDALUS_VERSION=3.0.5
say() { echo "[install] $*"; }
die() { echo "[install] error: $*" >&2; exit 1; }

# Idempotency: a stamp holding a hash of everything that decides the install.
stamp_key=$( { cat pyproject.toml scripts/install.sh; echo "$EXTRAS $DEDALUS_VERSION"; } | sha256sum | cut -c1-16)
if [ -f "$VENV/.wellforge-stamp" ] && [ "$(cat "$VENV/.wellforge-stamp")" = "$stamp_key" ]; then
  say "up to date ($VENV)"; exit 0
fi

# ---- system libraries -------------------------------------------------------
APT_PKGS="libopenmpi-dev openmpi-bin libfftw3-dev libfftw3-mpi-dev"
have_system_libs() {
  command -v "${CC:-mpicc}" >/dev/null 2>&1 || return 1
  command -v mpirun >/dev/null 2>&1 || return 1
  local fl=${FFTW_LIBRARY_PATH:-${FFTW_PATH:+$FFTW_PATH/lib}}
  for d in $fl /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib /usr/local/lib; do
    [ -n "$d" ] && ls "$d"/libfftw3_mpi.* >/dev/null 2>&1 && return 0
  done
  return 1
}
if ! have_system_libs; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system libraries: $APT_PKGS"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $APT_PKGS build-essential >/dev/null
  fi
  have_system_libs || die "Open MPI (mpicc, mpirun) and FFTW3 with MPI (libfftw3_mpi) are required: \
install them (Debian: apt-get install $APT_PKGS) or load your cluster's modules and set \
CC=mpicc FFTW_PATH=<fftw prefix> MPI_PATH=<mpi prefix>"
fi

# Paths Dedalus's setup.py reads.
arch_lib=/usr/lib/$(uname -m)-linux-gnu
if [ -n "${MPI_PATH:-}" ]; then
  export MPI_INCLUDE_PATH=${MPI_INCLUDE_PATH:-$MPI_PATH/include}
  export MPI_LIBRARY_PATH=${MPI_LIBRARY_PATH:-$MPI_PATH/lib}
elif [ -d "$arch_lib/openmpi/include" ]; then
  export MPI_INCLUDE_PATH=${MPI_INCLUDE_PATH:-$arch_lib/openmpi/include}
  export MPI_LIBRARY_PATH=${MPI_LIBRARY_PATH:-$arch_lib/openmpi/lib}
fi
export FFTW_PATH=${FFTW_PATH:-/usr}
if [ -z "${FFTW_LIBRARY_PATH:-}" ]; then
  if [ -d "$arch_lib" ] && ls "$arch_lib"/libfftw3_mpi.* >/dev/null 2>&1; then
    export FFTW_LIBRARY_PATH=$arch_lib
  else
    export FFTW_LIBRARY_PATH=$FFTW_PATH/lib
  fi
fi
export CC=${CC:-mpicc}

# ---- virtual environment ----------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV" || die "could not create a virtual environment with $PYTHON (Debian: apt-get install python3-venv)"
fi
PY="$VENV/bin/python"
"$PY" -m pip install -q --upgrade pip setuptools wheel
"$PY" -m pip install -q "numpy>=1.24" "cython>=3" "mpi4py>=3.1"

if ! "$PY" -c "import dedalus, sys; sys.exit(0 if dedalus.__version__ == '$DEDALUS_VERSION' else 1)" >/dev/null 2>&1; then
  say "building dedalus==$DEDALUS_VERSION from source (about a minute)"
  "$PY" -m pip install -q --no-build-isolation "dedalus==$DEDALUS_VERSION"
fi

# torch CPU wheel for the 'well' extra (the-well's loader); kept out of the core deps.
case ",$EXTRAS," in
  *,well,*) "$PY" -c "import torch" >/dev/null 2>&1 || "$PY" -m pip install -q "torch==2.13.0" ;;
esac

say "installing wellforge (editable) with extras [$EXTRAS]"
"$PY" -m pip install -q --no-build-isolation -e ".[$EXTRAS]"
"$PY" -c "import dedalus.public, wellforge" || die "import check failed"
echo "$stamp_key" > "$VENV/.wellforge-stamp"
say "done: activate with 'source $VENV/bin/activate'"
