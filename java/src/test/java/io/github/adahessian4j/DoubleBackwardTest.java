package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Context;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Double backward through attention: every path that differentiates a closure's graph twice runs it
 * with libtorch's math attention and gives the user's attention settings back, also across threads;
 * an op libtorch cannot differentiate twice is refused by name, and nothing changes.
 */
class DoubleBackwardTest {
  private static final torch.ScalarType F64 = torch.ScalarType.Double;
  private static final boolean[] MATH_ONLY = {false, false, false, false, true};
  private static final boolean[] LIBTORCH_DEFAULT = {true, true, true, true, true};

  /** libtorch's attention switches: flash, memory-efficient, cuDNN, overrideable, math. */
  static boolean[] switches() {
    Context c = torch.globalContext();
    return new boolean[] {
      c.userEnabledFlashSDP(),
      c.userEnabledMemEfficientSDP(),
      c.userEnabledCuDNNSDP(),
      c.userEnabledOverrideableSDP(),
      c.userEnabledMathSDP()
    };
  }

  private static void setSwitches(boolean... s) {
    Context c = torch.globalContext();
    c.setSDPUseFlash(s[0]);
    c.setSDPUseMemEfficient(s[1]);
    c.setSDPUseCuDNN(s[2]);
    c.setSDPUseOverrideable(s[3]);
    c.setSDPUseMath(s[4]);
  }

  @AfterEach
  void libtorchDefaults() {
    setSwitches(LIBTORCH_DEFAULT);
  }

  /** Three attention projections over a fixed (batch, heads, length, dim) input. */
  private static final class Attention {
    final Tensor x;
    final List<Tensor> params = new ArrayList<>();

    Attention(long seed) {
      x = T.randomParam(seed, F64, 2, 2, 5, 4);
      x.requires_grad_(false);
      for (int i = 1; i <= 3; i++) {
        params.add(T.randomParam(seed + i, F64, 4, 4));
      }
    }

    Tensor loss() {
      return LayerHessianTest.attentionLoss(x, params.get(0), params.get(1), params.get(2), true);
    }
  }

  private static double[][] snapshot(List<Tensor> p) {
    double[][] v = new double[p.size()][];
    for (int i = 0; i < p.size(); i++) {
      v[i] = T.values(p.get(i));
    }
    return v;
  }

  @Test
  void adaHessianStepsWhereLibtorchsOwnAttentionHasNoDoubleBackward() {
    try (PointerScope scope = new PointerScope()) {
      Attention m = new Attention(1);
      TensorVector ps = new TensorVector(m.params.toArray(new Tensor[0]));
      TensorVector g =
          torch.grad(
              new TensorVector(m.loss()),
              ps,
              new TensorVector(),
              new BoolOptional(true),
              true,
              true);
      RuntimeException raw =
          assertThrows(
              RuntimeException.class,
              () ->
                  torch.grad(
                      new TensorVector(g.get(0)),
                      ps,
                      new TensorVector(torch.ones_like(g.get(0))),
                      new BoolOptional(false),
                      false,
                      true));
      assertTrue(
          raw.getMessage().contains("_scaled_dot_product_flash_attention_for_cpu_backward"),
          raw.getMessage());

      double[][] before = snapshot(m.params);
      try (AdaHessian opt = AdaHessian.builder().lr(0.01).build(m.params)) {
        for (int s = 0; s < 3; s++) {
          opt.step(m::loss);
        }
        assertEquals(3, opt.stepCount(0));
      }
      assertNotEquals(before[0][0], T.values(m.params.get(0))[0]);
      assertArrayEquals(LIBTORCH_DEFAULT, switches(), "the user's settings are back");
    }
  }

