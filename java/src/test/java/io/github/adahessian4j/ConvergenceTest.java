package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The optimizers actually optimise: Rosenbrock's valley and a small MLP classifier. */
class ConvergenceTest {

  private static Tensor rosenbrock(Tensor x, Tensor y) {
    Tensor a = x.neg().add(T.s(1)).square();
    Tensor b = y.sub(x.square()).square().mul(T.s(100));
    return a.add(b);
  }

  private static double[] minimiseRosenbrock(
      java.util.function.Function<List<Tensor>, Runnable> stepper, int steps) {
    Tensor x = T.param(new double[] {-1.5}, torch.ScalarType.Double);
    Tensor y = T.param(new double[] {2.0}, torch.ScalarType.Double);
    Runnable step = stepper.apply(List.of(x, y));
    for (int i = 0; i < steps; i++) {
      step.run();
    }
    return new double[] {T.values(x)[0], T.values(y)[0]};
  }

  /**
   * On this 2-D problem AdaHessian's step lr * g / |D| is a (noisy) diagonal Newton step at lr 1;
   * the Hutchinson estimate |H_xx + H_xy z_x z_y| overstates the curvature in the valley, so it
   * walks the valley slowly.
   */
  @Test
  void adaHessianFindsRosenbrockMinimum() {
    try (PointerScope scope = new PointerScope()) {
      double[] xy =
          minimiseRosenbrock(
              params -> {
                AdaHessian opt = AdaHessian.builder().lr(1.0).build(params);
                return () -> opt.step(() -> rosenbrock(params.get(0), params.get(1)));
              },
              10000);
      assertTrue(
          Math.abs(xy[0] - 1) < 1e-2 && Math.abs(xy[1] - 1) < 2e-2,
          "AdaHessian ended at (" + xy[0] + ", " + xy[1] + "), not near (1, 1)");
    }
  }

  @Test
  void adamFindsRosenbrockMinimum() {
    try (PointerScope scope = new PointerScope()) {
      double[] xy =
          minimiseRosenbrock(
              params -> {
                Adam opt = Adam.builder().lr(0.02).build(params);
                return () -> opt.step(() -> rosenbrock(params.get(0), params.get(1)));
              },
              3000);
      assertTrue(
          Math.abs(xy[0] - 1) < 1e-2 && Math.abs(xy[1] - 1) < 2e-2,
          "Adam ended at (" + xy[0] + ", " + xy[1] + "), not near (1, 1)");
    }
  }

  /** Three Gaussian blobs in 4-D; an MLP 4-16-3 must classify at least 95% of them. */
  @Test
  void adaHessianTrainsAnMlpClassifier() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(3);
      int n = 300;
      Random r = new Random(3);
      double[] xs = new double[n * 4];
      long[] ys = new long[n];
      for (int i = 0; i < n; i++) {
        ys[i] = i % 3;
        for (int d = 0; d < 4; d++) {
          xs[i * 4 + d] = r.nextGaussian() * 0.7 + (d == ys[i] ? 2.0 : 0.0);
        }
      }
      Tensor x = T.tensor(xs, torch.ScalarType.Float, n, 4);
      Tensor y = org.bytedeco.pytorch.AbstractTensor.create(ys, n);
      Module model = new Module();
      LinearImpl l1 = model.register_module("l1", new LinearImpl(4, 16));
      LinearImpl l2 = model.register_module("l2", new LinearImpl(16, 3));
      try (AdaHessian opt = AdaHessian.builder().lr(0.1).build(model.parameters())) {
        for (int epoch = 0; epoch < 60; epoch++) {
          opt.step(() -> torch.cross_entropy_loss(l2.forward(torch.tanh(l1.forward(x))), y));
        }
      }
      Tensor predicted =
          torch.argmax(
              l2.forward(torch.tanh(l1.forward(x))),
              new org.bytedeco.pytorch.LongOptional(1),
              false);
      double accuracy = predicted.eq(y).to(torch.ScalarType.Double).mean().item_double();
      assertTrue(accuracy >= 0.95, "accuracy " + accuracy);
    }
  }
}
