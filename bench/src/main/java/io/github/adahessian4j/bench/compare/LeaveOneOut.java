package io.github.adahessian4j.bench.compare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * Whether a verdict survives leaving out any one seed: the test is recomputed on every subset that
 * drops one seed (index {@code i} of both sides' per-seed values, where a side has it), and the
 * verdict is robust only if every subset reaches the outcome of all seeds. A verdict that one seed
 * decides would not survive a machine whose kernels round that seed's run elsewhere.
 */
final class LeaveOneOut {
  private LeaveOneOut() {}

  /**
   * The outcome with every seed, and per seed index whose omission changes it, the outcome then.
   */
  record Check(Stats.Outcome full, Map<Integer, Stats.Outcome> flips) {
    /** Called on all seeds and on every subset: a verdict at all, and the same one. */
    boolean robust() {
      return full != Stats.Outcome.TOO_FEW && flips.isEmpty();
    }

    /**
     * "robust", "not robust: without seed 4 not distinguishable", or "-" when there was no verdict
     * to test; {@code seedName} names seed index i.
     */
    String text(IntFunction<String> seedName) {
      if (full == Stats.Outcome.TOO_FEW) {
        return "-";
      }
      if (flips.isEmpty()) {
        return "robust";
      }
      List<String> parts = new ArrayList<>();
      for (Map.Entry<Integer, Stats.Outcome> e : flips.entrySet()) {
        parts.add("without seed " + seedName.apply(e.getKey()) + " " + word(e.getValue()));
      }
      return "not robust: " + String.join("; ", parts);
    }

    private static String word(Stats.Outcome o) {
      return switch (o) {
        case LOWER -> "lower";
        case HIGHER -> "higher";
        case NOT_DISTINGUISHABLE -> "not distinguishable";
        case TOO_FEW -> "too few seeds";
      };
    }
  }

  /**
   * Recomputes {@code test} (e.g. {@link Stats#welch(double[], double[])} or {@link
   * Stats#pairedRatio}) of {@code b} against {@code a} without each seed in turn.
   */
  static Check check(double[] a, double[] b, BiFunction<double[], double[], Stats.Test> test) {
    Stats.Outcome full = test.apply(a, b).outcome();
    Map<Integer, Stats.Outcome> flips = new LinkedHashMap<>();
    int seeds = Math.max(a.length, b.length);
    for (int i = 0; i < seeds; i++) {
      Stats.Outcome without = test.apply(without(a, i), without(b, i)).outcome();
      if (without != full) {
        flips.put(i, without);
      }
    }
    return new Check(full, flips);
  }

  /** {@code values} without index {@code i} (unchanged when it has no index i). */
  static double[] without(double[] values, int i) {
    if (i >= values.length) {
      return values;
    }
    double[] out = new double[values.length - 1];
    System.arraycopy(values, 0, out, 0, i);
    System.arraycopy(values, i + 1, out, i, values.length - i - 1);
    return out;
  }
}
