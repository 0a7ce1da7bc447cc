#!/usr/bin/env bash
# Builds a Dockerfile without a Docker engine (none is reachable here; Debian's registry is), so
# that CI executes what `docker build` would:
#   docker/run-in-chroot.sh [--target STAGE] [--build-arg NAME=VALUE]... [--maven-repo DIR]
#                           [--fresh-base] DOCKERFILE [CONTEXT]
# CONTEXT defaults to the repository root, as in the Dockerfiles' `docker build -f ... .`.
# docker/dockerfile_plan.py parses the Dockerfile (FROM, ARG, ENV, WORKDIR, COPY, RUN; anything
# else is refused, or reported as metadata) into a plan that this script runs:
# - FROM debian:bookworm* starts from `debootstrap --variant=minbase bookworm` (the machine's own
#   Debian mirror, read from its apt sources as cpp/fetch-shim-headers.sh reads it), made like
#   the official image: its deb822 sources (bookworm, bookworm-updates, bookworm-security), the
#   image's apt/dpkg settings, no package lists; a -slim tag also gets the slim variant's dpkg
#   excludes (no docs, man pages, locales). The debootstrapped root is cached in
#   docker/target/chroot/ (--fresh-base makes it again). The packages are the mirror's current
#   bookworm, not the snapshot of the tag's date. FROM an earlier stage copies that stage's root.
#   Any other base (the CUDA image's Ubuntu) cannot be built here: a stage on one fails, unless
#   the target does not need it; then its instructions are listed as unexecuted, and its COPY
#   sources checked.
# - COPY copies from the build context as Docker sends it (DOCKERFILE.dockerignore next to the
#   Dockerfile, as BuildKit reads it, else CONTEXT/.dockerignore), or from an earlier stage's
#   root, owned by root.
# - RUN runs `/bin/sh -c` (or the exec form's argv) in a chroot of the stage's root, in WORKDIR,
#   with only Docker's environment (PATH, HOME, the stage's ARG and ENV values) and no stdin;
#   /proc, a read-only /sys, a minimal /dev, and the host's resolv.conf and hosts are mounted
#   for the command and unmounted after it (and on any exit). A policy-rc.d keeps package
#   scripts from starting services while the stage builds.
# --maven-repo DIR seeds /root/.m2/repository of every stage built from a base image with a copy
# of DIR (this project's own artifacts left out), so Maven in the chroot resolves what the host
# already downloaded from the same registry, and downloads only what is missing.
# Outputs: docker/target/chroot/<Dockerfile>/stage-N/root, and image -> the target stage's root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

usage() {
  echo "usage: $0 [--target STAGE] [--build-arg NAME=VALUE]... [--maven-repo DIR] [--fresh-base] DOCKERFILE [CONTEXT]" >&2
  exit 2
}
target="" maven_repo="" fresh=0 build_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) [ $# -ge 2 ] || usage; target="$2"; shift 2 ;;
    --build-arg) [ $# -ge 2 ] || usage; build_args+=("$2"); shift 2 ;;
    --maven-repo) [ $# -ge 2 ] || usage; maven_repo="$(realpath "$2")"; shift 2 ;;
    --fresh-base) fresh=1; shift ;;
    -*) usage ;;
    *) break ;;
  esac
done
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
dockerfile="$(realpath "$1")"
context="$(realpath "${2:-$repo}")"
work="$here/target/chroot/$(basename "$dockerfile")"
base="$here/target/chroot/base-bookworm-minbase"
started=$SECONDS

die() { echo "run-in-chroot: $*" >&2; exit 1; }
# mounts_under, unmount_under, remove_tree, mirror_for, bootstrap, chroot_enter:
# shellcheck source=.ci/chroot.sh
source "$repo/.ci/chroot.sh"

current_root=""
cleanup() {
  local status=$?
  if [ -n "$current_root" ]; then
    unmount_under "$current_root"
    [ -f "$current_root/usr/sbin/policy-rc.d.run-in-chroot" ] &&
      rm -f "$current_root/usr/sbin/policy-rc.d" "$current_root/usr/sbin/policy-rc.d.run-in-chroot"
  fi
  [ $status -eq 0 ] || echo "run-in-chroot: FAILED after $((SECONDS - started)) s" >&2
}
trap cleanup EXIT

