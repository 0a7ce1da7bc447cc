package io.github.adahessian4j;

import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bfloat16 and float16 parameters step in float32 with float32 state, then round to their type: 10
 * steps track a float32 run from the same start whose parameters are rounded to the half type after
 * every step. The loss {@code sum(a p^2) / 2} with powers of two for a has gradients and Hessian
 * products that the half type holds exactly, so both runs feed the same numbers to the same float32
 * update and may differ by at most {@value #ULPS} ulp of the half type (where the two kernels round
 * a float32 operation differently; here they agree bit for bit). The weight decay is large (each
 * step shrinks the parameters by 2.5%, several bfloat16 ulps), so a half path that dropped it
 * fails.
 */
class HalfPrecisionTest {
  private static final int STEPS = 10;
  private static final double ULPS = 1;

  private static Tensor loss(Tensor p, Tensor a) {
    return p.square().mul(a).sum().mul(T.s(0.5));
  }

  /** Rounds float32 {@code p} in place to the nearest value of {@code half}. */
  private static void roundTo(Tensor p, torch.ScalarType half) {
    Tensor rounded = p.to(half).to(torch.ScalarType.Float);
    p.detach().copy_(rounded);
  }

  /**
   * Runs {@link #STEPS} steps of the optimizer {@code make} builds on a {@code half} parameter and
   * on a float32 one rounded to {@code half} after every step; asserts they agree.
   */
  private static void tracksRoundedFloat32(
      String what,
      torch.ScalarType half,
      double[] start,
      double[] curvature,
      Function<List<Tensor>, Optimizer> make) {
    int n = start.length;
    Tensor x16 = T.param(start, half, n);
    Tensor x32 = T.param(start, torch.ScalarType.Float, n);
    Tensor a16 = T.tensor(curvature, half, n);
    Tensor a32 = T.tensor(curvature, torch.ScalarType.Float, n);
    try (Optimizer o16 = make.apply(List.of(x16));
        Optimizer o32 = make.apply(List.of(x32))) {
      for (int i = 0; i < STEPS; i++) {
        o16.step(() -> loss(x16, a16));
        o32.step(() -> loss(x32, a32));
        roundTo(x32, half);
      }
    }
    // One ulp of the half type is 2^-7 (bfloat16) or 2^-10 (float16) relative to |p|.
    double ulp = half.value == torch.ScalarType.BFloat16.value ? 0x1p-7 : 0x1p-10;
    T.assertClose(what, T.values(x16), T.values(x32), ULPS * ulp, 1e-6);
  }

  @ParameterizedTest
  @ValueSource(strings = {"BFloat16", "Half"})
  void tracksFloat32RoundedEachStep(String type) {
    torch.ScalarType half = torch.ScalarType.valueOf(type);
    try (PointerScope scope = new PointerScope()) {
      double[] start = T.values(T.randomParam(8, half, 64));
      double[] curvature = new double[64];
      for (int i = 0; i < 64; i++) {
        curvature[i] = Math.scalb(1.0, i % 4 - 1); // 0.5, 1, 2, 4
      }
      tracksRoundedFloat32(
          type + " AdaHessian",
          half,
          start,
          curvature,
          p -> AdaHessian.builder().lr(0.05).weightDecay(0.5).build(p));
      tracksRoundedFloat32(
          type + " AdamW",
          half,
          start,
          curvature,
          p -> AdamW.builder().lr(0.05).weightDecay(0.5).build(p));
    }
  }
}
