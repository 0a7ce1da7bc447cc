package io.github.adahessian4j;

import java.nio.DoubleBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Eigen-decomposition of the m-by-m tridiagonal matrix: Ritz values ascending, vectors column-wise.
 */
record Ritz(double[] values, double[] vectors, int m) {
  static Ritz of(double[] alpha, double[] beta, int m) {
    double[] t = new double[m * m];
    for (int i = 0; i < m; i++) {
      t[i * m + i] = alpha[i];
      if (i + 1 < m) {
        t[i * m + i + 1] = beta[i];
        t[(i + 1) * m + i] = beta[i];
      }
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor matrix = AbstractTensor.create(t, m, m);
      T_TensorTensor_T eigh = torch.linalg_eigh(matrix);
      return new Ritz(read(eigh.get0(), m), read(eigh.get1(), m * m), m);
    }
  }

  private static double[] read(Tensor t, int n) {
    Tensor c = t.contiguous();
    DoubleBuffer b = c.createBuffer();
    double[] out = new double[n];
    b.get(out);
    return out;
  }

  /** Residual norm of Ritz pair {@code i}: {@code beta_last * |s_{m-1,i}|}. */
  double residual(int i, double lastBeta) {
    return lastBeta * Math.abs(vectors[(m - 1) * m + i]);
  }

  /** Eigenvector {@code i} of T (column i). */
  double[] vector(int i) {
    double[] s = new double[m];
    for (int r = 0; r < m; r++) {
      s[r] = vectors[r * m + i];
    }
    return s;
  }

  double maxAbs() {
    double max = 0;
    for (double v : values) {
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }

  double[] values(int[] idx) {
    double[] out = new double[idx.length];
    for (int j = 0; j < idx.length; j++) {
      out[j] = values[idx[j]];
    }
    return out;
  }

  /** Indices of the {@code k} wanted Ritz values, in the result's order. */
  int[] wanted(HessianEigenvalues.Which which, int k) {
    int n = Math.min(k, m);
    Integer[] order = new Integer[m];
    for (int i = 0; i < m; i++) {
      order[i] = i;
    }
    switch (which) {
      case LARGEST -> Arrays.sort(order, (a, b) -> Double.compare(values[b], values[a]));
      case SMALLEST -> Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
      case LARGEST_MAGNITUDE ->
          Arrays.sort(order, (a, b) -> Double.compare(Math.abs(values[b]), Math.abs(values[a])));
      default -> throw new IllegalStateException(String.valueOf(which));
    }
    int[] out = new int[n];
    for (int j = 0; j < n; j++) {
      out[j] = order[j];
    }
    return out;
  }
}
