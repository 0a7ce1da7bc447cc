package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;

/**
 * An opt-in for processes that train on the CPU: keep freed native memory for reuse. Never applied
 * unless called.
 *
 * <p>glibc hands freed buffers of several MB (a batch's activations) back to the kernel, and the
 * next iteration faults them in again page by page: on this project's machines that was 22% of a
 * CNN iteration's time, in Java and in Python alike (see the whole-iteration results,
 * docs/results.md). {@link #keepFreedMemory()} makes glibc serve such buffers from its heap and
 * keep them; the process's resident memory then stays at its peak instead of going up and down each
 * iteration.
 *
 * <p>The top pad is what makes it work in Java: a JVM's main thread is not the process's first, so
 * glibc serves it from an arena of 64 MiB heaps and deletes a heap the moment it is wholly free,
 * whatever the trim threshold. Without the pad, a CNN iteration here was fast in some processes and
 * 3-4x slower in others (the heaps coming and going); with it, the quartiles of a process's CNN
 * iterations stay within 10% of the median, and what still moves between processes moved Python's
 * the same way (the machine's drift; see docs/results.md). The same effect from outside, for any
 * process (Python's too): {@code
 * GLIBC_TUNABLES=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824:glibc.malloc.top_pad=67108864}
 * (the setting of the measurements in docs/results.md).
 */
public final class NativeMemory {
  /** The mmap threshold {@link #keepFreedMemory()} sets: 256 MiB. */
  public static final long MMAP_THRESHOLD = 256L << 20;

  /** The trim threshold {@link #keepFreedMemory()} sets: 1 GiB. */
  public static final long TRIM_THRESHOLD = 1L << 30;

  /** The top pad {@link #keepFreedMemory()} sets: 64 MiB, glibc's heap size for threads' arenas. */
  public static final long TOP_PAD = 64L << 20;

  private NativeMemory() {}

  /**
   * Keeps freed native memory for reuse: allocations below 256 MiB come from glibc's heap, which is
   * trimmed only when 1 GiB lies free at its top, and every heap grows with 64 MiB to spare (so the
   * heaps of a thread's arena are kept). Process-wide and lasting; call it once, before training.
   *
   * @return true if glibc accepted the setting (false on other C libraries: nothing changed)
   */
  public static boolean keepFreedMemory() {
    return keepFreedMemory(MMAP_THRESHOLD, TRIM_THRESHOLD, TOP_PAD);
  }

  /**
   * Keeps freed native memory for reuse, with explicit glibc settings.
   *
   * @param mmapThreshold allocations below this many bytes come from the heap
   * @param trimThreshold the heap is trimmed only when this many bytes are free at its top
   * @param topPad bytes every heap grows with to spare (at least 64 MiB keeps threads' heaps)
   * @return true if glibc accepted all three values (it may refuse values above its own limits)
   * @throws IllegalArgumentException if a value is negative or above {@code Integer.MAX_VALUE}
   */
  public static boolean keepFreedMemory(long mmapThreshold, long trimThreshold, long topPad) {
    checkBytes("mmap threshold", mmapThreshold);
    checkBytes("trim threshold", trimThreshold);
    checkBytes("top pad", topPad);
    NativeCore.load();
    return ah4j.ah4j_malloc_keep_freed(mmapThreshold, trimThreshold, topPad) == 1;
  }

  private static void checkBytes(String what, long value) {
    if (value < 0 || value > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "Invalid " + what + ": " + value + " (expected 0 to " + Integer.MAX_VALUE + " bytes)");
    }
  }
}
