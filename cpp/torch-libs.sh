#!/usr/bin/env bash
# Prints a folder holding libtorch_cpu.so, libc10.so and libgomp.so.1 to link and run the core
# against: the one the presets build unpacked, else one unpacked here (into $1, default
# cpp/target/torch) from the local Maven repository's org.bytedeco:pytorch jar.
#   cpp/torch-libs.sh [DEST]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
platform=linux-x86_64
unpacked="$here/../presets/target/torch/org/bytedeco/pytorch/$platform"
if [ -f "$unpacked/libtorch_cpu.so" ]; then
  realpath "$unpacked"; exit 0
fi
dest="$(realpath -m "${1:-$here/target/torch}")"
if [ ! -f "$dest/libtorch_cpu.so" ]; then
  jar="${MAVEN_REPO:-$HOME/.m2/repository}/org/bytedeco/pytorch/2.10.0-1.5.13/pytorch-2.10.0-1.5.13-$platform.jar"
  [ -f "$jar" ] || { echo "no libtorch: pass TORCH_LIB_DIR, or run the Maven build first" >&2; exit 1; }
  python3 - "$jar" "$dest" "$platform" <<'PY'
import os, sys, zipfile
jar, dest, platform = sys.argv[1:]
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(jar) as z:
    for name in ("libtorch_cpu.so", "libc10.so", "libgomp.so.1"):
        with z.open("org/bytedeco/pytorch/%s/%s" % (platform, name)) as src, \
                open(os.path.join(dest, name), "wb") as dst:
            dst.write(src.read())
PY
fi
echo "$dest"
