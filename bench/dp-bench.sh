#!/usr/bin/env bash
# Data-parallel throughput of the demo's CNN: 1 process x 2 threads against 2 processes x 1
# thread (c10d Gloo over loopback, started by io.github.adahessian4j.distributed.Launcher) at the
# same global batch, for Adam and AdaHessian (updateEach 1 and 2), with the bytes all-reduced per
# step. Builds presets, java and bench through the reactor (no installed artifact of this project
# is used) and runs `dp-bench` with the arguments given (for example --rounds 5). The ranks inherit
# the environment: GLIBC_TUNABLES (default: bench/tuned.sh's; set it empty for glibc as it comes)
# and OMP_WAIT_POLICY set here reach them (the table names both).
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1 # OpenBLAS's own pool fights libtorch's OpenMP threads (README)
# shellcheck source=bench/tuned.sh
source bench/tuned.sh
tuned_default
# shellcheck source=bench/reactor-classpath.sh
source bench/reactor-classpath.sh # $classpath
exec java -cp "$classpath" io.github.adahessian4j.bench.BenchCli dp-bench "$@"
