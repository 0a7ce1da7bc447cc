#!/usr/bin/env bash
# Sourced by the benchmarks across test hosts (link-bench.sh, dp-hosts.sh), from the repository
# root, as root: hosts_up N makes N test hosts with .ci/test-hosts.sh (network namespaces
# ah4j-PID-hI at 10.47.0.(I+1), interface ah4j0, on one bridge; PID is the script's) after
# removing those of dead runs, and removes them, with every process, link and qdisc on them, when
# the script exits, also on failure or SIGINT/SIGTERM (a script killed by SIGKILL leaves them to
# the next run's clean-up).
hosts_up() {
  local why
  if ! why=$(.ci/test-hosts.sh check); then
    echo "cannot make test hosts here: $why" >&2
    exit 1
  fi
  .ci/test-hosts.sh clean
  trap '.ci/test-hosts.sh down $$' EXIT
  trap 'exit 130' INT TERM
  .ci/test-hosts.sh up $$ "$1" >/dev/null
}

# host_ns I: host I's namespace; host_addr I: its address.
host_ns() { echo "ah4j-$$-h$1"; }
host_addr() { echo "10.47.0.$(($1 + 1))"; }

# on_host I CPU COMMAND...: COMMAND on host I, on core CPU when this machine has more cores than
# CPU (else unpinned).
on_host() {
  local host="$1" cpu="$2"
  shift 2
  if (( $(nproc) > cpu )); then
    ip netns exec "$(host_ns "$host")" taskset -c "$cpu" "$@"
  else
    ip netns exec "$(host_ns "$host")" "$@"
  fi
}
