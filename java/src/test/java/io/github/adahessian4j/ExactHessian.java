package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The full Hessian of a loss built element by element with double autograd (one {@code torch.grad}
 * of each gradient entry), independently of {@link HessianAnalysis}, and its exact spectrum from
 * {@code linalg_eigh}. Test code only; for a few hundred parameters.
 */
final class ExactHessian {
  /** Row-major n x n, symmetrised. */
  final double[] h;

  final int n;

  /** Ascending eigenvalues. */
  final double[] eigenvalues;

  /** Eigenvectors, column i of the row-major n x n matrix for eigenvalue i. */
  final double[] eigenvectors;

  /** The Hessian of {@code loss} with respect to {@code params} (all used, all requiring grad). */
  ExactHessian(Supplier<Tensor> loss, List<Tensor> params) {
    try (PointerScope scope = new PointerScope()) {
      TensorVector inputs = new TensorVector();
      long total = 0;
      for (Tensor p : params) {
        inputs.push_back(p);
        total += p.numel();
      }
      n = (int) total;
      TensorVector g =
          torch.grad(
              new TensorVector(loss.get()),
              inputs,
              new TensorVector(),
              new BoolOptional(true),
              true,
              false);
      TensorVector flat = new TensorVector();
      for (int i = 0; i < params.size(); i++) {
        flat.push_back(g.get(i).reshape(-1));
      }
      Tensor gflat = torch.cat(flat);
      double[] m = new double[n * n];
      for (int r = 0; r < n; r++) {
        try (PointerScope row = new PointerScope()) {
          Tensor gr = gflat.select(0, r);
          if (!gr.requires_grad()) {
            continue; // the loss is linear in this entry: its row is zero
          }
          TensorVector hr =
              torch.grad(
                  new TensorVector(gr),
                  inputs,
                  new TensorVector(),
                  new BoolOptional(true),
                  false,
                  true);
          int col = 0;
          for (int i = 0; i < params.size(); i++) {
            Tensor part = hr.get(i);
            int len = (int) params.get(i).numel();
            if (part.defined()) {
              double[] v = T.values(part);
              System.arraycopy(v, 0, m, r * n + col, len);
            }
            col += len;
          }
        }
      }
      h = new double[n * n];
      for (int r = 0; r < n; r++) {
        for (int c = 0; c < n; c++) {
          h[r * n + c] = 0.5 * (m[r * n + c] + m[c * n + r]);
        }
      }
      T_TensorTensor_T eig = torch.linalg_eigh(T.tensor(h, torch.ScalarType.Double, n, n));
      eigenvalues = T.values(eig.get0());
      eigenvectors = T.values(eig.get1());
    }
  }

  /** The diagonal block of rows and columns {@code [from, to)}. */
  double[] block(int from, int to) {
    int k = to - from;
    double[] b = new double[k * k];
    for (int r = 0; r < k; r++) {
      for (int c = 0; c < k; c++) {
        b[r * k + c] = h[(from + r) * n + from + c];
      }
    }
    return b;
  }

  /** Ascending eigenvalues of a symmetric k x k matrix (row-major). */
  static double[] eigenvalues(double[] matrix, int k) {
    try (PointerScope scope = new PointerScope()) {
      return T.values(torch.linalg_eigvalsh(T.tensor(matrix, torch.ScalarType.Double, k, k)));
    }
  }

  double trace(int from, int to) {
    double t = 0;
    for (int i = from; i < to; i++) {
      t += h[i * n + i];
    }
    return t;
  }

  double[] times(double[] v) {
    double[] out = new double[n];
    for (int r = 0; r < n; r++) {
      double s = 0;
      for (int c = 0; c < n; c++) {
        s += h[r * n + c] * v[c];
      }
      out[r] = s;
    }
    return out;
  }

  /** Eigenvector i (of the ascending order). */
  double[] eigenvector(int i) {
    double[] v = new double[n];
    for (int r = 0; r < n; r++) {
      v[r] = eigenvectors[r * n + i];
    }
    return v;
  }

  /** The k largest eigenvalues, largest first. */
  double[] largest(int k) {
    double[] out = new double[k];
    for (int j = 0; j < k; j++) {
      out[j] = eigenvalues[n - 1 - j];
    }
    return out;
  }

  /** The k eigenvalues of largest magnitude, by decreasing magnitude. */
  double[] largestMagnitude(int k) {
    List<Double> all = new ArrayList<>();
    for (double e : eigenvalues) {
      all.add(e);
    }
    all.sort((a, b) -> Double.compare(Math.abs(b), Math.abs(a)));
    double[] out = new double[k];
    for (int j = 0; j < k; j++) {
      out[j] = all.get(j);
    }
    return out;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
