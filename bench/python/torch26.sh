#!/usr/bin/env bash
# The second Python reference: Debian trixie's python3-torch (2.6) and python3-numpy, in a
# debootstrapped root cached outside the clone (the host keeps bookworm's torch 1.13):
#   bench/python/torch26.sh install     build the root unless a complete one is cached
#   bench/python/torch26.sh run [--ro DIR]... [--rw DIR]... SCRIPT [ARG]...
#                                       python3 SCRIPT ARG... in it (installs first if needed)
#   bench/python/torch26.sh remove      delete the cached root
# SCRIPT is a file of bench/python when it has no slash, else a path. In a run the repository is
# mounted read-only at its own path, as are every --ro DIR and the folder of a SCRIPT outside the
# repository; every --rw DIR (created when missing) is writable at its own path, as are the
# repository's java/target and bench/target; the
# run starts in the current folder when that is inside the repository, else in its root. The
# environment is the host's thread and allocator settings (OMP_*, OPENBLAS_*, MKL_*, KMP_*,
# GLIBC_TUNABLES), HOME, XDG_CACHE_HOME and ADAHESSIAN4J_*, so user folders resolve as on the host.
#
# Cache: ${ADAHESSIAN4J_TORCH26:-${XDG_CACHE_HOME:-$HOME/.cache}/adahessian4j/torch26}: root/,
# the stamp `complete` (written last, after torch imported inside with the CPU's features; it
# names the build's recipe, and a root without it or with another recipe is deleted and built
# again), debootstrap.log, and `lock` (a run holds it shared, a build exclusive). The build
# takes about 90 s and 1.5 GB, mostly download, from the machine's own Debian mirror (its apt
# sources). Needs root (debootstrap, mount, chroot); installs nothing on the host but debootstrap.
#
# The script runs in a mount namespace of its own (unshare), so every mount it makes (/proc,
# /sys, /dev, the folders above) is private to it and goes away when it exits, whether the run
# succeeds, fails or is interrupted: nothing stays mounted in the cache.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

die() { echo "torch26: $*" >&2; exit 1; }
usage() {
  echo "usage: $0 install | run [--ro DIR]... [--rw DIR]... SCRIPT [ARG]... | remove" >&2
  exit 2
}
[ $# -ge 1 ] || usage
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount and chroot): run it as root, e.g. with sudo"
shared_mounts=0
if [ -z "${TORCH26_PRIVATE_MOUNTS:-}" ]; then
  if mountpoint -q /; then
    TORCH26_PRIVATE_MOUNTS=1 exec unshare --mount --propagation private -- "$BASH" "$0" "$@"
  fi
  # In a chroot whose root is not a mount point (.ci/fresh.sh's), unshare cannot make "/" private
  # ("cannot change root filesystem propagation"): there the mounts are undone on the way out
  # instead (also on an interrupt), and runs take turns.
  shared_mounts=1
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi
unset TORCH26_PRIVATE_MOUNTS

# mounts_under, remove_tree, mirror_for, bootstrap, chroot_enter:
# shellcheck source=.ci/chroot.sh
source "$repo/.ci/chroot.sh"

SUITE=trixie
# With only its Depends, trixie's torch gets the reference BLAS (libblas3: slow, and its float32
# sums round unlike OpenBLAS's); the pthread OpenBLAS, as on the host (install-reference.sh),
# takes over libblas.so.3 through Debian's alternatives.
PACKAGES=python3-torch,python3-numpy,libopenblas0-pthread
TORCH_VERSION=2.6  # what trixie ships; a root with another torch is refused
NEED_MB=3000       # the root (1.3 GB) and debootstrap's downloaded packages beside it
recipe="debootstrap --variant=minbase --include=$PACKAGES $SUITE"
cache="${ADAHESSIAN4J_TORCH26:-${XDG_CACHE_HOME:-$HOME/.cache}/adahessian4j/torch26}"
root="$cache/root"
stamp="$cache/complete"

mkdir -p "$cache"
exec 9>"$cache/lock"

