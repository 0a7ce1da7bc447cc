package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** The trace by Hutchinson's method: {@link HessianAnalysis#trace(HessianTrace.Options)}. */
final class HutchinsonTrace {
  private HutchinsonTrace() {}

  static HessianTrace run(
      HessianSpace s,
      int[][] groupMembers,
      List<String> parameterNames,
      List<String> groupNames,
      HessianTrace.Options options) {
    int groups = groupMembers.length;
    long before = s.core.hvProducts;
    List<double[]> perSample = new ArrayList<>(); // per member
    List<Double> totals = new ArrayList<>();
    boolean converged = s.dim == 0;
    if (s.dim > 0) {
      for (int n = 0; n < options.maxSamples(); n++) {
        double[] blocks = new double[s.members.length];
        try (PointerScope sample = new PointerScope()) {
          Tensor z = s.probe(n);
          Tensor zhz = s.product(z).mul_(z);
          Tensor[] parts = s.unflatten(zhz);
          double total = 0;
          for (int j = 0; j < s.ids.length; j++) {
            blocks[s.positions[j]] = parts[j].sum().item_double();
            total += blocks[s.positions[j]];
          }
          perSample.add(blocks);
          totals.add(total);
        }
        int count = n + 1;
        if (count >= options.minSamples()) {
          double[] ms = meanAndError(totals);
          if (ms[1] <= options.relativeError() * Math.abs(ms[0])
              || ms[1] <= options.absoluteError()) {
            converged = true;
            break;
          }
        }
      }
    }
    int count = totals.size();
    double[] overall = meanAndError(totals);
    double[] perParam = new double[s.members.length];
    double[] perParamError = new double[s.members.length];
    for (int k = 0; k < s.members.length; k++) {
      List<Double> values = new ArrayList<>(count);
      for (double[] b : perSample) {
        values.add(b[k]);
      }
      double[] ms = meanAndError(values);
      perParam[k] = ms[0];
      perParamError[k] = ms[1];
    }
    double[] perGroup = new double[groups];
    double[] perGroupError = new double[groups];
    for (int g = 0; g < groups; g++) {
      List<Double> values = new ArrayList<>(count);
      for (double[] b : perSample) {
        double sum = 0;
        for (int k : groupMembers[g]) {
          sum += b[k];
        }
        values.add(sum);
      }
      double[] ms = meanAndError(values);
      perGroup[g] = ms[0];
      perGroupError[g] = ms[1];
    }
    double[] samples = totals.stream().mapToDouble(Double::doubleValue).toArray();
    return new HessianTrace(
        overall[0],
        overall[1],
        count,
        s.core.hvProducts - before,
        converged,
        samples,
        parameterNames,
        perParam,
        perParamError,
        groupNames,
        perGroup,
        perGroupError,
        s.skipped);
  }

  /** {mean, standard error} (n - 1 in the variance; 0 for fewer than two values). */
  static double[] meanAndError(List<Double> values) {
    int n = values.size();
    if (n == 0) {
      return new double[] {0, 0};
    }
    double mean = 0;
    for (double v : values) {
      mean += v;
    }
    mean /= n;
    if (n < 2) {
      return new double[] {mean, Double.POSITIVE_INFINITY};
    }
    double ss = 0;
    for (double v : values) {
      ss += (v - mean) * (v - mean);
    }
    return new double[] {mean, Math.sqrt(ss / (n - 1) / n)};
  }
}
