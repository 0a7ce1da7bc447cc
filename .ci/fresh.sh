#!/usr/bin/env bash
# Runs .ci/run as CI would on a new machine of this kind: in a freshly debootstrapped Debian
# bookworm root holding only what such a machine ships (.ci/fresh.Dockerfile: OpenJDK 17, Maven
# 3.8, gcc/g++ 12, cmake, make, git, Node.js and npm), on a clean clone of a commit, with an empty
# HOME and Maven repository. A green .ci/run on a used machine hides a missing install step; this
# run shows it. The host's local certificate authorities go in too (the registries are reached
# through them on a machine of this kind). Needs root (debootstrap, chroot, mounts) and the Debian mirror of the host's apt
# sources; reuses docker/run-in-chroot.sh (no Docker engine).
#   .ci/fresh.sh [REF]     REF: the commit to test (default HEAD; uncommitted changes are not in it)
# Log: target/fresh/fresh.log. Prints the total time; exits with .ci/run's failure as a failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
ref="${1:-HEAD}"
out="$repo/target/fresh"
[ "$(id -u)" -eq 0 ] || { echo "fresh.sh: needs root (debootstrap, chroot and mounts)" >&2; exit 1; }
commit="$(git -C "$repo" rev-parse --verify "$ref^{commit}")" ||
  { echo "fresh.sh: $ref is not a commit of $repo" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
clone="$out/context/src"
mkdir -p "$out/context/ca"
cp /usr/local/share/ca-certificates/*.crt "$out/context/ca/" 2>/dev/null ||
  echo "fresh.sh: the host has no local certificate authorities (/usr/local/share/ca-certificates)"
git clone --quiet --no-local --no-checkout "$repo" "$clone"
git -C "$clone" checkout --quiet --detach "$commit"
started=$SECONDS
echo "fresh.sh: .ci/run of $(git -C "$clone" log -1 --format='%h %s') in a fresh bookworm root"
echo "fresh.sh: no nvcc there (not a Debian package): .ci/run skips its CUDA stage"
status=0
"$repo/docker/run-in-chroot.sh" --fresh-base "$repo/.ci/fresh.Dockerfile" "$out/context" 2>&1 |
  tee "$out/fresh.log" || status=$?
elapsed=$((SECONDS - started))
if [ "$status" -eq 0 ]; then
  echo "fresh.sh: PASSED in ${elapsed} s ($((elapsed / 60)) min), log $out/fresh.log"
else
  echo "fresh.sh: FAILED (exit $status) after ${elapsed} s, log $out/fresh.log" >&2
fi
exit "$status"