complete() { [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$recipe" ]; }

# The partial root of a build that did not finish is deleted on the way out.
building=0
cleanup() {
  local status=$?
  [ "$shared_mounts" = 0 ] || unmount_under "$root"
  if [ "$building" = 1 ]; then
    remove_tree "$root"
    echo "torch26: the partial root was deleted; the next install or run builds it again" >&2
  fi
  return $status
}
trap cleanup EXIT

build() {
  local mirror free_mb t0=$SECONDS
  mirror="$(mirror_for $SUITE)"
  [ -n "$mirror" ] || mirror="$(mirror_for bookworm)"
  [ -n "$mirror" ] || die "no Debian mirror in the apt sources ($host_sources, /etc/apt/sources.list):" \
    "add this machine's Debian mirror there (any bookworm or trixie entry; its URI serves $SUITE too)"
  rm -f "$stamp"
  remove_tree "$root"
  free_mb=$(($(df -Pk "$cache" | awk 'NR == 2 { print $4 }') / 1024))
  [ "$free_mb" -ge "$NEED_MB" ] || die "only $free_mb MB free on the disk of $cache; the root needs" \
    "about $NEED_MB MB: free some space, or set ADAHESSIAN4J_TORCH26 to a folder on a larger disk"
  building=1
  bootstrap $SUITE "$root" "$mirror" "$cache/debootstrap.log" --include=$PACKAGES
  rm -rf "${root:?}/var/cache/apt/archives/"*.deb
  chroot_enter "$root"
  local found
  # torch's version, numpy's, the CPU features torch found, and the BLAS a matrix product loaded
  found="$(inside python3 -c 'import numpy, torch
torch.ones(2, 2) @ torch.ones(2, 2)
blas = sorted({m.split()[-1] for m in open("/proc/self/maps") if "libblas" in m})
print(torch.__version__, numpy.__version__, torch.backends.cpu.get_cpu_capability(), *blas)')" ||
    die "torch is missing or broken in the new root (python3 -c 'import torch, numpy' failed, above):" \
      "check that $mirror serves $SUITE's $PACKAGES (log: $cache/debootstrap.log)"
  case "$found" in
    "$TORCH_VERSION".*) ;;
    *) die "$SUITE's torch is ${found%% *}, not $TORCH_VERSION: this script's reference is torch $TORCH_VERSION" ;;
  esac
  case "$found" in
    *openblas*) ;;
    *) die "torch in the new root does not use OpenBLAS ($found): check libopenblas0-pthread's alternative" ;;
  esac
  printf '%s\ntorch numpy cpu blas: %s\nbuilt in %s s from %s\n' "$recipe" "$found" "$((SECONDS - t0))" "$mirror" >"$stamp"
  building=0
  echo "torch26: root ready in $root ($(du -shx "$root" | cut -f1), $((SECONDS - t0)) s): torch numpy cpu blas: $found"
}

# inside COMMAND...: COMMAND in the entered root, with the host's settings
inside() {
  local env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "HOME=$HOME")
  local name
  while IFS= read -r name; do
    case "$name" in
      OMP_*|OPENBLAS_*|MKL_*|KMP_*|GLIBC_TUNABLES|XDG_CACHE_HOME|ADAHESSIAN4J_*) env+=("$name=${!name}") ;;
    esac
  done < <(compgen -e)
  chroot "$root" /usr/bin/env -i "${env[@]}" "$@"
}

ensure() {  # a complete root, then hold the lock shared for the run
  flock -s 9
  complete && return 0
  flock -x 9
  complete || build
  flock -s 9
}

bind() {  # DIR ro|rw: DIR at its own path in the root
  local dir="$1" mode="$2"
  mkdir -p "$root$dir"
  mount --bind "$dir" "$root$dir"
  [ "$mode" = rw ] || mount -o remount,bind,ro "$root$dir"
}

run() {
  local ro=() rw=("$repo/java/target" "$repo/bench/target") d
  while [ $# -gt 0 ]; do
    case "$1" in
      --ro) [ $# -ge 2 ] || usage; [ -d "$2" ] || die "--ro $2: no such folder"; ro+=("$(realpath "$2")"); shift 2 ;;
      --rw) [ $# -ge 2 ] || usage; rw+=("$(realpath -m "$2")"); shift 2 ;;
      -*) usage ;;
      *) break ;;
    esac
  done
  [ $# -ge 1 ] || usage
  local script="$1"
  shift
  case "$script" in */*) ;; *) script="$here/$script" ;; esac
  [ -f "$script" ] || die "no script $script"
  script="$(realpath "$script")"
  case "$script" in "$repo"/*) ;; *) ro+=("$(dirname "$script")") ;; esac
  ensure
  [ "$shared_mounts" = 0 ] || flock -x 9
  chroot_enter "$root"
  bind "$repo" ro
  for d in ${ro[@]+"${ro[@]}"}; do bind "$d" ro; done
  for d in "${rw[@]}"; do mkdir -p "$d"; bind "$d" rw; done
  local cwd="$repo"
  case "$PWD/" in "$repo"/*) cwd="$PWD" ;; esac
  local status=0
  # shellcheck disable=SC2016  # expanded by the root's shell
  inside /bin/sh -c 'cd "$1" && shift && exec python3 "$@"' sh "$cwd" "$script" "$@" || status=$?
  if [ "$status" -ne 0 ] && ! inside python3 -c 'import numpy, torch' >/dev/null 2>&1; then
    die "torch is missing or broken in $root (python3 -c 'import torch, numpy' fails there):" \
      "build the root again: $0 remove, then $0 install"
  fi
  return "$status"
}

case "$1" in
  install) [ $# -eq 1 ] || usage; ensure; echo "torch26: $(sed -n 2p "$stamp") ($root)" ;;
  run) shift; run "$@" ;;
  remove) [ $# -eq 1 ] || usage; flock -x 9; rm -f "$stamp"; remove_tree "$root"; echo "torch26: removed $root" ;;
  *) usage ;;
esac
