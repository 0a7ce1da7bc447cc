#!/usr/bin/env bash
# What TorchScriptModel's training forward with libtorch's graph-executor optimisation off costs a
# TorchScript model's training step (GraphExecutorBenchmark): Adam and AdaHessian, each in its own
# process, each timing a net stepped through TorchScriptModel (optimisation off) against one whose
# forward runs with the optimisation on, interleaved. FILE follows compare --model
# torchscript:FILE's convention (docs/torchscript.md). Figures only from a quiet machine. Usage:
#   bench/graph-executor.sh FILE [THREADS] [WARMUP ROUNDS STEPS]     (threads 1; 5 5 10)
# Build first: mvn -B install -DskipTests
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: bench/graph-executor.sh FILE [THREADS] [WARMUP ROUNDS STEPS]" >&2
  exit 2
fi
file="$(realpath "$1")"
threads="${2:-1}"
shift $(($# < 2 ? $# : 2))
cd "$(dirname "$0")/.."
# shellcheck source=bench/iteration-env.sh
source bench/iteration-env.sh # $classpath, OPENBLAS_NUM_THREADS=1
for optimizer in adam adahessian; do
  java -cp "$classpath" io.github.adahessian4j.bench.compare.GraphExecutorBenchmark \
    "$file" "$optimizer" "$threads" "$@"
done
