package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/** Power iteration with deflation: {@link HessianAnalysis#powerIteration}. */
final class PowerIteration {
  private PowerIteration() {}

  static HessianEigenvalues run(HessianSpace s, HessianEigenvalues.Options options) {
    int k = (int) Math.min(options.k(), s.dim);
    if (k == 0) {
      return new HessianEigenvalues(
          HessianEigenvalues.Method.POWER_ITERATION,
          new double[0],
          new double[0],
          List.of(),
          0,
          0,
          true,
          s.skipped);
    }
    long before = s.core.hvProducts;
    double[] values = new double[k];
    double[] residuals = new double[k];
    int iterations = 0;
    boolean allConverged = true;
    try (PointerScope scope = new PointerScope();
        KrylovBasis found = new KrylovBasis(s.dim);
        KrylovBasis current = new KrylovBasis(s.dim)) {
      for (int j = 0; j < k; j++) {
        try (PointerScope start = new PointerScope()) {
          current.set(0, s.unitProbe(j));
        }
        double previous = Double.NaN;
        boolean converged = false;
        for (int it = 0; it < options.maxIterations(); it++) {
          try (PointerScope step = new PointerScope()) {
            Tensor v = current.row(0).clone();
            found.subtractProjections(v, 1);
            v.div_(new Scalar(HessianSpace.norm(v)));
            Tensor hv = s.product(v);
            iterations++;
            double estimate = HessianSpace.dot(hv, v);
            double hvNorm = HessianSpace.norm(hv);
            values[j] = estimate;
            residuals[j] = Math.sqrt(Math.max(0, hvNorm * hvNorm - estimate * estimate));
            if (hvNorm > 0) {
              hv.div_(new Scalar(hvNorm));
              current.set(0, hv);
            } else {
              current.set(0, v); // H v = 0: v is an eigenvector of eigenvalue 0
              converged = true;
              break;
            }
            if (options.monitor() != null
                && options
                    .monitor()
                    .accept(s.core.hvProducts - before, Arrays.copyOf(values, j + 1))) {
              converged = true;
              break;
            }
            if (it > 0
                && options.tolerance() > 0
                && Math.abs(estimate - previous) / (Math.abs(previous) + 1e-6)
                    < options.tolerance()) {
              converged = true;
              break;
            }
            previous = estimate;
          }
        }
        allConverged &= converged;
        try (PointerScope add = new PointerScope()) {
          found.set(j, current.row(0));
        }
      }
      List<List<Tensor>> vectors = new ArrayList<>();
      if (options.eigenvectors()) {
        for (int j = 0; j < k; j++) {
          vectors.add(HessianSpace.keepAll(scope, s.perMember(found.row(j).clone())));
        }
      }
      return new HessianEigenvalues(
          HessianEigenvalues.Method.POWER_ITERATION,
          values,
          residuals,
          vectors,
          iterations,
          s.core.hvProducts - before,
          allConverged,
          s.skipped);
    }
  }
}
