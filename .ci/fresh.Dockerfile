# A new machine of this project's kind, for .ci/fresh.sh: Debian bookworm with what such a machine
# ships for this project (OpenJDK 17, Maven 3.8, gcc/g++ 12, cmake, make, git, Node.js, npm) and
# nothing more: no lint tools, no Python, no python3-torch, an empty HOME and Maven repository.
# nvcc is not a Debian package, so .ci/run skips its CUDA stage here (and says so).
# The build context is a clean clone of the commit under test; docker/run-in-chroot.sh runs this
# without a Docker engine (a debootstrapped root, as docker build would).
FROM debian:bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jdk-headless=17.* maven=3.8.* gcc-12 g++-12 gcc g++ cmake make git nodejs npm \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*

ENV CI=true
WORKDIR /src
COPY . .
RUN bash .ci/run
