#!/usr/bin/env bash
# CI check of the CUDA build, for machines with nvcc and no GPU: builds the core with the CUDA
# kernels (cpp/build.sh --cuda: sm_80, sm_90 and compute_90 PTX), checks that the library holds
# that GPU code, and runs cpp/test/host_test.cpp (the launch planner, and the device dispatch of
# the C API without a GPU) against the CUDA build and the CPU build.
#   cpp/build-cuda.sh [TORCH_LIB_DIR]
# TORCH_LIB_DIR: libtorch_cpu.so, libc10.so and libgomp.so.1 (default: the ones the presets build
# unpacked; else they are taken from the local Maven repository's org.bytedeco:pytorch jar).
# Outputs land in cpp/target/cuda-check/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/target/cuda-check"
torch_lib="${1:-}"
[ -f "$torch_lib/libtorch_cpu.so" ] || torch_lib="$("$here/torch-libs.sh" "$out/torch")"
torch_lib="$(realpath "$torch_lib")"

start=$SECONDS
"$here/build.sh" "$torch_lib" "$out/cuda" --cuda
echo "CUDA build: $((SECONDS - start)) s"
python3 "$here/test/fatbin_archs.py" "$out/cuda/libah4j.so" --expect sm_80,sm_90,compute_90
"$here/build.sh" "$torch_lib" "$out/cpu"

include="$("$here/fetch-shim-headers.sh")"
g++ -std=c++17 -O1 -Wall -Wextra -Werror -rdynamic -I"$here/include" -I"$include" \
  "$here/test/host_test.cpp" -o "$out/host_test" \
  -L"$out/cuda" -lah4j "$torch_lib/libtorch_cpu.so" "$torch_lib/libc10.so" -ldl
for flavour in cuda cpu; do
  echo "host_test against the $flavour build:"
  OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH="$out/$flavour:$torch_lib" "$out/host_test"
done
