package io.github.adahessian4j;

/**
 * What every optimizer's per-group options have: a learning rate that schedules can read and
 * replace. {@link AdamOptions} and {@link AdaHessianOptions} are the two kinds.
 *
 * @param <O> the options' own type
 */
public sealed interface GroupOptions<O extends GroupOptions<O>> permits AdamOptions, AdaHessianOptions {
  /** The learning rate. */
  double lr();

  /** A copy with learning rate {@code lr}. */
  O withLr(double lr);
}
