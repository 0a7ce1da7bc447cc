package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The fused steps give bit-identical results with 1 and 2 threads. The parameters are large
 * enough (3 x 100k elements) for the core to split them across threads, and the loss is
 * element-wise, so libtorch's own reductions cannot make the gradients thread-dependent.
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

  private static double[][] run(int threads, Function<List<Tensor>, Runnable> stepper) {
    int before = torch.get_num_threads();
    torch.set_num_threads(threads);
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> params = List.of(
          T.randomParam(1, torch.ScalarType.Float, 100_000),
          T.randomParam(2, torch.ScalarType.Float, 250, 400),
          T.randomParam(3, torch.ScalarType.Double, 10, 10, 1000));
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
    }
  }

  private static void assertSameForOneAndTwoThreads(Function<List<Tensor>, Runnable> stepper) {
    double[][] one = run(1, stepper);
    double[][] two = run(2, stepper);
    for (int i = 0; i < one.length; i++) {
      assertArrayEquals(one[i], two[i], 0.0, "parameter " + i + " differs between 1 and 2 threads");
    }
  }

  @Test
  void adaHessian() {
    assertSameForOneAndTwoThreads(params -> {
      AdaHessian opt = AdaHessian.builder().lr(0.1).weightDecay(0.01).nSamples(2)
          .blockAveraging(BlockAveraging.INSTRUCTION).build(params);
      return () -> opt.step(() -> loss(params));
    });
  }

  @Test
  void adamW() {
    assertSameForOneAndTwoThreads(params -> {
      AdamW opt = AdamW.builder().lr(0.01).amsgrad(true).build(params);
      return () -> opt.step(() -> {
        opt.zeroGrad();
        Tensor l = loss(params);
        l.backward();
        return l;
      });
    });
  }
}
