package io.github.adahessian4j.schedule;

import io.github.adahessian4j.Optimizer;

/**
 * Multiplies every group's lr by {@code gamma} every {@code stepSize} epochs: torch's {@code
 * StepLR}. The lr at epoch {@code e} is {@code base * gamma^(e / stepSize)} (integer division) when
 * nothing else changes it.
 */
public final class StepLR extends LrScheduler {
  private final int stepSize;
  private final double gamma;

  /**
   * Decays by torch's default gamma, 0.1, every {@code stepSize} epochs.
   *
   * @param optimizer the optimizer whose lrs to set
   * @param stepSize the period of the decay, in epochs, at least 1
   * @throws IllegalArgumentException if an argument is out of range
   */
  public StepLR(Optimizer optimizer, int stepSize) {
    this(optimizer, stepSize, 0.1);
  }

  /**
   * Decays by {@code gamma} every {@code stepSize} epochs.
   *
   * @param optimizer the optimizer whose lrs to set
   * @param stepSize the period of the decay, in epochs, at least 1
   * @param gamma the factor of each decay, finite and not negative
   * @throws IllegalArgumentException if an argument is out of range
   */
  public StepLR(Optimizer optimizer, int stepSize, double gamma) {
    super(optimizer);
    this.stepSize = positive("step_size", stepSize);
    this.gamma = nonNegative("gamma", gamma);
    start();
  }

  /**
   * The period of the decay.
   *
   * @return the number of epochs between two decays
   */
  public int stepSize() {
    return stepSize;
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
    if (epoch != 0 && epoch % stepSize == 0) {
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
      out[g] = baseLrs[g] * Math.pow(gamma, Math.floorDiv(epoch, stepSize));
    }
    return out;
  }

  @Override
  String config() {
    return "stepSize " + stepSize + ", gamma " + gamma;
  }
}
