#!/usr/bin/env bash
# Installs the Python reference used by the parity suite (bench/python/parity.py): Debian
# bookworm's python3-torch (1.13.1) and numpy, with the pthread OpenBLAS (without it Debian's
# torch falls back to the slow reference BLAS). PyPI is not reachable here, so this uses apt.
# Idempotent: does nothing when /usr/bin/python3 can already import torch and numpy.
set -euo pipefail

PY=/usr/bin/python3

if "$PY" -c 'import torch, numpy' >/dev/null 2>&1; then
  echo "install-reference: $("$PY" -c 'import torch; print("torch", torch.__version__)') already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends python3 python3-numpy python3-torch libopenblas0-pthread

"$PY" -c 'import torch, numpy; print("install-reference: torch", torch.__version__, "numpy", numpy.__version__)'
