package io.github.adahessian4j;

/**
 * The hyperparameters of one Adam or AdamW parameter group, with {@code torch.optim}'s meaning.
 *
 * @param lr learning rate
 * @param beta1 decay of the gradient's moving average
 * @param beta2 decay of the squared gradient's moving average
 * @param eps added to the denominator {@code sqrt(v) / sqrt(1 - beta2^t) + eps}
 * @param weightDecay Adam: an L2 penalty, {@code g += weightDecay * p}; AdamW: decoupled, {@code p
 *     *= 1 - lr * weightDecay}
 * @param amsgrad use the maximum of all {@code v} so far (Reddi et al., 2018)
 * @param maximize maximise the objective instead of minimising it
 */
public record AdamOptions(
    double lr,
    double beta1,
    double beta2,
    double eps,
    double weightDecay,
    boolean amsgrad,
    boolean maximize)
    implements GroupOptions<AdamOptions> {

  /**
   * Checks every hyperparameter.
   *
   * @param lr learning rate
   * @param beta1 decay of the first moment
   * @param beta2 decay of the second moment
   * @param eps denominator term
   * @param weightDecay Adam: L2 penalty; AdamW: decoupled decay
   * @param amsgrad use the maximum of all second moments
   * @param maximize maximise the objective
   */
  public AdamOptions {
    Checks.learningRate(lr);
    Checks.epsilon(eps);
    Checks.beta(0, beta1);
    Checks.beta(1, beta2);
    Checks.weightDecay(weightDecay);
  }

  /**
   * {@code torch.optim.Adam}'s defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no decay.
   *
   * @return the defaults
   */
  public static AdamOptions adamDefaults() {
    return new AdamOptions(1e-3, 0.9, 0.999, 1e-8, 0.0, false, false);
  }

  /**
   * {@code torch.optim.AdamW}'s defaults: as Adam's, with weight decay 1e-2.
   *
   * @return the defaults
   */
  public static AdamOptions adamWDefaults() {
    return new AdamOptions(1e-3, 0.9, 0.999, 1e-8, 1e-2, false, false);
  }

  @Override
  public AdamOptions withLr(double value) {
    return new AdamOptions(value, beta1, beta2, eps, weightDecay, amsgrad, maximize);
  }

  @Override
  public AdamOptions withBetas(double b1, double b2) {
    return new AdamOptions(lr, b1, b2, eps, weightDecay, amsgrad, maximize);
  }

  @Override
  public AdamOptions withEps(double value) {
    return new AdamOptions(lr, beta1, beta2, value, weightDecay, amsgrad, maximize);
  }

  @Override
  public AdamOptions withWeightDecay(double value) {
    return new AdamOptions(lr, beta1, beta2, eps, value, amsgrad, maximize);
  }

  /**
   * A copy with amsgrad on or off.
   *
   * @param value whether to use amsgrad
   * @return the copy
   */
  public AdamOptions withAmsgrad(boolean value) {
    return new AdamOptions(lr, beta1, beta2, eps, weightDecay, value, maximize);
  }

  /**
   * A copy that maximises or minimises.
   *
   * @param value whether to maximise
   * @return the copy
   */
  public AdamOptions withMaximize(boolean value) {
    return new AdamOptions(lr, beta1, beta2, eps, weightDecay, amsgrad, value);
  }
}
