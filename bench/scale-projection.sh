#!/usr/bin/env bash
# The compute time per step that the projection needs, then the projection (bench/scale_projection.py):
#
#   bench/scale-projection.sh [--models "cnn resnet"] [--rounds 3] [--iterations 30]
#                             [--links bench/target/link-bench/links.json] [--out bench/target/scale]
#
# Per round, model and optimizer (adam, adahessian, adahessian-e2): IterationBenchmark MODEL
# OPTIMIZER 1 (one libtorch thread, batch 128, 5 warm-up iterations) appends its JSON line to
# OUT/compute.jsonl; then the projection reads it with the links' fits (from bench/link-bench.sh)
# and writes OUT/projection.md and OUT/scaling.svg. A model is any name IterationBenchmark knows
# (bench's Model class). GLIBC_TUNABLES set here reaches the runs (default: bench/tuned.sh's; set
# it empty for glibc as it comes).
set -euo pipefail
cd "$(dirname "$0")/.."

models="cnn resnet"
rounds=3
iterations=30
links=bench/target/link-bench/links.json
out=bench/target/scale
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models="$2" ;;
    --rounds) rounds="$2" ;;
    --iterations) iterations="$2" ;;
    --links) links="$2" ;;
    --out) out="$2" ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
[ -f "$links" ] || { echo "no link fits at $links: run bench/link-bench.sh first" >&2; exit 1; }

export OPENBLAS_NUM_THREADS=1
# shellcheck source=bench/tuned.sh
source bench/tuned.sh
tuned_default
# shellcheck source=bench/reactor-classpath.sh
source bench/reactor-classpath.sh # $classpath
mkdir -p "$out"
: > "$out/compute.jsonl"
for ((round = 1; round <= rounds; round++)); do
  for model in $models; do
    for optimizer in adam adahessian adahessian-e2; do
      java -cp "$classpath" io.github.adahessian4j.bench.compare.IterationBenchmark \
        "$model" "$optimizer" 1 5 "$iterations" | tee -a "$out/compute.jsonl"
    done
  done
done
python3 bench/scale_projection.py --compute "$out/compute.jsonl" --links "$links" \
  --svg "$out/scaling.svg" | tee "$out/projection.md"
