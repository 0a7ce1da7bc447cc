#!/usr/bin/env bash
# GPU verification of the native core, in one run, on a machine with a GPU, nvcc, Python torch
# >= 2.6 built with CUDA (run on an H200 with torch 2.11+cu130), and no JDK: builds libah4j.so
# with its CUDA kernels (sm_90 by default; CUDAARCHS overrides), runs verify.py (checks, then
# benchmarks), then the kernel checks again under compute-sanitizer's memcheck. Outputs:
# build.log, verify.log, results.json and sanitizer.log in $OUT if set (the device tool's output
# folder), else in bench/gpu/results/.
#   bench/gpu/run.sh               the real run
#   bench/gpu/run.sh --build-only  only the build (AH4J_NO_CMAKE=1: without CMake, by hand)
#   bench/gpu/run.sh --fake-shim   a dry run of the CPU half with a torch older than 2.6 (no shim):
#                                  the core is linked against bench/gpu/fake_shim.c instead;
#                                  outputs in bench/gpu/target/fake/
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${OUT:-$here/results}"
build="$here/target"
py="${PYTHON:-python3}"
mkdir -p "$build"

if [ "${1:-}" = "--fake-shim" ]; then
  out="${OUT:-$build/fake}"
  include="$("$root/cpp/fetch-shim-headers.sh")"  # c10's Half/BFloat16 headers
  mkdir -p "$build/fake"
  gcc -shared -fPIC -O2 "$here/fake_shim.c" -o "$build/fake/libah4j_fake_shim.so"
  # shellcheck disable=SC2016  # $ORIGIN is for the dynamic linker, not the shell
  g++ -std=c++17 -O3 -fopenmp -fno-math-errno -ffp-contract=off -shared -fPIC -I"$root/cpp/include" -I"$include" \
    "$root/cpp/src/tensors.cpp" "$root/cpp/src/entry_points.cpp" "$root/cpp/src/cpu/cpu_steps.cpp" \
    -o "$build/fake/libah4j.so" \
    -L"$build/fake" -lah4j_fake_shim -Wl,-rpath,'$ORIGIN'
  exec "$py" "$here/verify.py" --lib "$build/fake/libah4j.so" \
    --fake-shim "$build/fake/libah4j_fake_shim.so" --cpu-only --pretend-gpu --smoke-bench --out "$out"
fi

mkdir -p "$out"
start=$SECONDS
torch_dir="$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
# Headers: libtorch 2.6's shim if this tree has them (cpp/fetch-shim-headers.sh, what releases are
# built against), else the running torch's own.
include="$root/cpp/target/shim/root/usr/include"
[ -f "$include/torch/csrc/inductor/aoti_torch/c/shim.h" ] || include="$torch_dir/include"
# The libraries to link against, under the names cpp/CMakeLists.txt expects.
libs="$build/torchlib"
mkdir -p "$libs"
ln -sf "$torch_dir/lib/libtorch_cpu.so" "$libs/libtorch_cpu.so"
ln -sf "$torch_dir/lib/libc10.so" "$libs/libc10.so"
# shellcheck disable=SC2012  # ls sorts both folders' matches as one list; the names are libgomp's
gomp="$(ls "$torch_dir"/lib/libgomp*.so* "$torch_dir"/../torch.libs/libgomp*.so* 2>/dev/null | head -1 || true)"
[ -n "$gomp" ] || gomp="$(g++ -print-file-name=libgomp.so.1)"
ln -sf "$gomp" "$libs/libgomp.so.1"
nvcc="$(command -v nvcc || true)"
[ -n "$nvcc" ] || nvcc=/usr/local/cuda/bin/nvcc
archs="${CUDAARCHS:-90}"
lib="$build/build/libah4j.so"

