# Sourced by the scripts that build a Debian root with debootstrap and run commands in it
# (docker/run-in-chroot.sh, bench/python/torch26.sh). The sourcing script defines
# `die MESSAGE` (print it and exit non-zero); this file needs .ci/need-debian.sh beside it.
# shellcheck shell=bash
# shellcheck source=.ci/need-debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/need-debian.sh"

# --- mounts: every mount under a folder and on it, deepest first; nothing is ever deleted under a
# mount
mounts_under() {
  awk -v d="$1" 'index($2, d "/") == 1 || $2 == d { print $2 }' /proc/self/mounts | sort -r
}
unmount_under() {
  local m
  while read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m"
  done < <(mounts_under "$1")
}
remove_tree() {
  [ -e "$1" ] || return 0
  unmount_under "$1"
  [ -z "$(mounts_under "$1")" ] || die "still mounted under $1: not deleting it"
  rm -rf --one-file-system "$1"
}

# --- the machine's own Debian mirror, read from its apt sources
host_sources=/etc/apt/sources.list.d/debian.sources
mirror_for() {  # $1: a suite; prints the URI the host's apt sources use for it
  local uri=""
  if [ -f "$host_sources" ]; then
    uri="$(awk -v suite="$1" 'BEGIN { RS = ""; FS = "\n" } {
        u = ""; s = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, a, " "); u = a[2] }
          if ($i ~ /^Suites:/) { s = " " substr($i, 8) " " }
        }
        if (u != "" && index(s, " " suite " ")) { print u; exit }
      }' "$host_sources")"
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk -v suite="$1" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list)"
  fi
  echo "$uri"
}

# bootstrap SUITE ROOT MIRROR LOG [OPTION]...: debootstrap --variant=minbase (installed from
# Debian first when missing), its output in LOG; on failure the log's tail, and die.
bootstrap() {
  local suite="$1" root="$2" mirror="$3" log="$4"
  shift 4
  need_debian debootstrap debootstrap || die "no debootstrap"
  echo "debootstrap --variant=minbase $* $suite from $mirror"
  if ! debootstrap --variant=minbase "$@" "$suite" "$root" "$mirror" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "debootstrap of $suite from $mirror failed (log: $log): check that this machine reaches" \
      "the mirror and that it serves $suite"
  fi
}

# --- entering a root: the root a mount point of its own (as a container's is: `unshare
# --propagation` and `ip netns exec` remount / and fail with "Invalid argument" where it is not),
# /proc (without it torch, for one, cannot read the CPU's features), a read-only /sys, a minimal
# /dev, and the host's resolv.conf and hosts; `unmount_under ROOT` undoes it.
bind_file() {  # SOURCE TARGET: read-only
  [ -e "$2" ] || touch "$2"
  mount --bind "$1" "$2"
  mount -o remount,bind,ro "$2"
}
chroot_enter() {  # ROOT
  local root="$1" d
  mountpoint -q "$root" || mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount -t sysfs -o ro sysfs "$root/sys"
  mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
  for d in null zero full random urandom tty; do bind_file "/dev/$d" "$root/dev/$d"; done
  mkdir -p "$root/dev/shm" "$root/dev/pts"
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
  ln -s /proc/self/fd "$root/dev/fd"
  ln -s /proc/self/fd/0 "$root/dev/stdin"
  ln -s /proc/self/fd/1 "$root/dev/stdout"
  ln -s /proc/self/fd/2 "$root/dev/stderr"
  [ ! -L "$root/etc/resolv.conf" ] || rm -f "$root/etc/resolv.conf"
  bind_file /etc/resolv.conf "$root/etc/resolv.conf"
  bind_file /etc/hosts "$root/etc/hosts"
}
