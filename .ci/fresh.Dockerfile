# A new machine of this project's kind, for .ci/fresh.sh: Debian bookworm with what such a machine
# ships for this project (OpenJDK 17, Maven 3.8, gcc/g++ 12, cmake, make, git, Node.js, npm) and
# nothing more: no lint tools, no Python, no python3-torch, an empty HOME and Maven repository.
# nvcc is not a Debian package, so .ci/run skips its CUDA stage here (and says so).
# The build context (made by .ci/fresh.sh): src/, a clean clone of the commit under test, and ca/,
# the machine's own certificate authorities (/usr/local/share/ca-certificates): a machine of this
# kind reaches the registries through them, and sets the variables below to the bundle they join.
# docker/run-in-chroot.sh runs this without a Docker engine (a debootstrapped root, as docker
# build would).
FROM debian:bookworm

COPY ca/ /usr/local/share/ca-certificates/
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    GIT_SSL_CAINFO=/etc/ssl/certs/ca-certificates.crt \
    CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jdk-headless=17.* maven=3.8.* gcc-12 g++-12 gcc g++ cmake make git nodejs npm \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# A machine of this kind runs with LANG=C.UTF-8 (the javadoc options are ASCII all the same:
# without LANG the javadoc plugin wrote them in ASCII and failed on a copyright sign).
ENV CI=true LANG=C.UTF-8
WORKDIR /src
COPY src/ .
RUN bash .ci/run
