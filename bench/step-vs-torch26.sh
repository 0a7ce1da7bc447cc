#!/usr/bin/env bash
# The optimizer step alone, this library against torch 2.6's own Adam and AdamW kernels, on
# StepBenchmark's parameter sets (10M float32 parameters in 62 tensors; ResNet-20's 59 tensors),
# interleaved: every round runs, at 1 and then 2 threads, our steps (JMH: StepBenchmark's
# fusedAdam, uncheckedAdam (NonFinitePolicy.IGNORE) and fusedAdamW; the core's calls alone,
# nativeAdam and fusedAdaHessian; and stepBytesOnly, the memory limit: the Adam step's bytes with
# no step math) and then torch 2.6's fused, foreach and for-loop steps of the same shapes
# (bench/python/step_bench.py in torch26.sh's root). bench/step_vs_torch_report.py prints each
# step's median over rounds with the range, our step over torch's fused one and ours over ours
# (the check's cost, AdaHessian over Adam) as ratios paired within a round, and every step as a %
# of the memory limit of the same round.
#   bench/step-vs-torch26.sh [ROUNDS]     (default 3)
# JMH_OPTS (default "-wi 3 -i 7 -w 1s -r 1s") and TORCH_STEPS (default 20) shorten a trial run.
# Builds this checkout's classes itself (bench/reactor-classpath.sh, offline). Needs root
# (bench/python/torch26.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
read -r -a jmh_opts <<<"${JMH_OPTS:--wi 3 -i 7 -w 1s -r 1s}"
export OPENBLAS_NUM_THREADS=1 # OpenBLAS's own pool fights libtorch's OpenMP threads (README)
out=bench/target/step-vs-torch26
rm -rf "$out"
mkdir -p "$out"
# this checkout's classes, never the copies of this project in ~/.m2 (another checkout's install)
# shellcheck source=bench/reactor-classpath.sh
. bench/reactor-classpath.sh
bench/python/torch26.sh install >&2
for round in $(seq "$rounds"); do
  for threads in 1 2; do
    java -cp "$classpath" org.openjdk.jmh.Main \
      'StepBenchmark.(stepBytesOnly|fusedAdam|uncheckedAdam|nativeAdam|fusedAdaHessian|fusedAdamW)$' -p threads="$threads" -f 1 "${jmh_opts[@]}" \
      -rf json -rff "$out/java-$round-$threads.json" >&2
    bench/python/torch26.sh run step_bench.py --threads "$threads" --steps "${TORCH_STEPS:-20}" |
      sed "s/^{/{\"round\": $round, /" >>"$out/torch.jsonl"
  done
  echo "round $round of $rounds done" >&2
done
/usr/bin/python3 bench/step_vs_torch_report.py "$out"