  @Test
  void theUsersSettingsComeBackAlsoWhenTheClosureThrows() {
    boolean[] user = {true, false, true, false, false}; // math attention off, too
    try (PointerScope scope = new PointerScope()) {
      Attention m = new Attention(2);
      try (AdaHessian opt = AdaHessian.builder().lr(0.01).build(m.params)) {
        setSwitches(user);
        List<boolean[]> seen = new ArrayList<>();
        IllegalStateException e =
            assertThrows(
                IllegalStateException.class,
                () ->
                    opt.step(
                        () -> {
                          seen.add(switches());
                          throw new IllegalStateException("the closure failed");
                        }));
        assertEquals("the closure failed", e.getMessage());
        assertArrayEquals(MATH_ONLY, seen.get(0), "inside the closure: math attention only");
        assertArrayEquals(user, switches(), "after a closure that threw");

        opt.step(m::loss); // math attention on for the step although the user had it off
        assertArrayEquals(user, switches(), "after a step");
      }
    }
  }

  /**
   * The closures whose graphs are differentiated twice run with math attention; those
   * differentiated once (the split step's gradient loss, accumulation parts without the Hessian,
   * steps where no estimate is due) keep the user's kernels.
   */
  @Test
  void onlyTheClosuresDifferentiatedTwiceRunWithMathAttention() {
    try (PointerScope scope = new PointerScope()) {
      Attention m = new Attention(3);
      List<String> seen = new ArrayList<>();
      Supplier<Tensor> gradientLoss =
          () -> {
            seen.add("gradient " + switches()[0]);
            return m.loss();
          };
      Supplier<Tensor> hessianLoss =
          () -> {
            seen.add("hessian " + switches()[0]);
            return m.loss();
          };
      try (AdaHessian opt = AdaHessian.builder().lr(0.01).updateEach(2).build(m.params)) {
        opt.step(hessianLoss); // step 1: an estimate is due
        opt.step(gradientLoss); // step 2: none is
        opt.step(gradientLoss, hessianLoss); // step 3: due
        opt.step(
            3,
            1,
            b -> {
              seen.add("part " + b + " " + switches()[0]);
              return m.loss();
            }); // step 4: not due, no part needs it
        opt.step(
            3,
            1,
            b -> {
              seen.add("part " + b + " " + switches()[0]);
              return m.loss();
            }); // step 5: due for part 0 only
      }
      assertEquals(
          List.of(
              "hessian false",
              "gradient true",
              "gradient true",
              "hessian false",
              "part 0 true",
              "part 1 true",
              "part 2 true",
              "part 0 false",
              "part 1 true",
              "part 2 true"),
          seen);
      assertArrayEquals(LIBTORCH_DEFAULT, switches());
    }
  }

  @Test
  void hutchinsonEstimatorAndHessianAnalysisRunClosuresWithMathAttention() {
    try (PointerScope scope = new PointerScope()) {
      Attention m = new Attention(4);
      HutchinsonEstimator estimator = new HutchinsonEstimator(5);
      List<Tensor> diag = estimator.hessianDiagonal(m::loss, m.params, 2);
      assertEquals(3, diag.size());
      assertTrue(Double.isFinite(estimator.trace(m::loss, m.params, 1)));
      assertEquals(3, estimator.counter());

      OptimizerException refused =
          assertThrows(
              OptimizerException.class, () -> estimator.hessianDiagonal(m.loss(), m.params, 1));
      assertTrue(
          refused
              .getMessage()
              .startsWith(
                  "Hutchinson estimate's Hessian-vector product refused: libtorch cannot"
                      + " differentiate aten::_scaled_dot_product_flash_attention_for_cpu_backward"),
          refused.getMessage());
      assertTrue(refused.getMessage().contains("math attention"), refused.getMessage());
      assertEquals(3, estimator.counter(), "a refused estimate draws no probe");

      try (HessianAnalysis analysis =
          HessianAnalysis.builder().params(m.params).loss(m::loss).build()) {
        List<Tensor> v = new ArrayList<>();
        for (Tensor p : m.params) {
          v.add(torch.ones_like(p));
        }
        assertEquals(3, analysis.hvp(v).size());
      }
      assertArrayEquals(LIBTORCH_DEFAULT, switches());
    }
  }

