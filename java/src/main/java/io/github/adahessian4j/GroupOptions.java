package io.github.adahessian4j;

/**
 * What every optimizer's per-group options have: the hyperparameters Adam and AdaHessian share,
 * which schedules and the common builder options read and replace. {@link AdamOptions} and {@link
 * AdaHessianOptions} are the two kinds.
 *
 * @param <O> the options' own type
 */
public sealed interface GroupOptions<O extends GroupOptions<O>>
    permits AdamOptions, AdaHessianOptions {
  /**
   * The learning rate.
   *
   * @return the learning rate
   */
  double lr();

  /**
   * A copy with another learning rate.
   *
   * @param lr the learning rate
   * @return the copy
   */
  O withLr(double lr);

  /**
   * A copy with other moment decays.
   *
   * @param beta1 decay of the first moment (the gradient's moving average)
   * @param beta2 decay of the second moment
   * @return the copy
   */
  O withBetas(double beta1, double beta2);

  /**
   * A copy with another denominator term.
   *
   * @param eps added to the denominator
   * @return the copy
   */
  O withEps(double eps);

  /**
   * A copy with another weight decay.
   *
   * @param weightDecay the weight decay (its meaning is the optimizer's: see its options)
   * @return the copy
   */
  O withWeightDecay(double weightDecay);
}
