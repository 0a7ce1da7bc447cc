package io.github.adahessian4j;

/**
 * The hyperparameters of one AdaHessian parameter group. Defaults are the authors' (Yao et al.,
 * AAAI 2021; amirgholami/adahessian): {@code lr 0.15, betas (0.9, 0.999), eps 1e-4, weightDecay 0,
 * hessianPower 1}.
 *
 * @param lr learning rate
 * @param beta1 decay of the gradient's moving average {@code m}
 * @param beta2 decay of the squared Hessian diagonal's moving average {@code v}
 * @param eps added to the denominator: {@code denom = (sqrt(v) / sqrt(1 - beta2^t))^k + eps}
 * @param weightDecay decoupled weight decay, multiplied by the learning rate as in the authors'
 *     code and in PyTorch's AdamW: {@code p -= lr * (update + weightDecay * p)}; not an L2 penalty
 *     on the loss
 * @param hessianPower the power {@code k} of the denominator, in [0, 1] (0.5 in torch_optimizer)
 */
public record AdaHessianOptions(
    double lr, double beta1, double beta2, double eps, double weightDecay, double hessianPower)
    implements GroupOptions<AdaHessianOptions> {

  /** The authors' defaults. */
  public static final AdaHessianOptions DEFAULTS =
      new AdaHessianOptions(0.15, 0.9, 0.999, 1e-4, 0.0, 1.0);

  /**
   * Checks every hyperparameter.
   *
   * @param lr learning rate
   * @param beta1 decay of {@code m}
   * @param beta2 decay of {@code v}
   * @param eps denominator term
   * @param weightDecay decoupled weight decay
   * @param hessianPower the power k
   */
  public AdaHessianOptions {
    Checks.learningRate(lr);
    Checks.epsilon(eps);
    Checks.beta(0, beta1);
    Checks.beta(1, beta2);
    Checks.weightDecay(weightDecay);
    Checks.hessianPower(hessianPower);
  }

  @Override
  public AdaHessianOptions withLr(double value) {
    return new AdaHessianOptions(value, beta1, beta2, eps, weightDecay, hessianPower);
  }

  @Override
  public AdaHessianOptions withBetas(double b1, double b2) {
    return new AdaHessianOptions(lr, b1, b2, eps, weightDecay, hessianPower);
  }

  @Override
  public AdaHessianOptions withEps(double value) {
    return new AdaHessianOptions(lr, beta1, beta2, value, weightDecay, hessianPower);
  }

  @Override
  public AdaHessianOptions withWeightDecay(double value) {
    return new AdaHessianOptions(lr, beta1, beta2, eps, value, hessianPower);
  }

  /**
   * A copy with another Hessian power.
   *
   * @param value the power k, in [0, 1]
   * @return the copy
   */
  public AdaHessianOptions withHessianPower(double value) {
    return new AdaHessianOptions(lr, beta1, beta2, eps, weightDecay, value);
  }
}
