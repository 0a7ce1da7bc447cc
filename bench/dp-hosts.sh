#!/usr/bin/env bash
# The multi-host target: 2 test hosts x 1 process against one process, AdaHessian's throughput on
# the demo's CNN at the same global batch, over an unlimited link. As root, from anywhere:
#
#   bench/dp-hosts.sh [--rounds 3] [--batch 128] [--warmup 5] [--iterations 30]
#                     [--optimizers "adahessian:1 adahessian:2 adam:1"] [--phases]
#
# Makes 2 test hosts (bench/hosts-env.sh) and, per round and optimizer (OPTIMIZER:UPDATE_EACH),
# runs DataParallelWorker (the worker of bench/dp-bench.sh) twice: one process on host 0 with
# WORLD_SIZE unset (no process group), and one Launcher per host (--nnodes 2, --nproc-per-node 1,
# --threads 1, master host 0, GLOO_SOCKET_IFNAME=ah4j0), each half of the global batch. Every
# process has 1 libtorch thread (OMP_NUM_THREADS=1) and is pinned with taskset to one core: the
# single process and host 0's rank to core 0, host 1's rank to core 1 (a launcher shares its rank's
# core); on a machine with fewer than 2 cores nothing is pinned. Prints each run's DPRESULT line and
# a table: the medians over the rounds and the ratio 2 hosts / 1 process (the target: at least 1.6x
# for AdaHessian), then each round's ratio of its two runs, which ran back to back, and the median
# of those (on a shared machine that steals time from either core, the steadier figure).
# GLIBC_TUNABLES (default: bench/tuned.sh's; set it empty for glibc as it comes) and
# OMP_WAIT_POLICY set here reach every process. With --phases every process also prints its
# DPPHASES line (DataParallelWorker --phases: the median time per step of each phase, the bytes and
# tensors averaged, the threads that took CPU), each run's after its DPRESULT line.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
batch=128
warmup=5
iterations=30
optimizers="adahessian:1 adahessian:2 adam:1"
phases=()
while [ $# -gt 0 ]; do
  case "$1" in
    --phases) phases=(--phases); shift; continue ;;
    --rounds) rounds="$2" ;;
    --batch) batch="$2" ;;
    --warmup) warmup="$2" ;;
    --iterations) iterations="$2" ;;
    --optimizers) optimizers="$2" ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
  shift 2
done

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# shellcheck source=bench/tuned.sh
source bench/tuned.sh
tuned_default
# shellcheck source=bench/reactor-classpath.sh
source bench/reactor-classpath.sh # $classpath
# shellcheck source=bench/hosts-env.sh
source bench/hosts-env.sh
hosts_up 2

worker=io.github.adahessian4j.bench.compare.DataParallelWorker
results=$(mktemp)
host0=$(mktemp)
host1=$(mktemp)
trap '.ci/test-hosts.sh down $$; rm -f "$results" "$host0" "$host1"' EXIT
# launcher H: host H's launcher of the 2-host run (its rank on core H), the worker with $args
launcher() {
  on_host "$1" "$1" env GLOO_SOCKET_IFNAME=ah4j0 java -cp "$classpath" \
    io.github.adahessian4j.distributed.Launcher --nnodes 2 --node-rank "$1" --nproc-per-node 1 \
    --threads 1 --master-addr "$(host_addr 0)" --master-port "$port" --rendezvous-timeout 60 \
    "$worker" "${args[@]}"
}

port=29600
for ((round = 1; round <= rounds; round++)); do
  for config in $optimizers; do
    optimizer=${config%:*}
    each=${config#*:}
    args=("$optimizer" "$each" "$batch" "$warmup" "$iterations" "${phases[@]}")
    # each run in the background: a signal interrupts `wait` at once (not a foreground command)
    on_host 0 0 env -u WORLD_SIZE -u RANK java -cp "$classpath" "$worker" "${args[@]}" > "$host0" 2>&1 &
    wait $! || { cat "$host0" >&2; exit 1; }
    line=$(grep DPRESULT "$host0")
    echo "round $round, 1 process: $line" >&2
    grep -h DPPHASES "$host0" >&2 || true
    echo "$optimizer $each 1 ${line#*DPRESULT }" >> "$results"
    port=$((port + 1))
    launcher 1 > "$host1" 2>&1 &
    peer=$!
    launcher 0 > "$host0" 2>&1 &
    wait $! || { cat "$host0" "$host1" >&2; exit 1; }
    wait "$peer" || { cat "$host1" >&2; exit 1; }
    line=$(grep DPRESULT "$host0")
    echo "round $round, 2 hosts x 1 process: $line" >&2
    grep -h DPPHASES "$host0" "$host1" >&2 || true
    echo "$optimizer $each 2 ${line#*DPRESULT }" >> "$results"
  done
done

echo
echo "CNN of the demo, global batch $batch, $warmup warm-up + $iterations timed iterations per run, medians of"
echo "$rounds rounds; every process 1 thread on its own core; GLIBC_TUNABLES=${GLIBC_TUNABLES:-unset}," \
  "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"
echo
echo "| optimizer | 1 process x 1 thread | 2 hosts x 1 process x 1 thread | 2 hosts / 1 process | per round (median) |"
echo "|---|---|---|---|---|"
awk '
  function value(key,   i, kv) {
    for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
  }
  { k = $1 " " $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
    c = k " " $3; r[c, ++count[c]] = value("images_per_s"); m[c, count[c]] = value("median_ms") }
  function median(c, a,   i, j, t, v, len) {
    len = count[c]; for (i = 1; i <= len; i++) v[i] = a[c, i] + 0
    for (i = 1; i <= len; i++) for (j = i + 1; j <= len; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return len % 2 ? v[(len + 1) / 2] : (v[len / 2] + v[len / 2 + 1]) / 2
  }
  END {
    for (i = 1; i <= n; i++) {
      split(order[i], o, " ")
      label = o[1] == "adam" ? "Adam" : "AdaHessian, updateEach " o[2]
      one = median(order[i] " 1", r); two = median(order[i] " 2", r)
      # each round'"'"'s two runs ran back to back: their ratio, then the median of those ratios
      c = order[i] " 1"; rounds = ""; count[order[i] " q"] = count[c]
      for (j = 1; j <= count[c]; j++) {
        q[order[i] " q", j] = r[order[i] " 2", j] / r[c, j]
        rounds = rounds (j > 1 ? ", " : "") sprintf("%.2f", q[order[i] " q", j])
      }
      printf "| %s | %.0f images/s (%.1f ms) | %.0f images/s (%.1f ms) | %.2fx | %s (%.2fx) |\n",
        label, one, median(order[i] " 1", m), two, median(order[i] " 2", m), two / one, rounds,
        median(order[i] " q", q)
    }
  }' "$results"
