package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link KrylovBasis}: rows made orthogonal with {@code subtractProjections} are orthonormal to
 * rounding, across the 32-row blocks, even when the vectors are nearly parallel.
 */
class KrylovBasisTest {
  private static final int DIM = 90;
  private static final int ROWS = 75; // three blocks, the last one partly filled

  private static double[] values(Tensor t) {
    Tensor c = t.contiguous();
    double[] out = new double[(int) c.numel()];
    ((java.nio.DoubleBuffer) c.createBuffer()).get(out);
    return out;
  }

  @Test
  void gramSchmidtTwiceGivesOrthonormalRows() {
    Random random = new Random(5);
    double[] common = new double[DIM];
    for (int j = 0; j < DIM; j++) {
      common[j] = random.nextGaussian();
    }
    try (PointerScope scope = new PointerScope();
        KrylovBasis basis = new KrylovBasis(DIM)) {
      for (int i = 0; i < ROWS; i++) {
        double[] v = new double[DIM];
        for (int j = 0; j < DIM; j++) {
          v[j] = common[j] + 1e-6 * random.nextGaussian(); // nearly parallel to the others
        }
        Tensor w = AbstractTensor.create(v, DIM);
        basis.subtractProjections(w, 2);
        double norm = Math.sqrt(HessianSpace.dot(w, w));
        basis.set(i, w.div_(new Scalar(norm)));
      }
      assertEquals(ROWS, basis.count);
      double worst = 0;
      for (int a = 0; a < ROWS; a++) {
        for (int b = 0; b <= a; b++) {
          double dot = HessianSpace.dot(basis.row(a), basis.row(b));
          worst = Math.max(worst, Math.abs(dot - (a == b ? 1 : 0)));
        }
      }
      assertTrue(worst < 1e-12, "max |V V^T - I| = " + worst);

      Tensor inSpan = basis.combine(new double[] {3, 0, -2});
      double[] expected =
          values(basis.row(0).mul(new Scalar(3)).sub(basis.row(2).mul(new Scalar(2))));
      assertArrayEquals(expected, values(inSpan), 1e-15, "combine");
      basis.subtractProjections(inSpan, 1);
      assertTrue(
          Math.sqrt(HessianSpace.dot(inSpan, inSpan)) < 1e-12,
          "a vector in the span projects to 0");
    }
  }

  @Test
  void setReplacesARowAndCloseEmpties() {
    try (PointerScope scope = new PointerScope();
        KrylovBasis basis = new KrylovBasis(4)) {
      basis.set(0, AbstractTensor.create(new double[] {1, 0, 0, 0}, 4));
      basis.set(1, AbstractTensor.create(new double[] {0, 1, 0, 0}, 4));
      basis.set(0, AbstractTensor.create(new double[] {0, 0, 1, 0}, 4));
      assertEquals(2, basis.count);
      assertArrayEquals(new double[] {0, 0, 1, 0}, values(basis.row(0)), 0);
      basis.close();
      assertEquals(0, basis.count);
    }
  }
}
