package io.github.adahessian4j.schedule;

import io.github.adahessian4j.Optimizer;

/**
 * Multiplies every group's lr by {@code gamma} every epoch: torch's {@code ExponentialLR}. The lr
 * at epoch {@code e} is {@code base * gamma^e} when nothing else changes it.
 */
public final class ExponentialLR extends LrScheduler {
  private final double gamma;

  /**
   * Decays by {@code gamma} every epoch (torch has no default).
   *
   * @param optimizer the optimizer whose lrs to set
   * @param gamma the factor of each decay, finite and not negative
   * @throws IllegalArgumentException if gamma is negative or not finite
   */
  public ExponentialLR(Optimizer optimizer, double gamma) {
    super(optimizer);
    this.gamma = nonNegative("gamma", gamma);
    start();
  }

  /**
   * The factor of each decay.
   *
   * @return gamma
   */
  public double gamma() {
    return gamma;
  }

  @Override
  double[] chainableLr(int epoch, int stepCount, double[] lrs) {
    double[] out = lrs.clone();
    if (epoch != 0) {
      for (int g = 0; g < out.length; g++) {
        out[g] = lrs[g] * gamma;
      }
    }
    return out;
  }

  @Override
  double[] closedFormLr(int epoch, int stepCount) {
    double[] out = new double[baseLrs.length];
    for (int g = 0; g < out.length; g++) {
      out[g] = baseLrs[g] * Math.pow(gamma, epoch);
    }
    return out;
  }

  @Override
  String config() {
    return "gamma " + gamma;
  }
}
