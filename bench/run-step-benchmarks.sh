#!/usr/bin/env bash
# Runs the JMH step benchmarks (bench/src/main/java/.../StepBenchmark.java) at 1 and 2 libtorch
# threads and prints time, GB/s and % of the copy's bandwidth for each step, side by side.
# An optional argument selects benchmarks by regular expression (e.g. 'StepBenchmark.fused', or
# 'OverheadBenchmark' for the per-call overhead; only StepBenchmark runs get the GB/s table); JMH
# options may follow it, e.g. -p threads=1 -p isa=baseline,best (the CPU loops' instruction sets).
# Builds this checkout's classes itself (bench/reactor-classpath.sh, offline). JMH_OPTS (default
# "-wi 3 -i 7 -w 1s -r 1s") shortens a trial run, e.g. JMH_OPTS="-wi 1 -i 2 -w 200ms -r 200ms".
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1 # OpenBLAS's own pool fights libtorch's OpenMP threads (README)
# this checkout's classes, never the copies of this project in ~/.m2 (another checkout's install)
# shellcheck source=bench/reactor-classpath.sh
. bench/reactor-classpath.sh
read -r -a jmh_opts <<<"${JMH_OPTS:--wi 3 -i 7 -w 1s -r 1s}"
java -cp "$classpath" org.openjdk.jmh.Main "${1:-StepBenchmark}" "${@:2}" \
  -f 1 "${jmh_opts[@]}" -rf json -rff bench/target/step-benchmarks.json
case "${1:-StepBenchmark}" in
  StepBenchmark*) python3 bench/step_report.py bench/target/step-benchmarks.json ;;
esac