# --- the base image
make_base() {
  local mirror security t0=$SECONDS
  mirror="$(mirror_for bookworm)"
  [ -n "$mirror" ] || mirror="$(mirror_for trixie)"
  [ -n "$mirror" ] || die "no Debian mirror in the apt sources"
  security="$(mirror_for bookworm-security)"
  remove_tree "$base"
  mkdir -p "$base"
  bootstrap bookworm "$base/root" "$mirror" "$base/debootstrap.log"
  local r="$base/root"
  # The official image's package sources (deb822), on this machine's mirror.
  rm -f "$r/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$mirror"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$security"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$r/etc/apt/sources.list.d/debian.sources"
  [ -n "$security" ] || echo "note: the host has no bookworm-security source; the image's is left out"
  # The official image's apt and dpkg settings (debuerreotype's minimizing config).
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
  printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' >"$r/etc/apt/apt.conf.d/docker-clean"
  echo 'Acquire::GzipIndexes "true";' >"$r/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  echo 'force-unsafe-io' >"$r/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  # How this machine reaches its mirror (a snapshot's Release files may have expired, a proxy):
  # the host's own apt settings for it, so that the image's apt-get update works here.
  apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) ' \
    >"$r/etc/apt/apt.conf.d/99host-mirror" || rm -f "$r/etc/apt/apt.conf.d/99host-mirror"
  # An image has no package lists, no downloaded packages, and gets resolv.conf from the runtime.
  rm -rf "$r/var/lib/apt/lists/"* "$r/var/cache/apt/archives/"*.deb "$r/var/log/bootstrap.log"
  mkdir -p "$r/var/lib/apt/lists/partial"
  : >"$r/etc/resolv.conf"
  touch "$base/complete"
  echo "base image: $((SECONDS - t0)) s"
}

slim() {  # $1: root; the slim variant as debuerreotype makes it: dpkg excludes these paths, the
  # files there now are removed, and the man[0-9] folders are kept (since 2021: without them the
  # postinst of openjdk's packages fails to make its man page alternatives)
  local r="$1" d man=()
  local excludes=(usr/share/doc usr/share/info usr/share/linda usr/share/lintian/overrides
                  usr/share/locale usr/share/man)
  local includes=('/usr/share/doc/*/copyright' /usr/share/locale/all_languages
                  '/usr/share/locale/currency/*' '/usr/share/locale/l10n/*'
                  /usr/share/locale/languages /usr/share/locale/locale.alias)
  {
    echo '# The "slim" variant of the Debian base image (as docker/run-in-chroot.sh makes it).'
    for d in "${excludes[@]}"; do echo "path-exclude /$d/*"; done
    echo 'path-exclude /usr/share/doc/kde/HTML/*/*'
    echo 'path-exclude /usr/share/gnome/help/*/*'
    echo 'path-exclude /usr/share/omf/*/*-*.emf'
    printf 'path-include %s\n' "${includes[@]}" '/usr/share/doc/kde/HTML/C/*' \
      '/usr/share/gnome/help/*/C/*' '/usr/share/omf/*/*-C.emf'
  } >"$r/etc/dpkg/dpkg.cfg.d/docker"
  for d in "$r"/usr/share/man/man[0-9]; do [ -d "$d" ] && man+=("$d"); done
  local keep=()
  for d in "${includes[@]}"; do keep+=(! -path "$r$d"); done
  for d in "${excludes[@]}"; do
    [ -d "$r/$d" ] || continue
    find "$r/$d" -mindepth 1 \( -type f -o -type l \) "${keep[@]}" -delete
    find "$r/$d" -mindepth 1 -depth -type d -empty -delete
  done
  [ ${#man[@]} -eq 0 ] || mkdir -p "${man[@]}"
}

# --- the plan's steps
root="" stage_started=0 context_dir=""
ensure_context() {
  [ -z "$context_dir" ] || return 0
  context_dir="$work/context"
  local ignore="$dockerfile.dockerignore"
  [ -f "$ignore" ] || ignore="$context/.dockerignore"
  mkdir -p "$context_dir"
  # never this script's own outputs (the stage roots hold the context copy and device nodes)
  python3 "$here/dockerfile_plan.py" context "$context" "$ignore" "$context_dir" "$here/target/chroot"
}

stage() {  # INDEX LABEL IMAGE BASE_STAGE LINE
  stage_started=$SECONDS
  root="$work/stage-$1/root"
  echo "== stage $1 ($2), line $5: FROM $3"
  mkdir -p "$work/stage-$1"
  if [ -n "$4" ]; then
    cp -a "$work/stage-$4/root" "$root"
  else
    case "$3" in
      debian:bookworm|debian:bookworm-*|debian:12|debian:12-*|debian:12.*) ;;
      *) die "line $5: FROM $3: only debian:bookworm bases (debootstrap) and earlier stages can be built here" ;;
    esac
    if [ "$fresh" = 1 ] || [ ! -f "$base/complete" ]; then make_base; fresh=0; fi
    cp -a "$base/root" "$root"
    case "$3" in *slim*) slim "$root" ;; esac
    if [ -n "$maven_repo" ]; then
      mkdir -p "$root/root/.m2/repository"
      cp -a --reflink=auto "$maven_repo/." "$root/root/.m2/repository/"
      rm -rf "$root/root/.m2/repository/io/github/adahessian4j"
      echo "   Maven repository seeded from $maven_repo ($(du -sh "$root/root/.m2/repository" | cut -f1))"
    fi
  fi
  current_root="$root"
  echo "   root ready: $((SECONDS - stage_started)) s"
  if [ ! -e "$root/usr/sbin/policy-rc.d" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    touch "$root/usr/sbin/policy-rc.d.run-in-chroot"
  fi
}

