package io.github.adahessian4j.bench;

import org.bytedeco.openblas.global.openblas_nolapack;
import org.bytedeco.pytorch.global.torch;

/**
 * Sets libtorch's thread count and keeps OpenBLAS's own thread pool out of its way: on these 2-core
 * machines OpenBLAS's pool spinning against libtorch's OpenMP threads made a small MLP up to 15x
 * slower (docs/threads.md). {@code OPENBLAS_NUM_THREADS} is honoured where it is set; where it is
 * not (as under {@code mvn exec:java}, which runs in Maven's own process and cannot set environment
 * variables), OpenBLAS is told to use one thread.
 */
public final class NativeThreads {
  private NativeThreads() {}

  /**
   * Applies {@code torchThreads} (0 keeps libtorch's default) and returns a line that says what
   * runs.
   */
  public static String configure(int torchThreads) {
    if (torchThreads < 0) {
      throw new IllegalArgumentException("Invalid thread count: " + torchThreads);
    }
    if (torchThreads > 0) {
      torch.set_num_threads(torchThreads);
    }
    String openBlas = System.getenv("OPENBLAS_NUM_THREADS");
    if (openBlas == null || openBlas.isBlank()) {
      openblas_nolapack.blas_set_num_threads(1);
      openBlas = "1 (set here; OPENBLAS_NUM_THREADS was unset)";
    } else {
      openBlas += " (OPENBLAS_NUM_THREADS)";
    }
    return "libtorch threads " + torch.get_num_threads() + ", OpenBLAS threads " + openBlas;
  }
}
