package io.github.adahessian4j.schedule;

import io.github.adahessian4j.Optimizer;

/**
 * Changes every group's lr linearly from {@code startFactor * base} to {@code endFactor * base}
 * over {@code totalIters} epochs, then keeps it: torch's {@code LinearLR}, the usual linear warm-up
 * (and, with {@code endFactor < startFactor}, a linear decay).
 *
 * <p>When nothing else changes the lr, the lr at epoch {@code e} is {@code base * (startFactor +
 * (endFactor - startFactor) * min(e, totalIters) / totalIters)}; like torch's, this class computes
 * it recursively from the current lr at every step.
 */
public final class LinearLR extends LrScheduler {
  private final double startFactor;
  private final double endFactor;
  private final int totalIters;

  /**
   * torch's defaults: from 1/3 of the base lr to the base lr over 5 epochs.
   *
   * @param optimizer the optimizer whose lrs to set
   */
  public LinearLR(Optimizer optimizer) {
    this(optimizer, 1.0 / 3, 1.0, 5);
  }

  /**
   * From {@code startFactor * base} to {@code endFactor * base} over {@code totalIters} epochs.
   *
   * @param optimizer the optimizer whose lrs to set
   * @param startFactor the factor at epoch 0, in (0, 1]
   * @param endFactor the factor from epoch {@code totalIters} on, in [0, 1]
   * @param totalIters the number of epochs of the change, at least 1
   * @throws IllegalArgumentException if an argument is out of range
   */
  public LinearLR(Optimizer optimizer, double startFactor, double endFactor, int totalIters) {
    super(optimizer);
    // torch 1.13 accepts a start factor of 0 and then divides by zero at epoch 1 (torch 2 rejects
    // it, with this message).
    if (!(startFactor > 0.0 && startFactor <= 1.0)) {
      throw new IllegalArgumentException(
          "Starting multiplicative factor expected to be greater than 0 and less or equal to 1, but got "
              + startFactor);
    }
    if (!(endFactor >= 0.0 && endFactor <= 1.0)) {
      throw new IllegalArgumentException(
          "Ending multiplicative factor expected to be between 0 and 1, but got " + endFactor);
    }
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = positive("total_iters", totalIters);
    start();
  }

  /**
   * The factor at epoch 0.
   *
   * @return start_factor
   */
  public double startFactor() {
    return startFactor;
  }

  /**
   * The factor from epoch {@link #totalIters()} on.
   *
   * @return end_factor
   */
  public double endFactor() {
    return endFactor;
  }

  /**
   * The number of epochs of the change.
   *
   * @return total_iters
   */
  public int totalIters() {
    return totalIters;
  }

  @Override
  double[] chainableLr(int epoch, int stepCount, double[] lrs) {
    double[] out = lrs.clone();
    if (epoch == 0) {
      for (int g = 0; g < out.length; g++) {
        out[g] = lrs[g] * startFactor;
      }
    } else if (epoch <= totalIters) {
      double f =
          1.
              + (endFactor - startFactor)
                  / (totalIters * startFactor + (epoch - 1) * (endFactor - startFactor));
      for (int g = 0; g < out.length; g++) {
        out[g] = lrs[g] * f;
      }
    }
    return out;
  }

  @Override
  double[] closedFormLr(int epoch, int stepCount) {
    double[] out = new double[baseLrs.length];
    for (int g = 0; g < out.length; g++) {
      out[g] =
          baseLrs[g]
              * (startFactor
                  + (endFactor - startFactor) * Math.min(totalIters, epoch) / totalIters);
    }
    return out;
  }

  @Override
  String config() {
    return "startFactor " + startFactor + ", endFactor " + endFactor + ", totalIters " + totalIters;
  }
}
