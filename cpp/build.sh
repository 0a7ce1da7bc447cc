#!/usr/bin/env bash
# Builds the native core libah4j.so.  Usage: cpp/build.sh TORCH_LIB_DIR OUTPUT_DIR [--cuda]
# TORCH_LIB_DIR holds the libtorch shared libraries to link against (the presets build unpacks
# them from the org.bytedeco:pytorch jar); OUTPUT_DIR receives libah4j.so.
# --cuda adds the CUDA kernels (needs nvcc) and builds in its own folder. The environment variable
# CUDAARCHS overrides the architectures, "80-real;90": sm_80 and sm_90 code plus compute_90 PTX.
# Compiler warnings fail the build; AH4J_WERROR=OFF in the environment makes them warnings again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
torch_lib="$(realpath "$1")"
out="$(realpath -m "$2")"
cuda="${3:-}"
include="$("$here/fetch-shim-headers.sh")"
build="$here/target/build"
options=()
if [ "$cuda" = "--cuda" ]; then
  build="$here/target/build-cuda"
  if ! command -v nvcc >/dev/null && [ -z "${CUDACXX:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
    export CUDACXX=/usr/local/cuda/bin/nvcc
  fi
  options=(-DAH4J_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=${CUDAARCHS:-80-real;90}")
elif [ -n "$cuda" ]; then
  echo "usage: $0 TORCH_LIB_DIR OUTPUT_DIR [--cuda]" >&2; exit 2
fi
cmake -S "$here" -B "$build" -DTORCH_SHIM_INCLUDE_DIR="$include" \
  -DTORCH_LIB_DIR="$torch_lib" -DCMAKE_BUILD_TYPE=Release "-DAH4J_WERROR=${AH4J_WERROR:-ON}" \
  ${options[@]+"${options[@]}"} >/dev/null
cmake --build "$build" --parallel 2
mkdir -p "$out"
cp "$build/libah4j.so" "$out/"
