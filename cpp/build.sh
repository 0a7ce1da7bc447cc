#!/usr/bin/env bash
# Builds the native core libah4j.so.  Usage: cpp/build.sh TORCH_LIB_DIR OUTPUT_DIR
# TORCH_LIB_DIR holds the libtorch shared libraries to link against (the presets build unpacks
# them from the org.bytedeco:pytorch jar); OUTPUT_DIR receives libah4j.so.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
torch_lib="$(realpath "$1")"
out="$(realpath -m "$2")"
include="$("$here/fetch-shim-headers.sh")"
cmake -S "$here" -B "$here/target/build" -DTORCH_SHIM_INCLUDE_DIR="$include" \
  -DTORCH_LIB_DIR="$torch_lib" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$here/target/build" --parallel 2
mkdir -p "$out"
cp "$here/target/build/libah4j.so" "$out/"
