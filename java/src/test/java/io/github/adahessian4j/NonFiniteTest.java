package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * NaN and infinity in gradients or Hessian estimates: skipped by default, or thrown, or ignored.
 */
class NonFiniteTest {

  /** A loss whose gradient in {@code y} is NaN when {@code poison} is true. */
  private static Tensor loss(Tensor x, Tensor y, boolean poison) {
    Tensor base = x.square().sum().add(torch.tanh(y).sum());
    if (!poison) {
      return base;
    }
    Tensor nan = T.tensor(new double[] {Double.NaN, 1, 1}, torch.ScalarType.Float, 3);
    return base.add(y.mul(nan).sum().mul(T.s(0.0)));
  }

  @Test
  void adaHessianSkipsAStepWithANanGradientAndCarriesOn() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = T.randomParam(1, torch.ScalarType.Float, 4);
      Tensor y = T.randomParam(2, torch.ScalarType.Float, 3);
      Tensor cx = T.param(T.values(x), torch.ScalarType.Float, 4);
      Tensor cy = T.param(T.values(y), torch.ScalarType.Float, 3);
      try (AdaHessian opt = AdaHessian.builder().lr(0.1).build(List.of(x, y));
          AdaHessian control = AdaHessian.builder().lr(0.1).build(List.of(cx, cy))) {
        opt.step(() -> loss(x, y, false));
        control.step(() -> loss(cx, cy, false));
        double[] before = T.values(x);
        opt.step(() -> loss(x, y, true));
        assertTrue(opt.lastStepSkipped());
        assertEquals(1, opt.skippedSteps());
        assertEquals(1, opt.stepCount(0));
        assertArrayEquals(before, T.values(x), 0.0);
        opt.step(() -> loss(x, y, false));
        control.step(() -> loss(cx, cy, false));
        assertFalse(opt.lastStepSkipped());
        assertArrayEquals(T.values(cx), T.values(x), 0.0);
        assertArrayEquals(T.values(cy), T.values(y), 0.0);
      }
    }
  }

  @Test
  void throwPolicyNamesTheParameter() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = T.randomParam(1, torch.ScalarType.Float, 4);
      Tensor y = T.randomParam(2, torch.ScalarType.Float, 3);
      try (AdaHessian opt = AdaHessian.builder().build(List.of(x, y))) {
        opt.setNonFinitePolicy(NonFinitePolicy.THROW);
        double[] before = T.values(y);
        OptimizerException e =
            assertThrows(OptimizerException.class, () -> opt.step(() -> loss(x, y, true)));
        assertEquals(
            "AdaHessian step failed: parameter 1 (group 0, index 1, shape [3]): its gradient "
                + "holds NaN or infinity; nothing was changed",
            e.getMessage());
        assertArrayEquals(before, T.values(y), 0.0);
        assertEquals(0, opt.stepCount(1));
      }
    }
  }

  @Test
  void ignorePolicyLetsNanThrough() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = T.randomParam(1, torch.ScalarType.Float, 4);
      Tensor y = T.randomParam(2, torch.ScalarType.Float, 3);
      try (Adam opt = Adam.builder().build(List.of(x, y))) {
        opt.setNonFinitePolicy(NonFinitePolicy.IGNORE);
        loss(x, y, true).backward();
        opt.step();
        assertTrue(Double.isNaN(T.values(y)[0]));
        assertEquals(0, opt.skippedSteps());
      }
    }
  }

  @Test
  void adamSkipsInfiniteGradients() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = T.randomParam(1, torch.ScalarType.Float, 4);
      try (Adam opt = Adam.builder().build(List.of(x))) {
        x.mul(T.tensor(new double[] {1, Double.POSITIVE_INFINITY, 1, 1}, torch.ScalarType.Float, 4))
            .sum()
            .backward();
        double[] before = T.values(x);
        opt.step();
        assertTrue(opt.lastStepSkipped());
        assertArrayEquals(before, T.values(x), 0.0);
        assertEquals(0, opt.stepCount(0));
      }
    }
  }

  /**
   * A loss scaled by 1024 (a power of two, so scaling is exact) with lossScale 1024 steps as the
   * plain loss.
   */
  @Test
  void lossScaleIsUndoneBeforeTheUpdate() {
    try (PointerScope scope = new PointerScope()) {
      TestModel scaled = new TestModel(torch.ScalarType.Float, 4);
      TestModel plain = new TestModel(torch.ScalarType.Float, 4);
      try (AdaHessian a = AdaHessian.builder().lr(0.05).build(scaled.params);
          AdaHessian b = AdaHessian.builder().lr(0.05).build(plain.params)) {
        a.setLossScale(1024);
        for (int i = 0; i < 5; i++) {
          a.step(() -> scaled.loss().mul(T.s(1024)));
          b.step(plain::loss);
        }
      }
      for (int i = 0; i < scaled.params.size(); i++) {
        T.assertClose(
            "parameter " + i,
            T.values(scaled.params.get(i)),
            T.values(plain.params.get(i)),
            1e-6,
            1e-7);
      }
    }
  }
}
