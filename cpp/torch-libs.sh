#!/usr/bin/env bash
# Prints a folder holding what an executable linked against libtorch needs to link and run:
# libtorch_cpu.so, libc10.so and libgomp.so.1 from org.bytedeco:pytorch's linux-x86_64 jar, and
# libtorch_cpu.so's BLAS, libopenblas.so.0 (with its libgfortran.so.5 and libquadmath.so.0), from
# org.bytedeco:openblas's: the copies the Java runtime loads, so that nothing depends on a system
# BLAS package (a machine without one failed to link cpp/test/host_test). Unpacked once into $1
# (default cpp/target/torch) from the local Maven repository.
#   cpp/torch-libs.sh [DEST]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
platform=linux-x86_64
repo="${MAVEN_REPO:-$HOME/.m2/repository}/org/bytedeco"
dest="$(realpath -m "${1:-$here/target/torch}")"
torch_jar="$repo/pytorch/2.10.0-1.5.13/pytorch-2.10.0-1.5.13-$platform.jar"
blas_jar="$repo/openblas/0.3.31-1.5.13/openblas-0.3.31-1.5.13-$platform.jar"
if [ ! -f "$dest/complete" ]; then
  for jar in "$torch_jar" "$blas_jar"; do
    [ -f "$jar" ] || {
      echo "torch-libs: no $jar: run the Maven build first (or mvn dependency:get it)" >&2
      exit 1
    }
  done
  python3 - "$dest" "$platform" "$torch_jar" "$blas_jar" <<'PY'
import os, sys, zipfile
dest, platform, torch_jar, blas_jar = sys.argv[1:]
os.makedirs(dest, exist_ok=True)
wanted = [(torch_jar, "pytorch", ("libtorch_cpu.so", "libc10.so", "libgomp.so.1")),
          (blas_jar, "openblas", ("libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0"))]
for jar, name, libs in wanted:
    with zipfile.ZipFile(jar) as z:
        for lib in libs:
            with z.open("org/bytedeco/%s/%s/%s" % (name, platform, lib)) as src, \
                    open(os.path.join(dest, lib), "wb") as dst:
                dst.write(src.read())
PY
  touch "$dest/complete"
fi
echo "$dest"