build_core() {  # $1: the shim headers to build against
  local include="$1"
  rm -rf "$build/build"
  echo "torch: $torch_dir; headers: $include; libgomp: $gomp; nvcc: $nvcc; archs: $archs"
  "$nvcc" --version | tail -2
  if command -v cmake >/dev/null && [ -z "${AH4J_NO_CMAKE:-}" ]; then
    cmake -S "$root/cpp" -B "$build/build" -DAH4J_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" \
      "-DCMAKE_CUDA_ARCHITECTURES=$archs" -DAH4J_NVCC_THREADS=4 -DCMAKE_BUILD_TYPE=Release \
      "-DAH4J_WERROR=${AH4J_WERROR:-OFF}" \
      -DTORCH_SHIM_INCLUDE_DIR="$include" -DTORCH_LIB_DIR="$libs"
    cmake --build "$build/build" --parallel 8
  else
    # No CMake: the same compilation by hand.
    mkdir -p "$build/build"
    local gencode=() a f
    for a in ${archs//;/ }; do
      a="${a%-real}"
      gencode+=("-gencode=arch=compute_$a,code=sm_$a")
      [ "$a" = "${archs##*;}" ] && gencode+=("-gencode=arch=compute_$a,code=compute_$a")
    done
    "$nvcc" -std=c++17 -O3 --fmad=false -Xcompiler=-fPIC "${gencode[@]}" -DAH4J_WITH_CUDA=1 \
      -I"$root/cpp/include" -I"$include" -c "$root/cpp/src/cuda/kernels.cu" -o "$build/build/kernels.o"
    for f in tensors entry_points cpu/cpu_steps; do  # the C++ sources that cpp/CMakeLists.txt lists
      g++ -std=c++17 -O3 -fPIC -fopenmp -fno-math-errno -ffp-contract=off -DAH4J_WITH_CUDA=1 -I"$root/cpp/include" \
        -I"$include" -c "$root/cpp/src/$f.cpp" -o "$build/build/$(basename "$f").o"
    done
    # nvcc links (through g++) with the static CUDA runtime, as CMake does.
    "$nvcc" -shared -cudart=static "${gencode[@]}" -o "$lib" "$build/build"/*.o \
      -Xlinker "$libs/libtorch_cpu.so" -Xlinker "$libs/libc10.so" -Xlinker "$libs/libgomp.so.1" \
      -ldl -lrt -lpthread
  fi
}

loads() {  # the core loads into this torch (every shim symbol it needs is there)
  "$py" -c 'import ctypes, sys, torch; ctypes.CDLL(sys.argv[1])' "$lib"
}

{
  build_core "$include"
  if ! loads; then
    [ "$include" != "$torch_dir/include" ] || { echo "the core does not load into this torch"; exit 1; }
    echo "the core built against $include does not load into this torch: again with its own headers"
    build_core "$torch_dir/include"
    loads
  fi
  echo "build: $((SECONDS - start)) s"
} 2>&1 | tee "$out/build.log"  # under set -e and pipefail a failed build ends the script here

[ "${1:-}" = "--build-only" ] && exit 0
status=0
"$py" "$here/verify.py" --lib "$lib" --out "$out" 2>&1 | tee "$out/verify.log" || status=$?
# The kernels under compute-sanitizer's memcheck (out-of-bounds and misaligned accesses), on the
# check sections that run every kernel (the kernel checks, without the torch comparisons and
# benchmarks), where the tool is there; bounded in time, and reported, not fatal (it does not run
# on every kind of machine).
if [ -z "${AH4J_NO_SANITIZER:-}" ] && command -v compute-sanitizer >/dev/null; then
  timeout "${AH4J_SANITIZER_TIMEOUT:-150}" compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$py" "$here/verify.py" --lib "$lib" --out "$build/sanitizer" \
    --only "probes,hutchinson,adahessian,adahessian many,adam" > "$out/sanitizer.log" 2>&1 || sanitizer=$?
  echo "compute-sanitizer memcheck: exit ${sanitizer:-0} (0: clean, 9: memcheck errors, 124: timed out, 1: a check failed)" \
    | tee -a "$out/sanitizer.log"
fi
exit "$status"
