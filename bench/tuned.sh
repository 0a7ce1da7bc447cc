# Sourced by the benchmark scripts (from the repository root): $tuned, glibc told to keep freed
# memory, the GLIBC_TUNABLES equivalent of NativeMemory.keepFreedMemory(). All three settings
# matter: without top_pad a JVM's main-thread arena is deleted and made again, and a CNN
# AdaHessian step took 155 ms instead of 44 (docs/results.md).
# shellcheck shell=bash
tuned="glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824:glibc.malloc.top_pad=67108864"
# tuned_default: GLIBC_TUNABLES is $tuned unless the caller set it (set it empty for glibc as it comes).
tuned_default() {
  export GLIBC_TUNABLES="${GLIBC_TUNABLES-$tuned}"
}
export tuned