end_stage() {  # INDEX BUILT
  [ "$2" = 1 ] || return 0
  if [ -f "$root/usr/sbin/policy-rc.d.run-in-chroot" ]; then
    rm -f "$root/usr/sbin/policy-rc.d" "$root/usr/sbin/policy-rc.d.run-in-chroot"
  fi
  current_root=""
  echo "== stage $1: $((SECONDS - stage_started)) s"
}

enter() { chroot_enter "$root"; }
leave() { unmount_under "$root"; }

step_done() {  # LINE STATUS START
  leave
  [ "$2" -eq 0 ] || die "line $1 failed (exit $2) after $((SECONDS - $3)) s"
  echo "   ($((SECONDS - $3)) s)"
}

run_shell() {  # LINE TEXT WORKDIR COMMAND N ENV...
  local line="$1" text="$2" dir="$3" command="$4" n="$5" t0=$SECONDS status=0
  shift 5
  echo "-- line $line: $text"
  enter
  # shellcheck disable=SC2016  # expanded by the chroot's shell
  chroot "$root" /usr/bin/env -i "${@:1:$n}" /bin/sh -c 'cd "$1" || exit 1; exec /bin/sh -c "$2"' \
    sh "$dir" "$command" </dev/null || status=$?
  step_done "$line" "$status" "$t0"
}

run_exec() {  # LINE TEXT WORKDIR N ENV... ARGV...
  local line="$1" text="$2" dir="$3" n="$4" t0=$SECONDS status=0
  shift 4
  echo "-- line $line: $text"
  enter
  # shellcheck disable=SC2016  # expanded by the chroot's shell
  chroot "$root" /usr/bin/env -i "${@:1:$n}" /bin/sh -c 'cd "$0" || exit 1; exec "$@"' \
    "$dir" "${@:$((n + 1))}" </dev/null || status=$?
  step_done "$line" "$status" "$t0"
}

workdir() {  # LINE TEXT PATH
  echo "-- line $1: $2"
  mkdir -p "$root$3"
}

copy() {  # LINE TEXT FROM_STAGE DEST SOURCE...
  local line="$1" text="$2" from="$3" dest="$4" src
  shift 4
  echo "-- line $line: $text"
  if [ -n "$from" ]; then
    src="$work/stage-$from/root"
  else
    ensure_context
    src="$context_dir"
  fi
  python3 "$here/dockerfile_plan.py" copy "$src" "$root" "$dest" "$@" || die "line $line failed"
}

note() { echo "-- line $1: $2: $3, nothing to run"; }

unexecuted_stage() {  # INDEX LABEL IMAGE BASE_STAGE LINE
  root=""
  case "$3" in
    debian:bookworm*|debian:12*) echo "== stage $1 ($2), line $5: FROM $3: not needed for the target" ;;
    *) echo "== stage $1 ($2), line $5: FROM $3: UNEXECUTED (this base cannot be built without an engine)" ;;
  esac
}

unexecuted() { echo "   unexecuted: line $1: $2"; }

unexecuted_copy() {  # LINE TEXT FROM_STAGE DEST SOURCE...: check that its sources are there
  local line="$1" text="$2" from="$3" src s
  shift 4
  if [ -n "$from" ]; then
    src="$work/stage-$from/root"
    [ -d "$src" ] || { echo "   unexecuted: line $line: $text (stage $from not built)"; return; }
  else
    ensure_context
    src="$context_dir"
  fi
  for s in "$@"; do
    [[ "$s" == *[*?[]* ]] && continue
    [ -e "$src/${s#/}" ] || die "line $line: $text: $s is missing"
  done
  echo "   unexecuted: line $line: $text (its sources are there)"
}

target_stage() {
  ln -sfn "stage-$1/root" "$work/image"
  echo "image root: $work/image ($(du -sh "$work/stage-$1/root" | cut -f1)); total $((SECONDS - started)) s"
}

# --- parse, then run
args_json="$(python3 -c 'import json, sys; print(json.dumps([a.split("=", 1) for a in sys.argv[1:]]))' \
  ${build_args[@]+"${build_args[@]}"})"
remove_tree "$work"
mkdir -p "$work"
python3 "$here/dockerfile_plan.py" plan "$dockerfile" "$target" "$args_json" >"$work/plan.sh"
echo "run-in-chroot: $dockerfile (context $context), plan in $work/plan.sh"
# shellcheck source=/dev/null
source "$work/plan.sh"
