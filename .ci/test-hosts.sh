#!/usr/bin/env bash
# Test hosts on this machine: network namespaces with their own address on a private bridge, for
# the multi-host tests (java/src/test/.../TestHosts.java runs this script) and by hand. Needs root
# and iproute2 (`ip`). Everything it makes is named ah4j-OWNER-...: OWNER is the id (a number) of
# the process that owns the hosts, so runs side by side do not touch each other's hosts, and a run
# whose owner died (a killed JVM) is cleaned by the next `clean`.
#
#   .ci/test-hosts.sh up OWNER N     make hosts 0..N-1: namespace ah4j-OWNER-hI, interface ah4j0 with
#                                    address 10.47.0.(I+1)/24, loopback up, all on one bridge (in
#                                    namespace ah4j-OWNER-sw); prints "ah4j-OWNER-hI 10.47.0.(I+1)"
#   .ci/test-hosts.sh down OWNER     kill every process in OWNER's namespaces (TERM, then KILL), then
#                                    remove the namespaces (their links go with them) and
#                                    /etc/netns/ah4j-OWNER-*
#   .ci/test-hosts.sh clean          `down` for every owner that is no longer a live process
#   .ci/test-hosts.sh check          exits 0 when namespaces can be made here, else says why
#
# Run a command on host I: ip netns exec ah4j-OWNER-hI COMMAND. A file /etc/netns/NS/hosts replaces
# /etc/hosts for the commands run so in namespace NS (ip netns exec bind-mounts it).
set -euo pipefail

PREFIX=ah4j
IFACE=ah4j0
SUBNET=10.47.0

owners() {
  ip netns list | awk '{print $1}' | sed -n "s/^$PREFIX-\([0-9][0-9]*\)-.*/\1/p" | sort -u
}

down() {
  local owner="$1" ns pids
  local spaces=()
  mapfile -t spaces < <(ip netns list | awk '{print $1}' | grep "^$PREFIX-$owner-" || true)
  for signal in TERM KILL; do
    pids=""
    for ns in "${spaces[@]}"; do
      pids="$pids $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    done
    if [ -n "${pids// /}" ]; then
      # shellcheck disable=SC2086
      kill -s "$signal" $pids 2>/dev/null || true
      [ "$signal" = TERM ] && sleep 1
    fi
  done
  for ns in "${spaces[@]}"; do
    ip netns delete "$ns" 2>/dev/null || true
  done
  rm -rf /etc/netns/"$PREFIX-$owner-"*
}

up() {
  local owner="$1" n="$2" i ns sw="$PREFIX-$1-sw"
  down "$owner"
  ip netns add "$sw"
  ip -n "$sw" link add br0 type bridge
  ip -n "$sw" link set br0 up
  for ((i = 0; i < n; i++)); do
    ns="$PREFIX-$owner-h$i"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link add "$IFACE" type veth peer name "port$i" netns "$sw"
    ip -n "$sw" link set "port$i" master br0
    ip -n "$sw" link set "port$i" up
    ip -n "$ns" addr add "$SUBNET.$((i + 1))/24" dev "$IFACE"
    ip -n "$ns" link set "$IFACE" up
  done
  for ((i = 0; i < n; i++)); do
    echo "$PREFIX-$owner-h$i $SUBNET.$((i + 1))"
  done
}

case "${1:-}" in
  up)
    [[ "${2:-}" =~ ^[0-9]+$ && "${3:-}" =~ ^[0-9]+$ ]] || { echo "usage: $0 up OWNER N" >&2; exit 2; }
    up "$2" "$3"
    ;;
  down)
    [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "usage: $0 down OWNER" >&2; exit 2; }
    down "$2"
    ;;
  clean)
    for owner in $(owners); do
      kill -0 "$owner" 2>/dev/null || { echo "removing the test hosts of $owner (no longer running)"; down "$owner"; }
    done
    ;;
  check)
    command -v ip >/dev/null || { echo "no ip command (Debian package iproute2)"; exit 1; }
    [ "$(id -u)" = 0 ] || { echo "not root: network namespaces need root"; exit 1; }
    probe="$PREFIX-$$-probe"
    if ! err=$(ip netns add "$probe" 2>&1); then
      echo "ip netns add fails here: $err"
      exit 1
    fi
    ip netns delete "$probe"
    ;;
  *)
    echo "usage: $0 up OWNER N | down OWNER | clean | check" >&2
    exit 2
    ;;
esac
