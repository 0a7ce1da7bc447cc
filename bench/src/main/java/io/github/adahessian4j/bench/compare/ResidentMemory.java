package io.github.adahessian4j.bench.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The process's resident memory from {@code /proc/self/status} (Linux): {@code VmRSS} now and
 * {@code VmHWM}, its peak. Writing 5 to {@code /proc/self/clear_refs} resets the peak to the
 * current RSS, so that each run's peak is its own. RSS counts everything: libtorch's tensors and
 * autograd graphs, the JVM's heap and code; compare runs by their difference.
 */
final class ResidentMemory {
  private static final Path STATUS = Paths.get("/proc/self/status");
  private static final Path CLEAR_REFS = Paths.get("/proc/self/clear_refs");

  private ResidentMemory() {}

  /** Resets the peak to the current RSS; false where the kernel does not allow it. */
  static boolean resetPeak() {
    try {
      Files.writeString(CLEAR_REFS, "5");
      return true;
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false;
    }
  }

  /** Current resident set size in bytes, or -1 where /proc is not available. */
  static long current() {
    return field("VmRSS:");
  }

  /** Peak resident set size in bytes since start or the last {@link #resetPeak()}, or -1. */
  static long peak() {
    return field("VmHWM:");
  }

  private static long field(String name) {
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith(name)) {
          return 1024 * Long.parseLong(line.substring(name.length()).replace("kB", "").trim());
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
