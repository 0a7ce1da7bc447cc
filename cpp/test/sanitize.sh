#!/usr/bin/env bash
# The host tests (cpp/test/host_test.cpp: every C entry point, 4 dtypes, every instruction set, the
# CUDA launch planner and the device dispatch) against a CPU build of the core, both compiled with
# AddressSanitizer and UndefinedBehaviorSanitizer; the first finding ends the run with an error.
#   cpp/test/sanitize.sh [TORCH_LIB_DIR]
# TORCH_LIB_DIR as for cpp/build-cuda.sh (default: the presets build's, else the Maven jar's).
# The core is built by its CMakeLists (same sources and flags as the release build, -O3 included)
# with the sanitizers added. libtorch itself is not instrumented: ASan still checks every access
# our code makes to the memory libtorch allocates (its allocations go through ASan's malloc).
# Outputs in cpp/target/sanitize/.
set -euo pipefail
cpp="$(cd "$(dirname "$0")/.." && pwd)"
out="$cpp/target/sanitize"
torch_lib="${1:-}"
[ -f "$torch_lib/libtorch_cpu.so" ] || torch_lib="$("$cpp/torch-libs.sh")"
torch_lib="$(realpath "$torch_lib")"
include="$("$cpp/fetch-shim-headers.sh")"
sanitize=("-fsanitize=address,undefined" -fno-sanitize-recover=all -fno-omit-frame-pointer -g)

start=$SECONDS
cmake -S "$cpp" -B "$out/build" -DTORCH_SHIM_INCLUDE_DIR="$include" -DTORCH_LIB_DIR="$torch_lib" \
  -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS=${sanitize[*]}" \
  "-DCMAKE_SHARED_LINKER_FLAGS=${sanitize[*]}" >/dev/null
cmake --build "$out/build" --parallel 2
g++ -std=c++17 -O1 -Wall -Wextra -Werror "${sanitize[@]}" -rdynamic -I"$cpp/include" -I"$include" \
  "$cpp/test/host_test.cpp" -o "$out/host_test" \
  -L"$out/build" -lah4j "$torch_lib/libtorch_cpu.so" "$torch_lib/libc10.so" -ldl
echo "sanitizer build: $((SECONDS - start)) s"
# LeakSanitizer is on too (ASan's default here): the run leaks nothing.
ASAN_OPTIONS="detect_stack_use_after_return=1:${ASAN_OPTIONS:-}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH="$out/build:$torch_lib" "$out/host_test"
echo "host_test under ASan+UBSan: $((SECONDS - start)) s"
