package io.github.adahessian4j.schedule;

import io.github.adahessian4j.Optimizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Multiplies every group's lr by {@code gamma} when the epoch reaches a milestone: torch's {@code
 * MultiStepLR}.
 *
 * <p>As in torch, the milestones are a multiset: their order does not matter, and a milestone given
 * {@code k} times multiplies by {@code gamma^k}. A milestone 0 applies at construction.
 */
public final class MultiStepLR extends LrScheduler {
  private final int[] milestones; // sorted, with repeats
  private final double gamma;

  /**
   * Decays by torch's default gamma, 0.1, at each milestone.
   *
   * @param optimizer the optimizer whose lrs to set
   * @param milestones the epochs at which to decay, not negative
   * @throws IllegalArgumentException if a milestone is negative
   */
  public MultiStepLR(Optimizer optimizer, List<Integer> milestones) {
    this(optimizer, milestones, 0.1);
  }

  /**
   * Decays by {@code gamma} at each milestone.
   *
   * @param optimizer the optimizer whose lrs to set
   * @param milestones the epochs at which to decay, not negative
   * @param gamma the factor of each decay, finite and not negative
   * @throws IllegalArgumentException if a milestone is negative or gamma is out of range
   */
  public MultiStepLR(Optimizer optimizer, List<Integer> milestones, double gamma) {
    super(optimizer);
    Objects.requireNonNull(milestones, "milestones");
    int[] m = new int[milestones.size()];
    for (int i = 0; i < m.length; i++) {
      Integer v = Objects.requireNonNull(milestones.get(i), "milestone");
      if (v < 0) {
        throw new IllegalArgumentException(
            "Expected non-negative integer milestones, but got " + milestones);
      }
      m[i] = v;
    }
    Arrays.sort(m);
    this.milestones = m;
    this.gamma = nonNegative("gamma", gamma);
    start();
  }

  /**
   * The milestones, sorted, a repeated one as often as it was given.
   *
   * @return a new list
   */
  public List<Integer> milestones() {
    List<Integer> out = new ArrayList<>(milestones.length);
    for (int m : milestones) {
      out.add(m);
    }
    return out;
  }

  /**
   * The factor of each decay.
   *
   * @return gamma
   */
  public double gamma() {
    return gamma;
  }

  /** How often {@code epoch} is a milestone (torch's Counter). */
  private int count(int epoch) {
    int n = 0;
    for (int m : milestones) {
      n += m == epoch ? 1 : 0;
    }
    return n;
  }

  /** torch's bisect_right: how many milestones are at most {@code epoch}. */
  private int passed(int epoch) {
    int n = 0;
    while (n < milestones.length && milestones[n] <= epoch) {
      n++;
    }
    return n;
  }

  @Override
  double[] chainableLr(int epoch, int stepCount, double[] lrs) {
    double[] out = lrs.clone();
    int k = count(epoch);
    if (k > 0) {
      for (int g = 0; g < out.length; g++) {
        out[g] = lrs[g] * Math.pow(gamma, k);
      }
    }
    return out;
  }

  @Override
  double[] closedFormLr(int epoch, int stepCount) {
    double[] out = new double[baseLrs.length];
    for (int g = 0; g < out.length; g++) {
      out[g] = baseLrs[g] * Math.pow(gamma, passed(epoch));
    }
    return out;
  }

  @Override
  String config() {
    return "milestones " + Arrays.toString(milestones) + ", gamma " + gamma;
  }
}
