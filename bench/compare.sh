#!/usr/bin/env bash
# Whole training iterations, Java (this library) against the Python reference on torch 1.13 (the
# host's) and on torch 2.6 (bench/python/torch26.sh: Debian trixie's, in a cached chroot; needs
# root; its Adam is fused=True; TORCH26=0 leaves it out), side by side: MLP, CNN, ResNet-20
# (bench/.../compare/Model.java; BatchNorm in training mode) and the transformer language model
# (128 windows of 64 characters; docs/transformers.md), batch 128,
# 1 and 2 threads, REPEATS interleaved rounds (default 3), each configuration in its own process
# (5 warm-up + 30 timed iterations, median and quartiles), peak RSS per process, under both
# allocator settings (ALLOCATORS, default "default tuned"): glibc as it comes, and glibc told to
# keep freed memory (GLIBC_TUNABLES in bench/iteration-env.sh, the same for every run; in Java,
# NativeMemory.keepFreedMemory() does it from inside). The CNN and the ResNet also run
# AdaHessian's cheaper variants in Java: the Hessian from half or a quarter of the batch, and
# updateEach(2); the transformer the quarter-batch variant and Adam with math attention (flash off:
# the cost of the attention kernel AdaHessian's closures run with). MODELS (default "mlp cnn
# resnet transformer") and ALLOCATORS narrow the plan. Prints the tables the README's results come
# from, with each ratio taken within a round and then the median over rounds (this machine's
# speed drifts over minutes, for every run alike). Build first:
#   mvn -B install -DskipTests && bench/python/install-reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-3}"
allocators="${ALLOCATORS:-default tuned}"
models="${MODELS:-mlp cnn resnet transformer}"
torch26="${TORCH26:-1}"
[ "$torch26" = 0 ] || bench/python/torch26.sh install >&2
# shellcheck source=bench/iteration-env.sh
source bench/iteration-env.sh # $tuned, $classpath, OPENBLAS_NUM_THREADS=1
out=bench/target/compare.jsonl
: > "$out"
for round in $(seq "$repeats"); do
  for allocator in $allocators; do
    if [ "$allocator" = tuned ]; then export GLIBC_TUNABLES="$tuned"; else unset GLIBC_TUNABLES; fi
    for threads in 1 2; do
      for model in $models; do
        for optimizer in adam adahessian; do
          /usr/bin/python3 bench/python/iteration_bench.py "$model" "$optimizer" "$threads" >> "$out"
          if [ "$torch26" = 1 ]; then
            bench/python/torch26.sh run iteration_bench.py "$model" "$optimizer" "$threads" --fused >> "$out"
          fi
          java -cp "$classpath" io.github.adahessian4j.bench.compare.IterationBenchmark \
            "$model" "$optimizer" "$threads" >> "$out"
        done
        variants=(opbyop)
        if [ "$model" = cnn ] || [ "$model" = resnet ]; then
          variants+=(adahessian-h2 adahessian-h4 adahessian-e2 adahessian-h4e2)
        elif [ "$model" = transformer ]; then
          variants+=(adahessian-h4 adam-math)
        fi
        for optimizer in "${variants[@]}"; do
          java -cp "$classpath" io.github.adahessian4j.bench.compare.IterationBenchmark \
            "$model" "$optimizer" "$threads" >> "$out"
        done
      done
    done
  done
  unset GLIBC_TUNABLES
  echo "round $round of $repeats done" >&2
done
/usr/bin/python3 bench/compare_report.py "$out"
