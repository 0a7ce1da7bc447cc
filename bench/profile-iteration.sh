#!/usr/bin/env bash
# Where a whole training iteration spends its time, Java (IterationBenchmark) against the Python
# reference (iteration_bench.py), under both allocator settings of bench/compare.sh: perf record
# (user and kernel, 999 Hz) of one process each, 10 warm-up and ITERATIONS timed iterations, then
# the top symbols and the share of the kernel's page-fault path. Needs perf (Debian's
# linux-perf) and the rights to profile (root, or kernel.perf_event_paranoid <= 1). Usage:
#   bench/profile-iteration.sh [MODEL] [OPTIMIZER] [THREADS] [ITERATIONS]   (cnn adahessian 1 100)
# Build first: mvn -B install -DskipTests && bench/python/install-reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-cnn}"
optimizer="${2:-adahessian}"
threads="${3:-1}"
iterations="${4:-100}"
# shellcheck source=bench/iteration-env.sh
source bench/iteration-env.sh # $tuned, $classpath, OPENBLAS_NUM_THREADS=1
out=bench/target/profile
mkdir -p "$out"
for allocator in default tuned; do
  if [ "$allocator" = tuned ]; then export GLIBC_TUNABLES="$tuned"; else unset GLIBC_TUNABLES; fi
  for lang in java python; do
    data="$out/$lang-$model-$optimizer-$threads-$allocator.data"
    if [ "$lang" = java ]; then
      # The perf map names the JIT-compiled Java methods in the report.
      cmd=(java -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -cp "$classpath"
        io.github.adahessian4j.bench.compare.IterationBenchmark
        "$model" "$optimizer" "$threads" 10 "$iterations")
    else
      cmd=(/usr/bin/python3 bench/python/iteration_bench.py "$model" "$optimizer" "$threads"
        --warmup 10 --iterations "$iterations")
    fi
    echo "== $lang $model $optimizer, $threads thread(s), allocator $allocator"
    perf record -q -F 999 -o "$data" -- "${cmd[@]}" 2>/dev/null | tail -1
    report=$(perf report -i "$data" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$')
    head -12 <<<"$report" | cut -c1-200
    # The kernel's share, and its page-fault path (clear_page, the fault handlers, zeroing).
    awk '/\[k\]/ { k += $1 } /\[k\] (clear_page|.*page_fault|.*handle_mm_fault|do_anonymous_page|.*zero.*page)/ { f += $1 }
      END { printf "kernel: %.1f%% of samples; page faults and page clearing: %.1f%%\n", k, f }' <<<"$report"
  done
done
unset GLIBC_TUNABLES