  /**
   * The switches are process-wide: two steps on two threads overlap, the first ends while the
   * second is still inside its closure. The second must still see math attention (a guard that
   * restored what it saw on entry would switch flash back on under it), and the user's settings
   * must be back once both have ended (it would leave them off).
   */
  @Test
  void overlappingStepsOnTwoThreadsKeepMathAttentionUntilTheLastEnds() throws Exception {
    Attention first = new Attention(6);
    Attention second = new Attention(7);
    CountDownLatch firstInside = new CountDownLatch(1);
    CountDownLatch secondInside = new CountDownLatch(1);
    CountDownLatch firstDone = new CountDownLatch(1);
    List<boolean[]> seenBySecond = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> a =
          pool.submit(
              () -> {
                try (PointerScope scope = new PointerScope();
                    AdaHessian opt = AdaHessian.builder().lr(0.01).build(first.params)) {
                  opt.step(
                      () -> {
                        firstInside.countDown();
                        await(secondInside);
                        return first.loss();
                      });
                } finally {
                  firstDone.countDown();
                }
                return null;
              });
      Future<?> b =
          pool.submit(
              () -> {
                try (PointerScope scope = new PointerScope();
                    AdaHessian opt = AdaHessian.builder().lr(0.01).build(second.params)) {
                  opt.step(
                      () -> {
                        await(firstInside);
                        secondInside.countDown();
                        await(firstDone);
                        seenBySecond.add(switches());
                        return second.loss();
                      });
                }
                return null;
              });
      a.get(120, TimeUnit.SECONDS);
      b.get(120, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertArrayEquals(MATH_ONLY, seenBySecond.get(0), "after the first step ended");
    assertArrayEquals(LIBTORCH_DEFAULT, switches(), "after both");
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(60, TimeUnit.SECONDS)) {
        throw new AssertionError("the other thread did not arrive");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Eight steps of the optimizer that {@code build} makes for an attention model. */
  private static double[][] train(long seed, Function<List<Tensor>, Optimizer> build) {
    try (PointerScope scope = new PointerScope()) {
      Attention m = new Attention(seed);
      try (Optimizer opt = build.apply(m.params)) {
        for (int s = 0; s < 8; s++) {
          try (PointerScope step = new PointerScope()) {
            opt.step(m::loss);
          }
        }
      }
      return snapshot(m.params);
    }
  }

  /**
   * A user's Adam on another thread, with attention in its model, while AdaHessian steps: Adam's
   * forward may run libtorch's math attention while an AdaHessian closure runs, which computes the
   * same function: its result equals its run alone up to rounding, and AdaHessian's is the same to
   * the bit.
   */
  @Test
  void adamOnAnotherThreadTrainsAsItDoesAlone() throws Exception {
    Function<List<Tensor>, Optimizer> adaHessian = p -> AdaHessian.builder().lr(0.01).build(p);
    Function<List<Tensor>, Optimizer> adam = p -> Adam.builder().lr(0.01).build(p);
    double[][] adaHessianAlone = train(8, adaHessian);
    double[][] adamAlone = train(9, adam);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<double[][]> first = pool.submit(() -> train(8, adaHessian));
      Future<double[][]> second = pool.submit(() -> train(9, adam));
      double[][] a = first.get(120, TimeUnit.SECONDS);
      double[][] b = second.get(120, TimeUnit.SECONDS);
      for (int i = 0; i < a.length; i++) {
        assertArrayEquals(adaHessianAlone[i], a[i], 0.0, "AdaHessian, parameter " + i);
        T.assertClose("Adam, parameter " + i, b[i], adamAlone[i], 1e-12, 1e-12);
      }
    } finally {
      pool.shutdownNow();
    }
    assertArrayEquals(LIBTORCH_DEFAULT, switches());
  }

  /** grid_sample: its backward has no derivative in libtorch ("derivative for aten::..."). */
  private static Tensor gridSampleLoss(Tensor image, Tensor grid) {
    return torch.tanh(torch.grid_sampler(image, grid, 0, 0, false)).square().sum();
  }

  @Test
  void anOpWithoutDoubleBackwardIsRefusedByNameAndNothingChanges() {
    try (PointerScope scope = new PointerScope()) {
      Tensor image = T.randomParam(10, F64, 1, 2, 4, 4);
      image.requires_grad_(false);
      Tensor grid = T.randomParam(11, F64, 1, 3, 3, 2);
      Tensor w = T.randomParam(12, F64, 2, 2);
      List<Tensor> params = List.of(grid, w);
      double[][] before = snapshot(params);
      try (AdaHessian opt = AdaHessian.builder().lr(0.01).build(params)) {
        OptimizerException e =
            assertThrows(
                OptimizerException.class,
                () ->
                    opt.step(
                        () -> gridSampleLoss(image, grid).add(torch.matmul(w, w).square().sum())));
        assertEquals(
            "AdaHessian's Hessian-vector product refused: libtorch cannot differentiate"
                + " aten::grid_sampler_2d_backward (it has no derivative formula there), and the"
                + " Hessian-vector product differentiates the loss's graph twice. This is a limit"
                + " of libtorch, not of the model: write that part of the loss with ops libtorch"
                + " differentiates twice, or leave the parameters it reaches to a first-order"
                + " optimizer such as Adam; nothing was changed",
            e.getMessage());
        for (int i = 0; i < params.size(); i++) {
          assertArrayEquals(before[i], T.values(params.get(i)), 0.0, "parameter " + i);
          assertEquals(0, opt.stepCount(i));
          assertNull(opt.stateTensor("exp_avg", i));
        }
        assertEquals(0, opt.probeCounter());

        opt.step(() -> torch.matmul(w, w).square().sum()); // the optimizer is still usable
        assertEquals(1, opt.stepCount(1));
      }
      try (Adam adam = Adam.builder().lr(0.01).build(List.of(grid))) {
        adam.step(() -> gridSampleLoss(image, grid)); // first order is fine
      }
    }
  }

  /** libtorch's other phrasing, from a derivative formula: "the derivative for 'op' is ...". */
  @Test
  void hessianAnalysisRefusesAnOpWithoutDoubleBackwardByName() {
    try (PointerScope scope = new PointerScope()) {
      Tensor image = T.randomParam(10, F64, 1, 2, 4, 4);
      image.requires_grad_(false);
      Tensor grid = T.randomParam(11, F64, 1, 3, 3, 2);
      try (HessianAnalysis analysis =
          HessianAnalysis.builder()
              .params(List.of(grid))
              .loss(() -> gridSampleLoss(image, grid))
              .build()) {
        OptimizerException e =
            assertThrows(
                OptimizerException.class, () -> analysis.hvp(List.of(torch.ones_like(grid))));
        assertTrue(
            e.getMessage()
                .startsWith(
                    "Hessian analysis's Hessian-vector product refused: libtorch cannot"
                        + " differentiate aten::grid_sampler_2d_backward"),
            e.getMessage());
      }
    }
  }

  @Test
  void theOtherPhrasingIsParsedToo() {
    try (PointerScope scope = new PointerScope()) {
      Tensor a = T.randomParam(13, F64, 6, 3);
      Tensor b = T.randomParam(14, F64, 4, 3);
      b.requires_grad_(false);
      HutchinsonEstimator estimator = new HutchinsonEstimator(15);
      OptimizerException e =
          assertThrows(
              OptimizerException.class,
              () ->
                  estimator.hessianDiagonal(
                      () -> torch.cdist(a, b, 2.0, new LongOptional()).square().sum(),
                      List.of(a),
                      1));
      assertTrue(
          e.getMessage()
              .startsWith(
                  "Hutchinson estimate's Hessian-vector product refused: libtorch cannot"
                      + " differentiate _cdist_backward "),
          e.getMessage());
      assertEquals(0, estimator.counter());
    }
  }
}
