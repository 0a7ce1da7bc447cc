package io.github.adahessian4j.distributed;

import io.github.adahessian4j.nativecore.ah4j;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/** The calling thread's scheduling policy, through the native core (Linux's sched_setscheduler). */
final class ThreadScheduling {
  private ThreadScheduling() {}

  /**
   * Puts the calling thread, and the threads it starts afterwards, under {@code SCHED_BATCH} (see
   * {@link ProcessGroup.Builder#glooBatchScheduling}).
   *
   * @return whether the thread is under it now (false elsewhere than Linux, or if refused)
   */
  static boolean batch() {
    Loader.load(torch.class); // the core resolves libtorch's C shim from this copy
    Loader.load(ah4j.class);
    return ah4j.ah4j_thread_batch_scheduling(1) == 1;
  }
}
