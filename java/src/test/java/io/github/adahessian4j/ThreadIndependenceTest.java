package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.adahessian4j.nativecore.ah4j;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The fused steps give bit-identical results with 1 and 2 threads and with every instruction set of
 * the CPU loops (the x86-64 baseline, AVX2, AVX-512: {@code ah4j_cpu_isa}). The parameters are
 * large enough (about 100k elements each; float32, float64, float16, bfloat16) for the core to
 * split them across threads, and the loss is element-wise, so libtorch's own reductions cannot make
 * the gradients thread-dependent.
 */
class ThreadIndependenceTest {

  private static Tensor loss(List<Tensor> params) {
    Tensor total = null;
    for (Tensor p : params) {
      Tensor term = torch.tanh(p).square().add(p.square().mul(T.s(0.1))).sum();
      total = total == null ? term : total.add(term);
    }
    return total;
  }

  private static double[][] run(int threads, int isa, Function<List<Tensor>, Runnable> stepper) {
    int before = torch.get_num_threads();
    int beforeIsa = ah4j.ah4j_cpu_isa(-1);
    torch.set_num_threads(threads);
    assertEquals(isa, ah4j.ah4j_cpu_isa(isa));
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> params =
          List.of(
              T.randomParam(1, torch.ScalarType.Float, 100_000),
              T.randomParam(2, torch.ScalarType.Float, 250, 400),
              T.randomParam(3, torch.ScalarType.Double, 10, 10, 1000),
              T.randomParam(4, torch.ScalarType.Half, 70_001),
              T.randomParam(5, torch.ScalarType.BFloat16, 300, 301));
      Runnable step = stepper.apply(params);
      for (int i = 0; i < 5; i++) {
        step.run();
      }
      double[][] out = new double[params.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = T.values(params.get(i));
      }
      return out;
    } finally {
      torch.set_num_threads(before);
      ah4j.ah4j_cpu_isa(beforeIsa);
    }
  }

  private static void assertSameForOneAndTwoThreads(Function<List<Tensor>, Runnable> stepper) {
    NativeCore.load();
    int best = ah4j.ah4j_cpu_isa(-1);
    double[][] baseline = run(1, 0, stepper);
    for (int[] config : new int[][] {{2, 0}, {1, best}, {2, best}, {2, Math.min(1, best)}}) {
      double[][] other = run(config[0], config[1], stepper);
      for (int i = 0; i < baseline.length; i++) {
        assertArrayEquals(
            baseline[i],
            other[i],
            0.0,
            "parameter "
                + i
                + " differs between 1 thread"
                + " with the baseline instruction set and "
                + config[0]
                + " with set "
                + config[1]);
      }
    }
  }

  @Test
  void adaHessian() {
    assertSameForOneAndTwoThreads(
        params -> {
          AdaHessian opt =
              AdaHessian.builder()
                  .lr(0.1)
                  .weightDecay(0.01)
                  .nSamples(2)
                  .blockAveraging(BlockAveraging.INSTRUCTION)
                  .build(params);
          return () -> opt.step(() -> loss(params));
        });
  }

  @Test
  void adamW() {
    assertSameForOneAndTwoThreads(
        params -> {
          AdamW opt = AdamW.builder().lr(0.01).amsgrad(true).build(params);
          return () -> opt.step(() -> loss(params));
        });
  }
}
