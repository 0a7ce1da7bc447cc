package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;

/**
 * An opt-in for processes that train on the CPU: keep freed native memory for reuse. Never applied
 * unless called.
 *
 * <p>glibc hands freed buffers of several MB (a batch's activations) back to the kernel, and the
 * next iteration faults them in again page by page: on this project's machines that was 22% of a
 * CNN iteration's time, in Java and in Python alike (see the README's whole-iteration results).
 * {@link #keepFreedMemory()} makes glibc serve such buffers from its heap and keep them; the
 * process's resident memory then stays at its peak instead of going up and down each iteration. The
 * same effect from outside, for any process (Python's too): {@code
 * GLIBC_TUNABLES=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824} (the
 * setting the README's measurements use).
 */
public final class NativeMemory {
  /** The mmap threshold {@link #keepFreedMemory()} sets: 256 MiB. */
  public static final long MMAP_THRESHOLD = 256L << 20;

  /** The trim threshold {@link #keepFreedMemory()} sets: 1 GiB. */
  public static final long TRIM_THRESHOLD = 1L << 30;

  private NativeMemory() {}

  /**
   * Keeps freed native memory for reuse: allocations below 256 MiB come from glibc's heap, which is
   * trimmed only when 1 GiB lies free at its top. Process-wide and lasting; call it once, before
   * training.
   *
   * @return true if glibc accepted the setting (false on other C libraries: nothing changed)
   */
  public static boolean keepFreedMemory() {
    return keepFreedMemory(MMAP_THRESHOLD, TRIM_THRESHOLD);
  }

  /**
   * Keeps freed native memory for reuse, with explicit glibc thresholds.
   *
   * @param mmapThreshold allocations below this many bytes come from the heap
   * @param trimThreshold the heap is trimmed only when this many bytes are free at its top
   * @return true if glibc accepted both values (it may refuse values above its own limits)
   * @throws IllegalArgumentException if a value is negative or above {@code Integer.MAX_VALUE}
   */
  public static boolean keepFreedMemory(long mmapThreshold, long trimThreshold) {
    if (mmapThreshold < 0 || mmapThreshold > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "Invalid mmap threshold: "
              + mmapThreshold
              + " (expected 0 to "
              + Integer.MAX_VALUE
              + " bytes)");
    }
    if (trimThreshold < 0 || trimThreshold > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "Invalid trim threshold: "
              + trimThreshold
              + " (expected 0 to "
              + Integer.MAX_VALUE
              + " bytes)");
    }
    NativeCore.load();
    return ah4j.ah4j_malloc_keep_freed(mmapThreshold, trimThreshold) == 1;
  }
}
