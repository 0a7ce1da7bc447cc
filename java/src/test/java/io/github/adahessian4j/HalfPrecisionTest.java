package io.github.adahessian4j;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bfloat16 and float16 parameters step in float32 with float32 state: after 10 steps they track a
 * float32 run from the same (rounded) start to within the half type's rounding of each step.
 */
class HalfPrecisionTest {

  private static Tensor loss(Tensor p, Tensor a) {
    return p.square().mul(a).sum().mul(T.s(0.5)).add(torch.tanh(p).sum());
  }

  @ParameterizedTest
  @ValueSource(strings = {"BFloat16", "Half"})
  void tracksFloat32(String type) {
    torch.ScalarType half = torch.ScalarType.valueOf(type);
    double tolerance = half.value == torch.ScalarType.BFloat16.value ? 3e-2 : 4e-3;
    try (PointerScope scope = new PointerScope()) {
      double[] start = T.values(T.randomParam(8, half, 64));
      double[] curvature = new double[64];
      for (int i = 0; i < 64; i++) {
        curvature[i] = 1 + i % 7;
      }
      Tensor x16 = T.param(start, half, 64);
      Tensor x32 = T.param(start, torch.ScalarType.Float, 64);
      Tensor a16 = T.tensor(curvature, half, 64);
      Tensor a32 = T.tensor(curvature, torch.ScalarType.Float, 64);
      try (AdaHessian h16 = AdaHessian.builder().lr(0.05).build(List.of(x16));
          AdaHessian h32 = AdaHessian.builder().lr(0.05).build(List.of(x32))) {
        for (int i = 0; i < 10; i++) {
          h16.step(() -> loss(x16, a16));
          h32.step(() -> loss(x32, a32));
        }
      }
      T.assertClose(type + " AdaHessian", T.values(x16), T.values(x32), tolerance, tolerance);

      Tensor y16 = T.param(start, half, 64);
      Tensor y32 = T.param(start, torch.ScalarType.Float, 64);
      try (AdamW w16 = AdamW.builder().lr(0.01).build(List.of(y16));
          AdamW w32 = AdamW.builder().lr(0.01).build(List.of(y32))) {
        for (int i = 0; i < 10; i++) {
          w16.step(() -> loss(y16, a16));
          w32.step(() -> loss(y32, a32));
        }
      }
      T.assertClose(type + " AdamW", T.values(y16), T.values(y32), tolerance, tolerance);
    }
  }
}
