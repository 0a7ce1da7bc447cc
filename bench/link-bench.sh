#!/usr/bin/env bash
# All-reduce time against message size over rate-limited links between two test hosts, and the
# fit of latency + bytes/bandwidth per link (bench/link_fit.py). As root, from anywhere:
#
#   bench/link-bench.sh [--rates "100mbit 1gbit 10gbit unlimited"] [--repetitions 10]
#                       [--min-bytes 1024] [--max-bytes 67108864] [--max-seconds 0.5] [--out DIR]
#
# Makes 2 test hosts (bench/hosts-env.sh), then for each rate limits both hosts' interface with
# `tc qdisc replace dev ah4j0 root tbf rate RATE burst B latency 100ms` (each host shapes what it
# sends; B: 4 ms at the rate, at least 256 KiB, above the veth's 64 KiB segments; "unlimited"
# removes the qdisc) and runs one rank per host (AllReduceBenchmark: our ProcessGroup's Gloo
# all-reduce of a float32 tensor, 1 libtorch thread, each rank on its own core where the machine
# has two): sizes are powers of 4 bytes from --min-bytes to the smaller of --max-bytes and what the
# rate moves in --max-seconds, each after warm-up calls that move 2 bursts (the bucket is empty when
# the timing starts: the rate, not the burst, sets the times). Writes DIR/allreduce.jsonl (one line per link and size) and
# DIR/links.json (the fits, for bench/scale_projection.py), and prints the fits' table.
# Default DIR: bench/target/link-bench. Every namespace, qdisc and process goes on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

rates="100mbit 1gbit 10gbit unlimited"
repetitions=10
min_bytes=1024
max_bytes=$((64 << 20))
max_seconds=0.5
out=bench/target/link-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) rates="$2" ;;
    --repetitions) repetitions="$2" ;;
    --min-bytes) min_bytes="$2" ;;
    --max-bytes) max_bytes="$2" ;;
    --max-seconds) max_seconds="$2" ;;
    --out) out="$2" ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
  shift 2
done

# bytes_per_second RATE: tc's rate (a number with kbit, mbit or gbit) in bytes per second.
bytes_per_second() {
  local rate="${1,,}"
  case "$rate" in
    *gbit) echo $((${rate%gbit} * 125000000)) ;;
    *mbit) echo $((${rate%mbit} * 125000)) ;;
    *kbit) echo $((${rate%kbit} * 125)) ;;
    *) echo "unknown rate $1 (use kbit, mbit or gbit, or unlimited)" >&2; return 1 ;;
  esac
}

for rate in $rates; do # reject a bad rate before building anything
  [ "$rate" = unlimited ] || bytes_per_second "$rate" >/dev/null
done

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# shellcheck source=bench/reactor-classpath.sh
source bench/reactor-classpath.sh # $classpath
# shellcheck source=bench/hosts-env.sh
source bench/hosts-env.sh
hosts_up 2

# rank R: rank R of the all-reduce benchmark on host R (core R), for link $rate: sizes up to $top
rank() {
  on_host "$1" "$1" env MASTER_ADDR="$(host_addr 0)" MASTER_PORT="$port" WORLD_SIZE=2 RANK="$1" \
    GLOO_SOCKET_IFNAME=ah4j0 java -cp "$classpath" \
    io.github.adahessian4j.bench.compare.AllReduceBenchmark "$rate" "$min_bytes" "$top" "$repetitions" \
    "$warmup_bytes"
}

mkdir -p "$out"
: > "$out/allreduce.jsonl"
port=29500
for rate in $rates; do
  top=$max_bytes
  warmup_bytes=0
  for host in 0 1; do
    if [ "$rate" = unlimited ]; then
      ip -n "$(host_ns "$host")" link show ah4j0 >/dev/null # the qdisc is the default one
    else
      bps=$(bytes_per_second "$rate")
      burst=$((bps / 250 > 262144 ? bps / 250 : 262144))
      ip netns exec "$(host_ns "$host")" tc qdisc replace dev ah4j0 root tbf rate "$rate" \
        burst "$burst" latency 100ms
      warmup_bytes=$((2 * burst))
      top=$(awk -v b="$bps" -v s="$max_seconds" -v m="$max_bytes" 'BEGIN { t = b * s; print (t < m ? int(t) : m) }')
    fi
  done
  echo "link $rate: all-reduce of $min_bytes to $top bytes, $repetitions calls each" >&2
  port=$((port + 1))
  # both in the background: a signal interrupts `wait` at once (not a foreground command)
  rank 1 &
  peer=$!
  rank 0 > "$out/rank0.log" & # (Gloo writes lines of its own to standard output too)
  wait $!
  grep '^{"link"' "$out/rank0.log" | tee -a "$out/allreduce.jsonl"
  wait "$peer"
  if [ "$rate" != unlimited ]; then
    for host in 0 1; do
      ip netns exec "$(host_ns "$host")" tc qdisc del dev ah4j0 root
    done
  fi
done
python3 bench/link_fit.py "$out/allreduce.jsonl" --json "$out/links.json"
