package io.github.adahessian4j;

import java.nio.DoubleBuffer;
import java.util.Arrays;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Test helpers: tensors from Java arrays and back. */
final class T {
  private T() {}

  static Tensor tensor(double[] data, torch.ScalarType dtype, long... shape) {
    Tensor t = AbstractTensor.create(data, shape);
    return dtype == torch.ScalarType.Double ? t : t.to(dtype);
  }

  static Tensor param(double[] data, torch.ScalarType dtype, long... shape) {
    Tensor t = tensor(data, dtype, shape);
    t.requires_grad_(true); // returns a non-owning reference: keep the owner
    return t;
  }

  /** A parameter of uniform(-1, 1) values from a java.util.Random seeded with {@code seed}. */
  static Tensor randomParam(long seed, torch.ScalarType dtype, long... shape) {
    java.util.Random r = new java.util.Random(seed);
    double[] data = new double[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
    for (int i = 0; i < data.length; i++) {
      data[i] = r.nextDouble() * 2 - 1;
    }
    return param(data, dtype, shape);
  }

  static double[] values(Tensor t) {
    Tensor d = t.detach().to(torch.ScalarType.Double).contiguous();
    double[] out = new double[(int) d.numel()];
    if (out.length > 0) { // an empty tensor has no buffer
      DoubleBuffer b = d.createBuffer();
      b.get(out);
    }
    return out;
  }

  static Scalar s(double v) {
    return new Scalar(v);
  }

  /** Largest |a - b| / (atol + rtol |b|) over all elements: <= 1 means allclose. */
  static double closeness(double[] a, double[] b, double rtol, double atol) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      double r = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
      if (!(r <= worst)) {
        worst = Double.isNaN(r) ? Double.POSITIVE_INFINITY : r;
      }
    }
    return worst;
  }

  static void assertClose(
      String what, double[] actual, double[] expected, double rtol, double atol) {
    double c = closeness(actual, expected, rtol, atol);
    if (!(c <= 1)) {
      int worstAt = 0;
      double worst = -1;
      for (int i = 0; i < actual.length; i++) {
        double r = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
        if (!(r <= worst)) {
          worst = r;
          worstAt = i;
        }
      }
      throw new AssertionError(
          what
              + ": not close (rtol "
              + rtol
              + ", atol "
              + atol
              + "): element "
              + worstAt
              + " is "
              + actual[worstAt]
              + ", expected "
              + expected[worstAt]);
    }
  }
}
