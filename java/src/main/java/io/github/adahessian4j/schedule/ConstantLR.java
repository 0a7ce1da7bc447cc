package io.github.adahessian4j.schedule;

import io.github.adahessian4j.Optimizer;

/**
 * Multiplies every group's lr by a constant {@code factor} until the epoch reaches {@code
 * totalIters}, then restores it: torch's {@code ConstantLR}.
 *
 * <p>At epoch 0 (construction) the lr becomes {@code lr * factor}; at epoch {@code totalIters} it
 * becomes {@code lr * (1 / factor)}; in between and after, it stays.
 */
public final class ConstantLR extends LrScheduler {
  private final double factor;
  private final int totalIters;

  /**
   * torch's defaults: factor 1/3 for 5 epochs.
   *
   * @param optimizer the optimizer whose lrs to set
   */
  public ConstantLR(Optimizer optimizer) {
    this(optimizer, 1.0 / 3, 5);
  }

  /**
   * A constant factor for a number of epochs.
   *
   * @param optimizer the optimizer whose lrs to set
   * @param factor the number the lr is multiplied by until the milestone, in (0, 1]
   * @param totalIters the epoch at which the lr is restored, at least 1
   * @throws IllegalArgumentException if an argument is out of range
   */
  public ConstantLR(Optimizer optimizer, double factor, int totalIters) {
    super(optimizer);
    // torch 1.13 accepts 0, then divides by it at totalIters; it also accepts totalIters 0,
    // after which the lr stays multiplied for good.
    if (!(factor > 0.0 && factor <= 1.0)) {
      throw new IllegalArgumentException(
          "Constant multiplicative factor expected to be greater than 0 and less or equal to 1, but got "
              + factor);
    }
    this.factor = factor;
    this.totalIters = positive("total_iters", totalIters);
    start();
  }

  /**
   * The factor the lr is multiplied by until {@link #totalIters()}.
   *
   * @return the factor
   */
  public double factor() {
    return factor;
  }

  /**
   * The epoch at which the lr is restored.
   *
   * @return the number of epochs the factor applies
   */
  public int totalIters() {
    return totalIters;
  }

  @Override
  double[] chainableLr(int epoch, int stepCount, double[] lrs) {
    double[] out = lrs.clone();
    if (epoch == 0) {
      for (int g = 0; g < out.length; g++) {
        out[g] = lrs[g] * factor;
      }
    } else if (epoch == totalIters) {
      for (int g = 0; g < out.length; g++) {
        out[g] = lrs[g] * (1.0 / factor);
      }
    }
    return out;
  }

  @Override
  double[] closedFormLr(int epoch, int stepCount) {
    double[] out = new double[baseLrs.length];
    for (int g = 0; g < out.length; g++) {
      out[g] = baseLrs[g] * (factor + (epoch >= totalIters ? 1 - factor : 0.0));
    }
    return out;
  }

  @Override
  String config() {
    return "factor " + factor + ", totalIters " + totalIters;
  }
}
