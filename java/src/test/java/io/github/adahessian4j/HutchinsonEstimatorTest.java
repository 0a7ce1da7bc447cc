package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class HutchinsonEstimatorTest {

  /** loss = 1/2 x^T A x + c * sum(x^3)... here 1/2 sum a_i x_i^2: H = diag(a), exact with any z. */
  @Test
  void diagonalHessianIsExactWithOneSample() {
    try (PointerScope scope = new PointerScope()) {
      double[] a = {3.0, -2.0, 0.5, 7.0, 0.0, 1.25};
      Tensor x = T.param(new double[] {1, 2, 3, 4, 5, 6}, torch.ScalarType.Double, 6);
      Tensor av = T.tensor(a, torch.ScalarType.Double, 6);
      Tensor loss = x.mul(x).mul(av).sum().mul(T.s(0.5));
      List<Tensor> diag = new HutchinsonEstimator(42).hessianDiagonal(loss, List.of(x), 1);
      T.assertClose("diag", T.values(diag.get(0)), a, 0, 1e-12);
    }
  }

  /**
   * Dense symmetric A: E[z * Az] = diag(A); one sample's error in entry i is sum_{j != i} A_ij z_i
   * z_j, of variance s_i^2 = sum_{j != i} A_ij^2, so the mean of n samples has standard deviation
   * s_i / sqrt(n). Checked at 5 standard deviations.
   */
  @Test
  void denseHessianDiagonalWithinSamplingError() {
    try (PointerScope scope = new PointerScope()) {
      int d = 8;
      int n = 400;
      java.util.Random r = new java.util.Random(7);
      double[][] m = new double[d][d];
      for (int i = 0; i < d; i++) {
        for (int j = 0; j <= i; j++) {
          m[i][j] = m[j][i] = r.nextDouble() * 2 - 1;
        }
      }
      double[] flat = new double[d * d];
      for (int i = 0; i < d; i++) {
        System.arraycopy(m[i], 0, flat, i * d, d);
      }
      Tensor A = T.tensor(flat, torch.ScalarType.Double, d, d);
      Tensor x = T.randomParam(3, torch.ScalarType.Double, d);
      Tensor loss = torch.dot(x, torch.mv(A, x)).mul(T.s(0.5));
      double[] est =
          T.values(new HutchinsonEstimator(1).hessianDiagonal(loss, List.of(x), n).get(0));
      for (int i = 0; i < d; i++) {
        double var = 0;
        for (int j = 0; j < d; j++) {
          if (j != i) {
            var += m[i][j] * m[i][j];
          }
        }
        double tol = 5 * Math.sqrt(var / n);
        assertTrue(
            Math.abs(est[i] - m[i][i]) <= tol,
            "entry " + i + ": " + est[i] + " vs " + m[i][i] + " (tolerance " + tol + ")");
      }
    }
  }

  /** tr(H) of the quadratic with diagonal A is sum(a) exactly. */
  @Test
  void traceOfDiagonalQuadratic() {
    try (PointerScope scope = new PointerScope()) {
      double[] a = {1.5, 2.5, -1.0, 4.0};
      Tensor x = T.randomParam(5, torch.ScalarType.Float, 2, 2);
      Tensor loss = x.mul(x).mul(T.tensor(a, torch.ScalarType.Float, 2, 2)).sum().mul(T.s(0.5));
      assertEquals(7.0, new HutchinsonEstimator(9).trace(loss, List.of(x), 3), 1e-5);
    }
  }

  /** The estimator's probes are the generator's documented ones, for any parameter index. */
  @Test
  void probesFollowTheDocumentedGenerator() {
    try (PointerScope scope = new PointerScope()) {
      Tensor unused = T.randomParam(1, torch.ScalarType.Float, 3);
      Tensor x = T.randomParam(2, torch.ScalarType.Double, 200);
      // loss = 1/2 sum x_i^2 * w_i with w_i = i + 1; diag exact; z itself is visible through a
      // non-diagonal coupling loss: L = x_0 * sum(x) gives Hz = (sum z + z_0) e_0 + z_0 (1 - e_0)
      Tensor loss = x.select(0, 0).mul(x.sum()).add(unused.sum().mul(T.s(0.0)));
      HutchinsonEstimator estimator = new HutchinsonEstimator(1234);
      double[] est = T.values(estimator.hessianDiagonal(loss, List.of(unused, x), 1).get(1));
      double[] z = ReferenceProbes.rademacher(1234, 0, 1, 200);
      double sum = 0;
      for (double v : z) {
        sum += v;
      }
      double[] expected = new double[200];
      expected[0] = z[0] * (sum + z[0]);
      for (int i = 1; i < 200; i++) {
        expected[i] = z[i] * z[0];
      }
      T.assertClose("z * Hz", est, expected, 0, 1e-12);
      assertEquals(1, estimator.counter());
    }
  }
}
