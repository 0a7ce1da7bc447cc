#!/usr/bin/env bash
# Whole training iterations, Java (this library) against the Python reference, side by side:
# MLP and CNN, batch 128, 1 and 2 threads, REPEATS interleaved rounds (default 3), each
# configuration in its own process (5 warm-up + 30 timed iterations, median), peak RSS per
# process. Prints the table the README's results come from. Build first:
#   mvn -B install -DskipTests && bench/python/install-reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-3}"
export OPENBLAS_NUM_THREADS=1 # OpenBLAS's own pool fights libtorch's OpenMP threads (README)
cp_file="$PWD/bench/target/classpath.txt"
mvn -B -q -o -pl bench dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
classpath="bench/target/classes:$(cat "$cp_file")"
out=bench/target/compare.jsonl
: > "$out"
for round in $(seq "$repeats"); do
  for threads in 1 2; do
    for model in mlp cnn; do
      for optimizer in adam adahessian; do
        /usr/bin/python3 bench/python/iteration_bench.py "$model" "$optimizer" "$threads" >> "$out"
        java -cp "$classpath" io.github.adahessian4j.bench.compare.IterationBenchmark \
          "$model" "$optimizer" "$threads" >> "$out"
      done
      java -cp "$classpath" io.github.adahessian4j.bench.compare.IterationBenchmark \
        "$model" opbyop "$threads" >> "$out"
    done
  done
  echo "round $round of $repeats done" >&2
done
/usr/bin/python3 bench/compare_report.py "$out"
