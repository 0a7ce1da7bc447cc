package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.StepTimes;
import io.github.adahessian4j.distributed.CollectiveTimes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The per-step phases of {@link DataParallelWorker}'s timed steps: the optimizer's {@link
 * StepTimes}, the process group's {@link CollectiveTimes} over the step (differences of its
 * cumulative readings) and the step as the worker timed it. {@link #line} gives one {@code
 * DPPHASES} line: per phase the median over the steps and the mean, in milliseconds, then the
 * bytes, calls and tensors all-reduced per step.
 */
final class StepPhases {
  /** The phases, in the order of the line; the names are the keys {@code PHASE_median_ms}. */
  static final List<String> NAMES =
      List.of(
          "step",
          "forward",
          "backward",
          "hvp",
          "mean",
          "check",
          "pack",
          "allreduce",
          "divide",
          "unpack",
          "mean_other",
          "update",
          "outside");

  /** The phases that sum to a step: the others ({@code mean}'s parts) are inside {@code mean}. */
  static final List<String> SUMMANDS =
      List.of("forward", "backward", "hvp", "mean", "update", "outside");

  private final List<double[]> steps = new ArrayList<>();

  /**
   * Records one step.
   *
   * @param stepNanos the step as the worker timed it (the optimizer's step and freeing its scope)
   * @param t the optimizer's times of the step
   * @param before the group's times before the step (null without a group)
   * @param after the group's times after it
   */
  void add(long stepNanos, StepTimes t, CollectiveTimes before, CollectiveTimes after) {
    double[] v = new double[NAMES.size()];
    v[0] = stepNanos;
    v[1] = t.closure();
    v[2] = t.gradient();
    v[3] = t.hessian();
    v[4] = t.replicaMean();
    if (before != null) {
      v[5] = after.check() - before.check();
      v[6] = after.pack() - before.pack();
      v[7] = after.transfer() - before.transfer();
      v[8] = after.divide() - before.divide();
      v[9] = after.unpack() - before.unpack();
    }
    v[10] = v[4] - v[5] - v[6] - v[7] - v[8] - v[9];
    v[11] = t.update();
    v[12] = stepNanos - t.total();
    steps.add(v);
  }

  /** The medians and means of every phase, in milliseconds, by name. */
  Map<String, double[]> summary() {
    Map<String, double[]> out = new LinkedHashMap<>();
    for (int p = 0; p < NAMES.size(); p++) {
      double[] x = new double[steps.size()];
      for (int s = 0; s < x.length; s++) {
        x[s] = steps.get(s)[p] / 1e6;
      }
      double mean = Arrays.stream(x).sum() / x.length;
      Arrays.sort(x);
      double median =
          x.length % 2 == 1 ? x[x.length / 2] : (x[x.length / 2 - 1] + x[x.length / 2]) / 2;
      out.put(NAMES.get(p), new double[] {median, mean});
    }
    return out;
  }

  /**
   * The {@code DPPHASES} line of a rank.
   *
   * @param head the run's description ({@code key=value ...})
   * @param tail what follows the phases ({@code key=value ...})
   * @return the line
   */
  String line(String head, String tail) {
    StringBuilder b = new StringBuilder("DPPHASES ").append(head);
    for (Map.Entry<String, double[]> e : summary().entrySet()) {
      b.append(
          String.format(
              Locale.ROOT,
              " %s_median_ms=%.3f %s_mean_ms=%.3f",
              e.getKey(),
              e.getValue()[0],
              e.getKey(),
              e.getValue()[1]));
    }
    return b.append(' ').append(tail).toString();
  }
}
