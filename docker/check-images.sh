#!/usr/bin/env bash
# CI check of the Dockerfiles, executed without a Docker engine (docker/run-in-chroot.sh):
# 1. docker/Dockerfile.cpu, every instruction, on a debootstrapped bookworm; its Maven build is
#    seeded with this machine's Maven repository (what the host build below downloaded). Its jars
#    must be the host's `mvn -pl presets -am package` jars (docker/compare_jars.py says how).
# 2. docker/Dockerfile.cuda's Debian stage (shim: libtorch's C-shim headers). Its Ubuntu/CUDA
#    stage cannot be built here: its instructions are listed as unexecuted, its COPY sources
#    checked (CI runs that stage's commands on the host where nvcc is; see .ci/run).
# The image roots stay in docker/target/chroot/ until the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
maven_repo="${MAVEN_REPO:-$HOME/.m2/repository}"
start=$SECONDS
# The host's jars, as the Dockerfile's RUN line makes them (and the artifacts that build needs).
mvn -B -q -pl presets -am package -DskipTests
docker/run-in-chroot.sh --maven-repo "$maven_repo" docker/Dockerfile.cpu
python3 docker/compare_jars.py presets/target "$PWD" \
  docker/target/chroot/Dockerfile.cpu/image/src/presets/target /src
docker/run-in-chroot.sh --target shim docker/Dockerfile.cuda
echo "Dockerfiles executed in chroots: $((SECONDS - start)) s"
