package io.github.adahessian4j.schedule;

import io.github.adahessian4j.Optimizer;

/**
 * Cosine annealing from each group's base lr to {@code etaMin} over {@code tMax} epochs: torch's
 * {@code CosineAnnealingLR} (the annealing of SGDR, Loshchilov and Hutter 2017, without restarts).
 *
 * <p>When nothing else changes the lr, the lr at epoch {@code e} is {@code etaMin + (base - etaMin)
 * * (1 + cos(pi * e / tMax)) / 2}. Like torch's, this class computes it recursively from the
 * current lr at every step, with torch's operations, so the values agree with torch's to rounding.
 * Past {@code tMax} the lr does not stay at {@code etaMin}: it follows the cosine back up to the
 * base lr at {@code 2 * tMax}, and so on.
 */
public final class CosineAnnealingLR extends LrScheduler {
  private final int tMax;
  private final double etaMin;

  /**
   * Anneals to 0 (torch's default eta_min) over {@code tMax} epochs.
   *
   * @param optimizer the optimizer whose lrs to set
   * @param tMax the number of epochs of the half cosine, at least 1
   * @throws IllegalArgumentException if tMax is less than 1
   */
  public CosineAnnealingLR(Optimizer optimizer, int tMax) {
    this(optimizer, tMax, 0.0);
  }

  /**
   * Anneals to {@code etaMin} over {@code tMax} epochs.
   *
   * @param optimizer the optimizer whose lrs to set
   * @param tMax the number of epochs of the half cosine, at least 1
   * @param etaMin the lowest lr, finite and not negative
   * @throws IllegalArgumentException if an argument is out of range
   */
  public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
    super(optimizer);
    this.tMax = positive("T_max", tMax);
    this.etaMin = nonNegative("eta_min", etaMin);
    start();
  }

  /**
   * The length of the half cosine.
   *
   * @return T_max, in epochs
   */
  public int tMax() {
    return tMax;
  }

  /**
   * The lowest lr.
   *
   * @return eta_min
   */
  public double etaMin() {
    return etaMin;
  }

  @Override
  double[] chainableLr(int epoch, int stepCount, double[] lrs) {
    double[] out = lrs.clone();
    if (epoch == 0) {
      return out;
    }
    if (stepCount == 1 && epoch > 0) {
      // torch's branch for a scheduler built at a later epoch; unreachable from the public API.
      for (int g = 0; g < out.length; g++) {
        out[g] = etaMin + (baseLrs[g] - etaMin) * (1 + Math.cos(epoch * Math.PI / tMax)) / 2;
      }
    } else if (Math.floorMod((long) epoch - 1 - tMax, 2L * tMax) == 0) {
      for (int g = 0; g < out.length; g++) {
        out[g] = lrs[g] + (baseLrs[g] - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
      }
    } else {
      for (int g = 0; g < out.length; g++) {
        out[g] =
            (1 + Math.cos(Math.PI * epoch / tMax))
                    / (1 + Math.cos(Math.PI * (epoch - 1) / tMax))
                    * (lrs[g] - etaMin)
                + etaMin;
      }
    }
    return out;
  }

  @Override
  double[] closedFormLr(int epoch, int stepCount) {
    double[] out = new double[baseLrs.length];
    for (int g = 0; g < out.length; g++) {
      out[g] = etaMin + (baseLrs[g] - etaMin) * (1 + Math.cos(Math.PI * epoch / tMax)) / 2;
    }
    return out;
  }

  @Override
  String config() {
    return "tMax " + tMax + ", etaMin " + etaMin;
  }
}
