package io.github.adahessian4j;

/**
 * The hyperparameters of one Adam or AdamW parameter group, with {@code torch.optim}'s meaning.
 *
 * @param lr learning rate
 * @param beta1 decay of the gradient's moving average
 * @param beta2 decay of the squared gradient's moving average
 * @param eps added to the denominator {@code sqrt(v) / sqrt(1 - beta2^t) + eps}
 * @param weightDecay Adam: an L2 penalty, {@code g += weightDecay * p}; AdamW: decoupled,
 *     {@code p *= 1 - lr * weightDecay}
 * @param amsgrad use the maximum of all {@code v} so far (Reddi et al., 2018)
 * @param maximize maximise the objective instead of minimising it
 */
public record AdamOptions(
    double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad,
    boolean maximize) implements GroupOptions<AdamOptions> {

  public AdamOptions {
    Checks.learningRate(lr);
    Checks.epsilon(eps);
    Checks.beta(0, beta1);
    Checks.beta(1, beta2);
    Checks.weightDecay(weightDecay);
  }

  /** {@code torch.optim.Adam}'s defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no decay. */
  public static AdamOptions adamDefaults() {
    return new AdamOptions(1e-3, 0.9, 0.999, 1e-8, 0.0, false, false);
  }

  /** {@code torch.optim.AdamW}'s defaults: as Adam's, with weight decay 1e-2. */
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

  public AdamOptions withAmsgrad(boolean value) {
    return new AdamOptions(lr, beta1, beta2, eps, weightDecay, value, maximize);
  }

  public AdamOptions withMaximize(boolean value) {
    return new AdamOptions(lr, beta1, beta2, eps, weightDecay, amsgrad, value);
  }
}
